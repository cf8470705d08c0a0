package store

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

func TestOpenPebbleOptions(t *testing.T) {
	if _, err := OpenPebble(Options{}); err == nil {
		t.Fatal("OpenPebble with empty Dir succeeded")
	}
	if _, err := OpenPebble(Options{Dir: t.TempDir(), CacheBytes: -1}); err == nil {
		t.Fatal("OpenPebble with negative CacheBytes succeeded")
	}
	s := openPebble(t, Options{Dir: t.TempDir(), CacheBytes: 1 << 20})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPebbleReopen(t *testing.T) {
	dir := t.TempDir()
	s := openPebble(t, Options{Dir: dir})
	b := NewBatch()
	for i := range 100 {
		b.Put(uint32(i%4), fmt.Appendf(nil, "k%03d", i), fmt.Appendf(nil, "v%d", i))
	}
	if err := s.Apply(b); err != nil {
		t.Fatal(err)
	}
	if err := s.DropPartition(3); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openPebble(t, Options{Dir: dir, Sync: true}) // Sync may change between opens
	defer s.Close()
	for p := range uint32(4) {
		n, _, err := s.PartitionStats(p)
		want := 25
		if p == 3 {
			want = 0
		}
		if err != nil || n != want {
			t.Fatalf("partition %d after reopen: %d keys, %v; want %d", p, n, err, want)
		}
	}
}

// Tables are written with bloom filters, and point reads through them
// still find every key and miss absent ones, also after a reopen.
func TestPebbleBloomFilters(t *testing.T) {
	dir := t.TempDir()
	s := openPebble(t, Options{Dir: dir})
	b := NewBatch()
	for i := range 200 {
		b.Put(1, fmt.Appendf(nil, "k%03d", i), fmt.Appendf(nil, "v%d", i))
	}
	if err := s.Apply(b); err != nil {
		t.Fatal(err)
	}
	db := s.(*pebbleStore).db
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	levels, err := db.SSTables(pebble.WithProperties())
	if err != nil {
		t.Fatal(err)
	}
	tables := 0
	for _, level := range levels {
		for _, tab := range level {
			tables++
			if tab.Properties.FilterPolicyName == "" {
				t.Errorf("table %s has no filter", tab.FileNum)
			}
		}
	}
	if tables == 0 {
		t.Fatal("no table after the flush")
	}
	for round := range 2 {
		for i := range 200 {
			v, err := s.Get(1, fmt.Appendf(nil, "k%03d", i))
			if err != nil || string(v) != fmt.Sprintf("v%d", i) {
				t.Fatalf("round %d: k%03d = %q, %v", round, i, v, err)
			}
			if _, err := s.Get(1, fmt.Appendf(nil, "absent%03d", i)); !errors.Is(err, ErrNotFound) {
				t.Fatalf("round %d: absent key: %v", round, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = openPebble(t, Options{Dir: dir})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWALNoSyncFSWrapsOnlyWALs(t *testing.T) {
	dir := t.TempDir()
	fs := walNoSyncFS{FS: vfs.Default}
	for name, wantWAL := range map[string]bool{"000007.log": true, "000008.sst": false, "MANIFEST-000001": false} {
		f, err := fs.Create(fs.PathJoin(dir, name), vfs.WriteCategoryUnspecified)
		if err != nil {
			t.Fatal(err)
		}
		if _, isWAL := f.(*walFile); isWAL != wantWAL {
			t.Errorf("%s wrapped = %v, want %v", name, isWAL, wantWAL)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A WAL's writeback is started as it grows, so that the fsync when Pebble
// closes it (while every commit waits for the memtable switch) finds
// little left to write; the syncs Pebble asks for still do nothing else.
func TestWALFileStartsWritebackAsItGrows(t *testing.T) {
	fs := walNoSyncFS{FS: vfs.Default}
	f, err := fs.Create(fs.PathJoin(t.TempDir(), "000009.log"), vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	w := f.(*walFile)
	chunk := make([]byte, 100<<10+7) // not a multiple of a page
	for i := 0; i < 30; i++ {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		written, started := w.written.Load(), w.started.Load()
		if started%4096 != 0 || started > written || written-started >= walWriteback+4096 {
			t.Fatalf("after %d bytes: writeback started up to %d", written, started)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// Crash test. The parent re-runs this test binary as a child that applies
// batches and reports each one after Apply returns; the parent kills it with
// SIGKILL mid-stream and checks that everything reported survived.
const (
	crashDirEnv   = "STORE_CRASH_CHILD_DIR"
	crashSyncEnv  = "STORE_CRASH_CHILD_SYNC"
	crashKindEnv  = "STORE_CRASH_CHILD_KIND"
	crashBatches  = 1_000_000 // far more than the parent waits for
	crashParts    = 4         // each batch writes one key in every partition
	crashKillAt   = 2000      // reports to read before killing
	crashDeadline = 60 * time.Second
)

var crashScratch = []byte(strings.Repeat("s", 1000))

func crashKey(i int) []byte   { return fmt.Appendf(nil, "k%08d", i) }
func crashValue(i int) []byte { return fmt.Appendf(nil, "value-%d-%s", i, strings.Repeat("x", 100)) }

// crashOpen opens the kind of store a crash test runs on. The log store
// runs with small segments, so that the kill finds it among several.
func crashOpen(kind string, opts Options) (Store, error) {
	if kind == "log" {
		return openLog(opts, 256<<10, 1<<20)
	}
	return OpenPebble(opts)
}

// TestCrashChild is the child half of TestPebbleCrash and TestLogCrash; on
// its own it skips.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only runs as the child of a crash test")
	}
	s, err := crashOpen(os.Getenv(crashKindEnv), Options{Dir: dir, Sync: os.Getenv(crashSyncEnv) == "1"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := range crashBatches {
		b := NewBatch()
		for p := range uint32(crashParts) {
			b.Put(p, crashKey(i), crashValue(i))
		}
		// One key overwritten again and again, so that the log store
		// merges its segments while the kill may come.
		b.Put(crashParts, []byte("scratch"), crashScratch)
		if err := s.Apply(b); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		// os.Stdout is unbuffered: the line is out as soon as Printf returns.
		fmt.Printf("applied %d\n", i)
	}
	os.Exit(3) // the parent should have killed us long before
}

func TestPebbleCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	for _, sync := range []bool{false, true} {
		t.Run(fmt.Sprintf("sync=%v", sync), func(t *testing.T) { crashOnce(t, "pebble", sync) })
	}
}

func TestLogCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	for _, sync := range []bool{false, true} {
		t.Run(fmt.Sprintf("sync=%v", sync), func(t *testing.T) { crashOnce(t, "log", sync) })
	}
}

func crashOnce(t *testing.T, kind string, sync bool) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	syncFlag := "0"
	if sync {
		syncFlag = "1"
	}
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashSyncEnv+"="+syncFlag, crashKindEnv+"="+kind)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // in case a check fails early

	reports := make(chan int, 1024)
	go func() {
		defer close(reports)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "applied "); ok {
				if i, err := strconv.Atoi(n); err == nil {
					reports <- i
				}
			}
		}
	}()

	// Read reports until the pipe closes; the kill comes mid-stream, and
	// lines already in the pipe still count as acknowledged.
	deadline := time.NewTimer(crashDeadline)
	defer deadline.Stop()
	lastReported, killed := -1, false
	for done := false; !done; {
		select {
		case i, ok := <-reports:
			if !ok {
				done = true
				break
			}
			if i != lastReported+1 {
				t.Fatalf("child reported batch %d after %d", i, lastReported)
			}
			lastReported = i
			if i+1 == crashKillAt {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatalf("kill child: %v", err)
				}
				killed = true
			}
		case <-deadline.C:
			t.Fatalf("child reported %d batches within %v; stderr:\n%s", lastReported+1, crashDeadline, stderr.String())
		}
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !killed || !errors.As(err, &exitErr) {
		t.Fatalf("child ended without being killed (reported %d): %v; stderr:\n%s", lastReported+1, err, stderr.String())
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}

	s, err := crashOpen(kind, Options{Dir: dir})
	if err != nil {
		t.Fatalf("reopen after the kill: %v", err)
	}
	defer s.Close()
	// Every reported batch must be whole; unreported ones may have made it
	// too, but only as a whole-batch prefix of the sequence.
	recovered := -1
	for p := range uint32(crashParts) {
		i := 0
		if _, err := s.Scan(p, nil, 0, func(k, v []byte) error {
			if string(k) != string(crashKey(i)) || string(v) != string(crashValue(i)) {
				return fmt.Errorf("partition %d entry %d is %q=%.20q", p, i, k, v)
			}
			i++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if i-1 < lastReported {
			t.Fatalf("partition %d lost acknowledged batches: has %d, child reported %d", p, i, lastReported+1)
		}
		if recovered >= 0 && i-1 != recovered {
			t.Fatalf("batches torn across partitions: %d vs %d entries", recovered+1, i)
		}
		recovered = i - 1
	}
	t.Logf("sync=%v: killed after %d reported batches; %d recovered (%d applied but not yet reported)",
		sync, lastReported+1, recovered+1, recovered-lastReported)
}
