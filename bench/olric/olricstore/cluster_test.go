package olricstore

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeNode writes a shell script that stands in for olricnode: it records
// its pid in pidFile and then runs body.
func fakeNode(t *testing.T, body string) (bin, pidFile string) {
	t.Helper()
	dir := t.TempDir()
	pidFile = filepath.Join(dir, "pids")
	bin = filepath.Join(dir, "fake-olricnode")
	script := "#!/bin/sh\necho $$ >> '" + pidFile + "'\n" + body + "\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, pidFile
}

// assertGone fails unless every pid recorded in pidFile is gone. A member
// stopped before its script got to record itself is not counted, so
// between 1 and max pids are expected.
func assertGone(t *testing.T, pidFile string, max int) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pids := strings.Fields(string(b))
	if len(pids) < 1 || len(pids) > max {
		t.Errorf("%d members recorded, want 1 to %d", len(pids), max)
	}
	for _, p := range pids {
		pid, _ := strconv.Atoi(p)
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("pid %d still running", pid)
		}
	}
}

func TestStartClusterMemberExits(t *testing.T) {
	bin, pidFile := fakeNode(t, "echo 'boom: bad flag' >&2\nexit 3")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := StartCluster(ctx, bin, 3)
	if err == nil {
		c.Stop()
		t.Fatal("StartCluster succeeded with members that exit")
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "boom: bad flag") || !strings.Contains(err.Error(), "exited") {
		t.Errorf("error lacks the member's exit and stderr tail: %v", err)
	}
	assertGone(t, pidFile, 3)
}

func TestStartClusterMemberNeverReady(t *testing.T) {
	// exec keeps the recorded pid, so the check below sees the sleep.
	bin, pidFile := fakeNode(t, "echo 'stuck joining' >&2\nexec sleep 60")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	c, err := StartCluster(ctx, bin, 3)
	if err == nil {
		c.Stop()
		t.Fatal("StartCluster succeeded with members that never say ready")
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "stuck joining") || !strings.Contains(err.Error(), "not ready") {
		t.Errorf("error lacks the reason and stderr tail: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("StartCluster took %v to give up", d)
	}
	assertGone(t, pidFile, 3)
}
