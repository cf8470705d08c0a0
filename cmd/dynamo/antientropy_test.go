package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// With three nodes there are no stand-ins: a node down during writes
// misses them and nothing hands them over. `dynamo repair` on another node
// compares their partitions and gives them back.
func TestRepairCommandBringsAMissedWriteBack(t *testing.T) {
	c := startCluster(t, 3, "--ae-round", "-1s")
	n3 := c.nodes[2]
	c.kill(n3)
	eventually(t, 10*time.Second, "n1 suspects n3", func() error {
		st, err := status(c.nodes[0])
		if err != nil {
			return err
		}
		for _, m := range st.Members {
			if m.ID == "n3" && m.Up {
				return fmt.Errorf("n3 still up")
			}
		}
		return nil
	})
	for i := 0; i < 20; i++ {
		mustPut(t, c.nodes[0], fmt.Sprintf("missed-%d", i), "v", "", "w=2")
	}
	c.start(n3)
	c.waitAgreed(c.nodes...)
	if err := holdsValue(n3, "missed-0", "v"); err == nil {
		t.Fatal("n3 holds a write made while it was down before any repair: the test proves nothing")
	}
	out, err := exec.Command(binary, "repair", "--node", "http://"+c.nodes[0].http).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("keys repaired")) {
		t.Fatalf("dynamo repair: %v\n%s", err, out)
	}
	t.Logf("dynamo repair:\n%s", out)
	for i := 0; i < 20; i++ {
		if err := holdsValue(n3, fmt.Sprintf("missed-%d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(string(out), "n3") {
		t.Fatalf("the repair did not name n3:\n%s", out)
	}
}

// Deleted values never come back: a replica that missed the deletes,
// down longer than the tombstone grace, returns holding the old values;
// the others keep their tombstones (they are collected only once every
// home node holds them), anti-entropy hands them over, and only then are
// the keys removed everywhere.
func TestDeletedValuesNeverReturn(t *testing.T) {
	c := startCluster(t, 3, "--ae-round", "1s", "--tombstone-grace", "1s")
	const keys = 10
	contexts := make([]string, keys)
	for i := range contexts {
		contexts[i] = mustPut(t, c.nodes[0], fmt.Sprintf("del-%d", i), "old", "", "w=3")
	}
	n3 := c.nodes[2]
	c.kill(n3)
	for i, ctx := range contexts {
		r := do(t, http.MethodDelete, c.nodes[0], fmt.Sprintf("del-%d", i), "w=2", ctx, nil)
		if r.code != http.StatusNoContent {
			t.Fatalf("delete %d: %d %s", i, r.code, r.body)
		}
	}
	deleted := time.Now()
	// Let the grace pass while n3 is away: nothing may be collected, since
	// n3 lacks the tombstones.
	eventually(t, 10*time.Second, "the grace passes", func() error {
		if time.Since(deleted) < 2*time.Second {
			return fmt.Errorf("only %v since the deletes", time.Since(deleted))
		}
		return nil
	})
	c.start(n3)
	eventually(t, 30*time.Second, "every key removed from every replica", func() error {
		for i := 0; i < keys; i++ {
			k := fmt.Sprintf("del-%d", i)
			for _, p := range c.nodes {
				// A quorum read meets a replica holding the tombstone
				// (R+W > N); a read at R=1 could take n3's stale answer
				// until it is repaired, which is no resurrection.
				if r := do(t, http.MethodGet, p, k, "r=2", "", nil); r.code == http.StatusOK || r.code == http.StatusMultipleChoices {
					t.Fatalf("%s came back through %s: %d %s", k, p.id, r.code, r.body)
				}
				lc, err := localCopy(p, k)
				if err != nil {
					return err
				}
				if len(lc.Versions) > 0 {
					return fmt.Errorf("%s still holds %d versions of %s", p.id, len(lc.Versions), k)
				}
			}
		}
		return nil
	})
	// Once every replica dropped the key, no read of any quorum finds it.
	for i := 0; i < keys; i++ {
		k := fmt.Sprintf("del-%d", i)
		for _, p := range c.nodes {
			if r := do(t, http.MethodGet, p, k, "r=1", "", nil); r.code != http.StatusNotFound {
				t.Fatalf("%s through %s at R=1 after the collection: %d %s", k, p.id, r.code, r.body)
			}
		}
	}
	for _, p := range c.nodes {
		st, err := status(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Storage.Reaped == 0 {
			t.Fatalf("%s collected no tombstone", p.id)
		}
	}
}
