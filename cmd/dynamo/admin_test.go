package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dynamokv/dynamo/api"
)

// GET /admin/local/{key} shows one replica's own copy: the same digest on
// every replica after a write all of them took, 404 on a node that holds
// no replica of the key.
func TestAdminLocalReadShowsEachReplica(t *testing.T) {
	c := startCluster(t, 4)
	mustPut(t, c.nodes[0], "k", "v", "", "w=3")
	st, err := status(c.nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	digests := map[string]bool{}
	replicas := 0
	for _, p := range c.nodes {
		resp, err := http.Get("http://" + p.http + api.LocalPrefix + "k")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !inPreferenceList(st, "k", p.id) {
			if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "holds no replica") {
				t.Fatalf("%s, not a replica: %d %s", p.id, resp.StatusCode, body)
			}
			continue
		}
		var lc api.LocalCopy
		if err := json.Unmarshal(body, &lc); resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("%s: %d %s", p.id, resp.StatusCode, body)
		}
		if lc.Node != p.id || len(lc.Versions) != 1 || string(lc.Versions[0].Value) != "v" || lc.Digest == "" {
			t.Fatalf("%s answered %+v", p.id, lc)
		}
		digests[lc.Digest] = true
		replicas++
	}
	if replicas != 3 || len(digests) != 1 {
		t.Fatalf("%d replicas with %d digests; want 3 with one", replicas, len(digests))
	}
}
