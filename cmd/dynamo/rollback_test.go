package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/internal/files"
)

// A node restarted on a store rolled back to an earlier copy (a restored
// backup, a VM snapshot, power loss without --sync) no longer knows the
// last dot it issued. Had it kept its dot name, its next write would have
// reused that dot, and the replicas holding the acknowledged write under
// it would have kept only one of the two.
func TestRolledBackNodeLosesNoAcknowledgedWrite(t *testing.T) {
	c := startCluster(t, 3)
	n1 := c.nodes[0]
	mustPut(t, n1, "k", "before", "", "w=3")
	c.kill(n1)
	snapshot := filepath.Join(t.TempDir(), "n1")
	if err := files.CopyDir(n1.data, snapshot); err != nil {
		t.Fatal(err)
	}
	c.start(n1)
	c.waitAgreed(c.nodes...)
	mustPut(t, n1, "k", "acknowledged", "", "w=3")

	c.kill(n1)
	if err := os.RemoveAll(n1.data); err != nil {
		t.Fatal(err)
	}
	if err := files.CopyDir(snapshot, n1.data); err != nil {
		t.Fatal(err)
	}
	c.start(n1)
	c.waitAgreed(c.nodes...)
	mustPut(t, n1, "k", "next", "", "w=2")

	r := do(t, http.MethodGet, c.nodes[1], "k", "r=3", "", nil)
	var s api.Siblings
	if err := json.Unmarshal(r.body, &s); r.code != http.StatusMultipleChoices || err != nil {
		t.Fatalf("read: %d %s; want three siblings", r.code, r.body)
	}
	var got []string
	for _, v := range s.Siblings {
		got = append(got, string(v))
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"acknowledged", "before", "next"}) {
		t.Fatalf("siblings %q; want the acknowledged write kept beside before and next", got)
	}
}
