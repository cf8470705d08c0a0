package main

import (
	"bytes"
	"encoding/base64"
	"math/rand"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Nothing a client sends may crash a node: hostile HTTP requests and raw
// garbage on the peer port get errors, and the node keeps serving.
func TestHostileInputNeverCrashesANode(t *testing.T) {
	c := startCluster(t, 3, "--max-value", "4096")
	p := c.nodes[0]
	rng := rand.New(rand.NewSource(1))
	contexts := []string{
		"", "!!!", "AAAA", base64.RawURLEncoding.EncodeToString([]byte{0x91, 0x93, 0xa1}),
		base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xdc, 0xff, 0xff}, 100)),
		strings.Repeat("A", 10000),
	}
	keys := []string{"k", "%00%01", "a/b/../c", strings.Repeat("z", 2000), "%ff%fe", "?", "ключ"}
	methods := []string{"GET", "PUT", "DELETE", "POST", "HEAD", "OPTIONS", "PATCH"}
	queries := []string{"", "r=0", "w=-1", "r=99999999999999999999", "w=3&w=1", "r=%zz"}
	client := &http.Client{Timeout: 5 * time.Second}
	for i := 0; i < 300; i++ {
		body := make([]byte, rng.Intn(6000))
		rng.Read(body)
		url := "http://" + p.http + "/kv/" + keys[rng.Intn(len(keys))] + "?" + queries[rng.Intn(len(queries))]
		req, err := http.NewRequest(methods[rng.Intn(len(methods))], url, bytes.NewReader(body))
		if err != nil {
			continue // some combinations are not even valid URLs for the client
		}
		req.Header.Set("X-Dynamo-Context", contexts[rng.Intn(len(contexts))])
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d (%s %s): %v", i, req.Method, url, err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 && resp.StatusCode != 503 && resp.StatusCode != 504 {
			t.Fatalf("request %d (%s %s): %d", i, req.Method, url, resp.StatusCode)
		}
	}

	// Raw garbage on the peer port: random bytes, then a huge length.
	for i := 0; i < 20; i++ {
		conn, err := net.DialTimeout("tcp", p.peer, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		junk := make([]byte, rng.Intn(4096))
		rng.Read(junk)
		if i%2 == 0 {
			junk = append([]byte{0xff, 0xff, 0xff, 0xff}, junk...)
		}
		_, _ = conn.Write(junk)
		conn.Close()
	}

	mustPut(t, p, "still-alive", "yes", "", "")
	for _, n := range c.nodes {
		st, err := status(n)
		if err != nil {
			t.Fatalf("%s: %v", n.id, err)
		}
		if st.Panics != 0 {
			t.Errorf("%s recovered %d actor panics", n.id, st.Panics)
		}
	}
	if r := do(t, http.MethodGet, c.nodes[2], "still-alive", "", "", nil); r.code != http.StatusOK {
		t.Fatalf("after hostile input: %d %s", r.code, r.body)
	}
}
