package olricstore

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/bench/ycsb"
)

var _ ycsb.Store = (*Store)(nil)

// buildNode builds olricnode into a test temp dir and returns its path.
func buildNode(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "olricnode")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/olricnode")
	cmd.Dir = ".." // the module root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build olricnode: %v\n%s", err, out)
	}
	return bin
}

func TestStoreSmoke(t *testing.T) {
	bin := buildNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	start := time.Now()
	c, err := StartCluster(ctx, bin, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("3 members serving after %v", time.Since(start))
	pids := c.PIDs()
	defer func() {
		stop := time.Now()
		c.Stop()
		t.Logf("stopped in %v", time.Since(stop))
		// Stop waited for every member, so signal 0 must find none.
		for _, pid := range pids {
			if err := syscall.Kill(pid, 0); err == nil {
				t.Errorf("member pid %d still running after Stop", pid)
			}
		}
	}()

	s, err := Dial(ctx, c.Addrs(), "smoke")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const n = 100
	key := func(i int) []byte { return fmt.Appendf(nil, "key-%03d", i) }
	val := func(i int) []byte { return fmt.Appendf(nil, "value-%03d-%s", i, bytes.Repeat([]byte{'x'}, i)) }
	for i := range n {
		if err := s.Write(ctx, key(i), val(i)); err != nil {
			t.Fatalf("write %s: %v", key(i), err)
		}
	}
	for i := range n {
		got, err := s.Read(ctx, key(i))
		if err != nil {
			t.Fatalf("read %s: %v", key(i), err)
		}
		if !bytes.Equal(got, val(i)) {
			t.Fatalf("read %s = %q, want %q", key(i), got, val(i))
		}
	}
	got, err := s.Read(ctx, []byte("no-such-key"))
	if got != nil || err != nil {
		t.Fatalf("read missing key = (%q, %v), want (nil, nil)", got, err)
	}
}
