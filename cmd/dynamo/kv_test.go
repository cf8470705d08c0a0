package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/dynamokv/dynamo/api"
)

func TestFiveNodesWriteThroughOneReadThroughEachOther(t *testing.T) {
	c := startCluster(t, 5)
	for i := 0; i < 20; i++ {
		mustPut(t, c.nodes[0], fmt.Sprintf("key-%d", i), fmt.Sprintf("value-%d", i), "", "")
	}
	for _, p := range c.nodes[1:] {
		for i := 0; i < 20; i++ {
			r := do(t, http.MethodGet, p, fmt.Sprintf("key-%d", i), "", "", nil)
			if r.code != http.StatusOK || string(r.body) != fmt.Sprintf("value-%d", i) {
				t.Fatalf("get key-%d via %s: %d %q", i, p.id, r.code, r.body)
			}
			if r.context == "" {
				t.Fatalf("get key-%d via %s: no context", i, p.id)
			}
		}
	}
	if r := do(t, http.MethodGet, c.nodes[2], "never-written", "", "", nil); r.code != http.StatusNotFound {
		t.Fatalf("missing key: %d %s", r.code, r.body)
	}
}

func TestConcurrentWritersMakeSiblingsAndAMergedContextResolvesThem(t *testing.T) {
	c := startCluster(t, 5)
	old := mustPut(t, c.nodes[0], "cart", "empty", "", "")
	// Two clients both read "empty" and write with its context.
	mustPut(t, c.nodes[1], "cart", "apples", old, "")
	mustPut(t, c.nodes[2], "cart", "pears", old, "")

	r := do(t, http.MethodGet, c.nodes[3], "cart", "r=3", "", nil)
	if r.code != http.StatusMultipleChoices {
		t.Fatalf("want 300 with siblings, got %d %s", r.code, r.body)
	}
	var sib api.Siblings
	if err := json.Unmarshal(r.body, &sib); err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, v := range sib.Siblings {
		vals = append(vals, string(v))
	}
	sort.Strings(vals)
	if strings.Join(vals, ",") != "apples,pears" {
		t.Fatalf("siblings %v, want apples and pears", vals)
	}

	mustPut(t, c.nodes[4], "cart", "apples+pears", sib.Context, "")
	for _, p := range c.nodes {
		r := do(t, http.MethodGet, p, "cart", "r=3", "", nil)
		if r.code != http.StatusOK || string(r.body) != "apples+pears" {
			t.Fatalf("after resolving, get via %s: %d %s", p.id, r.code, r.body)
		}
	}
}

func TestDeleteNeedsContextAndHidesTheKey(t *testing.T) {
	c := startCluster(t, 3)
	ctx := mustPut(t, c.nodes[0], "gone", "soon", "", "")
	if r := do(t, http.MethodDelete, c.nodes[1], "gone", "", "", nil); r.code != http.StatusBadRequest {
		t.Fatalf("delete without context: %d %s", r.code, r.body)
	}
	if r := do(t, http.MethodDelete, c.nodes[1], "gone", "", ctx, nil); r.code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}
	r := do(t, http.MethodGet, c.nodes[2], "gone", "", "", nil)
	if r.code != http.StatusNotFound {
		t.Fatalf("get after delete: %d %s", r.code, r.body)
	}
	mustPut(t, c.nodes[2], "gone", "back", r.context, "")
	if r := do(t, http.MethodGet, c.nodes[0], "gone", "", "", nil); r.code != http.StatusOK || string(r.body) != "back" {
		t.Fatalf("get after rewrite: %d %s", r.code, r.body)
	}
}

func TestBadRequestsGetClearErrors(t *testing.T) {
	c := startCluster(t, 3, "--max-value", "1024")
	p := c.nodes[0]
	cases := []struct {
		name, method, key, query, context string
		body                              []byte
		code                              int
		want                              string
	}{
		{"malformed context", http.MethodPut, "k", "", "!!!", []byte("v"), 400, "X-Dynamo-Context"},
		{"w over N", http.MethodPut, "k", "w=4", "", []byte("v"), 400, "?w=4"},
		{"r not a number", http.MethodGet, "k", "r=two", "", nil, 400, "?r=two"},
		{"value too large", http.MethodPut, "k", "", "", make([]byte, 2048), 413, "over the limit of 1024 bytes"},
		{"key too large", http.MethodPut, strings.Repeat("k", 1025), "", "", []byte("v"), 413, "key of 1025 bytes"},
		{"empty key", http.MethodPut, "", "", "", []byte("v"), 400, "empty key"},
		{"bad method", http.MethodPatch, "k", "", "", nil, 405, "PATCH"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, p, tc.key, tc.query, tc.context, tc.body)
			var e api.Error
			if err := json.Unmarshal(r.body, &e); err != nil {
				t.Fatalf("%d, body not JSON: %s", r.code, r.body)
			}
			if r.code != tc.code || !strings.Contains(e.Error, tc.want) {
				t.Fatalf("got %d %q, want %d containing %q", r.code, e.Error, tc.code, tc.want)
			}
		})
	}
	// The node is still serving.
	mustPut(t, p, "k", "v", "", "")
}

