package faults

import (
	"context"
	"os/exec"
	"path/filepath"
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
