package faults

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The short form of the fault suite, run by `make test`: three nodes and
// the nemeses that kill, partition and roll back, with short phases. It
// fails when any acknowledged write is lost or an unwritten one appears.
// `make faults` runs every nemesis on three and five nodes.
func TestFaultsShort(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "dynamo")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/dynamo").CombinedOutput(); err != nil {
		t.Fatalf("build the node binary: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var results []Result
	for _, name := range []string{"kill", "partition", "rollback"} {
		res, err := Run(ctx, Config{Binary: bin, Nodes: 3, Nemesis: name,
			Before: time.Second, Fault: 3 * time.Second, After: 2 * time.Second, Log: testWriter{t}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		results = append(results, res)
		if res.Skipped != "" {
			t.Logf("%s skipped: %s", name, res.Skipped)
			continue
		}
		if !res.Report.Pass() {
			t.Errorf("%s:\n%s\ndata and logs kept in %s", name, res.Report.Table(), res.Dir)
			for id, tail := range res.Logs {
				t.Logf("last lines of %s's log:\n%s", id, tail)
			}
		}
		if res.Report.Acknowledged == 0 {
			t.Errorf("%s: no write was acknowledged: the run proves nothing\n%s", name, res.Report.Table())
		}
	}
	t.Logf("\n%s", Overview(results))
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Membership changes under load, with real processes: 3 nodes grow to 5
// by two joins, shrink to 4 by a leave and to 3 when a node killed with
// kill -9 is removed. No acknowledged write may be lost, every read of an
// acknowledged write at R=2 must find it, no Merkle tree may be rebuilt
// (trees move with their keys), and nodes with another Q or cluster name
// must be refused.
func TestMembershipChanges(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "dynamo")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/dynamo").CombinedOutput(); err != nil {
		t.Fatalf("build the node binary: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := RunMembership(ctx, Config{Binary: bin, Before: time.Second, Fault: 2 * time.Second, After: time.Second,
		Converge: time.Minute, Log: testWriter{t}})
	if err != nil {
		for id, tail := range res.Logs {
			t.Logf("last lines of %s's log:\n%s", id, tail)
		}
		t.Fatal(err)
	}
	t.Logf("\n%s", res.Report.Table())
	t.Logf("refused joins: %q", res.Refused)
	t.Logf("%d reads at R=2, %d missing, %d failed %q; trees built %d", res.Reads, res.Missing, res.ReadFailed, res.ReadErrors, res.TreeBuilds)
	if !res.Pass() {
		t.Errorf("membership run failed: %v; data and logs kept in %s", res.Problems, res.Dir)
		for id, tail := range res.Logs {
			t.Logf("last lines of %s's log:\n%s", id, tail)
		}
	}
	if res.Report.Acknowledged == 0 || res.Reads == 0 {
		t.Errorf("no write acknowledged or nothing read: the run proves nothing")
	}
	for _, want := range []string{"Q=", "cluster"} {
		if !slices.ContainsFunc(res.Refused, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("no refusal mentions %q: %q", want, res.Refused)
		}
	}
}