// Killing one node (kill -9) leaves every key readable and writable at
// R=W=2; the restarted node still has what it acknowledged.
func TestKillOneNodeKeysStayAvailableAndDataSurvivesRestart(t *testing.T) {
	c := startCluster(t, 5)
	const keys = 30
	for i := 0; i < keys; i++ {
		// W=3: every replica, the victim included, acknowledged the write.
		mustPut(t, c.nodes[0], fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i), "", "w=3")
	}
	victim := c.nodes[2]
	c.kill(victim)
	alive := []*proc{c.nodes[0], c.nodes[1], c.nodes[3], c.nodes[4]}
	eventually(t, 10*coordinatorWait, "the others see n3 down", func() error {
		for _, p := range alive {
			st, err := status(p)
			if err != nil {
				return err
			}
			for _, m := range st.Members {
				if m.ID == victim.id && m.Up {
					return fmt.Errorf("%s still sees %s up", p.id, m.ID)
				}
			}
		}
		return nil
	})
	for i := 0; i < keys; i++ {
		key := fmt.Sprintf("k%d", i)
		for _, p := range alive {
			if r := do(t, http.MethodGet, p, key, "r=2", "", nil); r.code != http.StatusOK || string(r.body) != fmt.Sprintf("v%d", i) {
				t.Fatalf("with n3 dead, get %s via %s: %d %s", key, p.id, r.code, r.body)
			}
		}
		mustPut(t, alive[i%len(alive)], "w"+key, "x", "", "w=2")
	}

	// Restart n3 alone with the others gone: with R=1 it answers from its
	// own store, so every key it replicates must be there after the kill.
	for _, p := range alive {
		c.kill(p)
	}
	c.start(victim)
	eventually(t, 10*coordinatorWait, "n3 serves HTTP again", func() error { _, err := status(victim); return err })
	st, err := status(victim)
	if err != nil {
		t.Fatal(err)
	}
	replicated := 0
	for i := 0; i < keys; i++ {
		key := fmt.Sprintf("k%d", i)
		if !inPreferenceList(st, key, victim.id) {
			continue
		}
		replicated++
		r := do(t, http.MethodGet, victim, key, "r=1", "", nil)
		if r.code != http.StatusOK || string(r.body) != fmt.Sprintf("v%d", i) {
			t.Fatalf("after kill -9 and restart, n3 alone: get %s: %d %s", key, r.code, r.body)
		}
	}
	if replicated == 0 {
		t.Fatal("n3 replicates none of the keys: the test proves nothing")
	}
	t.Logf("n3 served all %d of its keys from disk after kill -9", replicated)
}

// The put is stored on two replicas of three, and left to spread: its
// outcome is unknown, not failed, and the answer says so.
func TestQuorumNotReachedIsA503ThatSaysHowMany(t *testing.T) {
	c := startCluster(t, 3, "--timeout", "500ms")
	c.kill(c.nodes[2])
	r := do(t, http.MethodPut, c.nodes[0], "q", "w=3", "", []byte("v"))
	var e api.Error
	_ = json.Unmarshal(r.body, &e)
	if r.code != http.StatusServiceUnavailable || !strings.Contains(e.Error, "quorum not reached: 2 of 3 replicas answered") ||
		!strings.Contains(e.Error, "outcome unknown") || e.Outcome != api.OutcomeUnknown || r.outcome != api.OutcomeUnknown {
		t.Fatalf("got %d %s (%s: %q); want 503 with an unknown outcome", r.code, r.body, api.OutcomeHeader, r.outcome)
	}
	if g := do(t, http.MethodGet, c.nodes[1], "q", "r=2", "", nil); g.code != http.StatusOK || string(g.body) != "v" {
		t.Fatalf("read after the unknown outcome: %d %s; the write was applied", g.code, g.body)
	}
}

func TestNodeStopsCleanlyOnSignal(t *testing.T) {
	c := startCluster(t, 1)
	mustPut(t, c.nodes[0], "k", "v", "", "w=1")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		if code := signalAndWait(t, c.nodes[0], sig, 10*coordinatorWait); code != 0 {
			t.Fatalf("exit code %d after %v", code, sig)
		}
		c.start(c.nodes[0])
		c.waitAgreed(c.nodes[0])
		if r := do(t, http.MethodGet, c.nodes[0], "k", "r=1", "", nil); r.code != http.StatusOK {
			t.Fatalf("after restart: %d %s", r.code, r.body)
		}
	}
}
