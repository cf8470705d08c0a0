package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dynamokv/dynamo/api"
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
	copyDir(t, n1.data, snapshot)
	c.start(n1)
	c.waitAgreed(c.nodes...)
	mustPut(t, n1, "k", "acknowledged", "", "w=3")

	c.kill(n1)
	if err := os.RemoveAll(n1.data); err != nil {
		t.Fatal(err)
	}
	copyDir(t, snapshot, n1.data)
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

// copyDir copies the regular files of a store directory tree.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(dst)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", from, to, err)
	}
}
