package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The log store against the memory store as a model: random puts,
// overwrites, deletes and partition drops, with segments small enough to
// rotate and merge all the time, reopened now and then; after every step
// both must hold the same.
func TestLogMatchesModelAcrossReopensAndMerges(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	open := func() *logStore {
		s, err := openLog(Options{Dir: dir}, 4<<10, 16<<10)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return s
	}
	s, model := open(), NewMemory()
	defer func() { _ = s.Close() }()
	merges := int64(0)
	for step := range 3000 {
		b := NewBatch()
		for range 1 + rng.IntN(4) {
			p, k := uint32(rng.IntN(3)), fmt.Appendf(nil, "k%03d", rng.IntN(60))
			if rng.IntN(5) == 0 {
				b.Delete(p, k)
			} else {
				b.Put(p, k, []byte(strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(300))))
			}
		}
		if rng.IntN(200) == 0 {
			p := uint32(rng.IntN(3))
			if err := s.DropPartition(p); err != nil {
				t.Fatal(err)
			}
			if err := model.DropPartition(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Apply(b); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if err := model.Apply(b); err != nil {
			t.Fatal(err)
		}
		if rng.IntN(300) == 0 {
			merges += s.merged.Load()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open()
		}
		if step%50 == 0 {
			sameState(t, step, s, model)
			sameLiveBytes(t, step, s)
		}
	}
	sameState(t, -1, s, model)
	waitMerges(s)
	if merges += s.merged.Load(); merges < 10 {
		t.Fatalf("only %d merges ran: the test does not exercise them", merges)
	}
	t.Logf("%d merges", merges)
	if st := s.LogStats(); st.DiskBytes < st.LiveBytes || st.Segments < 1 || st.MergeFailures != 0 {
		t.Errorf("stats after the run: %+v", st)
	}
	// Merges kept the segments' bytes near the live ones.
	waitMerges(s)
	if n := segmentFiles(t, dir); len(n) > 12 {
		t.Errorf("%d segment files after the run: merges do not keep up (%v)", len(n), n)
	}
}

// sameLiveBytes checks each segment's count of live bytes, which decides
// merges, against the index.
func sameLiveBytes(t *testing.T, step int, s *logStore) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[*segment]int64{}
	for _, p := range s.index.parts {
		for _, e := range p.locs {
			want[e.loc.seg] += e.loc.footprint()
		}
	}
	for _, seg := range s.segs {
		if seg.live != want[seg] {
			t.Fatalf("step %d: segment %x counts %d live bytes, its index entries %d", step, seg.id, seg.live, want[seg])
		}
	}
}

func waitMerges(s *logStore) {
	deadline := time.Now().Add(10 * time.Second)
	for s.merging.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

func sameState(t *testing.T, step int, got, want Store) {
	t.Helper()
	for p := range uint32(3) {
		g, w := scanAll(t, got, p, 7), scanAll(t, want, p, 0)
		if !slices.Equal(g, w) {
			t.Fatalf("step %d, partition %d: log store holds %v, model %v", step, p, g, w)
		}
		gk, gb, err := got.PartitionStats(p)
		if err != nil {
			t.Fatal(err)
		}
		wk, wb, _ := want.PartitionStats(p)
		if gk != wk || gb != wb {
			t.Fatalf("step %d, partition %d: stats %d keys %d bytes, model %d keys %d bytes", step, p, gk, gb, wk, wb)
		}
		for _, e := range w {
			wantValue(t, got, p, e.k, e.v)
		}
	}
}

func segmentFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg*"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

func openSmallLog(t *testing.T, dir string) *logStore {
	t.Helper()
	s, err := openLog(Options{Dir: dir}, 1<<20, 1<<30)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

// A crash can leave the last record cut short or damaged: recovery drops
// it, and only it, whatever was cut.
func TestLogRecoveryDropsADamagedTail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string, lastAt int64)
	}{
		{"cut in the header", func(t *testing.T, path string, lastAt int64) { truncate(t, path, lastAt+3) }},
		{"cut in the body", func(t *testing.T, path string, lastAt int64) { truncate(t, path, fileSize(t, path)-2) }},
		{"last byte flipped", func(t *testing.T, path string, lastAt int64) { flip(t, path, fileSize(t, path)-1) }},
		{"garbage appended", func(t *testing.T, path string, lastAt int64) { appendBytes(t, path, []byte{9, 0, 0, 0, 1, 2}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openSmallLog(t, dir)
			put(t, s, 1, "a", "1")
			put(t, s, 1, "b", "2")
			lastAt := s.active().size
			put(t, s, 1, "c", "3")
			path := s.active().path
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			tc.damage(t, path, lastAt)
			s = openSmallLog(t, dir)
			defer s.Close()
			wantValue(t, s, 1, "a", "1")
			wantValue(t, s, 1, "b", "2")
			if tc.name == "garbage appended" {
				wantValue(t, s, 1, "c", "3")
			} else {
				wantAbsent(t, s, 1, "c")
			}
			// The store goes on writing after the cut.
			put(t, s, 1, "d", "4")
			wantValue(t, s, 1, "d", "4")
		})
	}
}

// Damage before the tail of the last segment, or in an older one, is not
// what a crash leaves: the store refuses to open rather than drop writes.
func TestLogRecoveryRefusesDamageBeforeTheTail(t *testing.T) {
	dir := t.TempDir()
	s, err := openLog(Options{Dir: dir}, 64, 1<<30) // a segment per record
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, 1, "a", "1")
	first := s.segs[0].path
	put(t, s, 1, "b", "2")
	put(t, s, 1, "c", "3")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	flip(t, first, fileSize(t, first)-1)
	_, err = openLog(Options{Dir: dir}, 64, 1<<30)
	if err == nil || !strings.Contains(err.Error(), filepath.Base(first)) {
		t.Fatalf("open with a damaged older segment: %v, want an error naming %s", err, filepath.Base(first))
	}
}

// A value damaged on disk is an error on read, never other bytes.
func TestLogGetChecksValues(t *testing.T) {
	dir := t.TempDir()
	s := openSmallLog(t, dir)
	defer s.Close()
	put(t, s, 1, "key", "value-value-value")
	flip(t, s.active().path, s.active().size-6) // inside the value
	if v, err := s.Get(1, []byte("key")); err == nil || !errors.Is(err, errCorruptRecord) {
		t.Fatalf("Get of a damaged value = %q, %v; want a damage error", v, err)
	}
}

// A merge that crashed before removing what it replaced, or before
// renaming its output, leaves files recovery must see through.
func TestLogRecoveryAfterAnInterruptedMerge(t *testing.T) {
	dir := t.TempDir()
	s, err := openLog(Options{Dir: dir}, 256, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		put(t, s, 1, fmt.Sprintf("k%d", i%10), fmt.Sprintf("v%d", i))
	}
	del(t, s, 1, "k3")
	// Keep copies of the segments the merge will replace.
	saved := map[string][]byte{}
	for _, seg := range s.segs[:len(s.segs)-1] {
		b, err := os.ReadFile(seg.path)
		if err != nil {
			t.Fatal(err)
		}
		saved[seg.path] = b
	}
	if err := s.mergeOnce(); err != nil {
		t.Fatal(err)
	}
	put(t, s, 1, "k4", "after")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for path, b := range saved {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(segmentPath(dir, 0xfff1)+".tmp", []byte("half a merge"), 0o644); err != nil {
		t.Fatal(err)
	}
	s = openSmallLog(t, dir)
	defer s.Close()
	wantAbsent(t, s, 1, "k3")
	wantValue(t, s, 1, "k4", "after")
	for i := range 10 {
		if i == 3 || i == 4 {
			continue
		}
		wantValue(t, s, 1, fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", 30+i))
	}
	for _, f := range segmentFiles(t, dir) {
		if strings.HasSuffix(f, ".tmp") {
			t.Errorf("recovery left %s", f)
		}
		if path := filepath.Join(dir, f); saved[path] != nil {
			t.Errorf("recovery kept %s, which the merge replaced", f)
		}
	}
}

// A merge copies the sealed segments only: the active one, which holds
// the newest values, stays as it is.
func TestLogMergeLeavesTheActiveSegment(t *testing.T) {
	s, err := openLog(Options{Dir: t.TempDir()}, 4<<10, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 400 {
		put(t, s, 2, fmt.Sprintf("k%02d", i%20), fmt.Sprintf("value-%d", i))
	}
	act, size := s.active(), s.active().size
	if size == 0 || len(s.segs) < 3 {
		t.Fatalf("%d segments, %d bytes in the active one: the test needs sealed ones and a used active one", len(s.segs), size)
	}
	if err := s.mergeOnce(); err != nil {
		t.Fatal(err)
	}
	if len(s.segs) != 2 || s.segs[1] != act || act.size != size || s.segs[0].id%2 != 1 {
		t.Fatalf("after a merge: segments %v, active %x of %d bytes; want one merged segment and the active one unchanged", ids(s.segs), act.id, act.size)
	}
	sameLiveBytes(t, -1, s)
	for i := range 20 {
		wantValue(t, s, 2, fmt.Sprintf("k%02d", i), fmt.Sprintf("value-%d", 380+i))
	}
}

func ids(segs []*segment) []string {
	var out []string
	for _, seg := range segs {
		out = append(out, fmt.Sprintf("%x", seg.id))
	}
	return out
}

// Writes and reads go on while a merge copies: a key overwritten meanwhile
// keeps its newer value.
func TestLogMergeKeepsWritesMadeMeanwhile(t *testing.T) {
	dir := t.TempDir()
	s, err := openLog(Options{Dir: dir}, 4<<10, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 2000 {
		put(t, s, 2, fmt.Sprintf("k%03d", i%200), fmt.Sprintf("old-%d", i))
	}
	done := make(chan error, 1)
	go func() { done <- s.mergeOnce() }()
	for i := range 200 {
		put(t, s, 2, fmt.Sprintf("k%03d", i), fmt.Sprintf("new-%d", i))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		wantValue(t, s, 2, fmt.Sprintf("k%03d", i), fmt.Sprintf("new-%d", i))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openSmallLog(t, dir)
	for i := range 200 {
		wantValue(t, s, 2, fmt.Sprintf("k%03d", i), fmt.Sprintf("new-%d", i))
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func truncate(t *testing.T, path string, n int64) {
	t.Helper()
	if err := os.Truncate(path, n); err != nil {
		t.Fatal(err)
	}
}

func flip(t *testing.T, path string, at int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at] ^= 0x40
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, path string, p []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// A data directory of one engine is refused by the other, which would
// otherwise start empty on it.
func TestEnginesRefuseEachOthersDirectories(t *testing.T) {
	pebbleDir, logDir := t.TempDir(), t.TempDir()
	for _, s := range []Store{openPebble(t, Options{Dir: pebbleDir}), openLogStore(t, Options{Dir: logDir})} {
		put(t, s, 1, "k", "v")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := OpenLog(Options{Dir: pebbleDir}); err == nil || !strings.Contains(err.Error(), "--storage pebble") {
		t.Errorf("log store on a pebble directory: %v", err)
	}
	if _, err := OpenPebble(Options{Dir: logDir}); err == nil || !strings.Contains(err.Error(), "--storage log") {
		t.Errorf("pebble store on a log directory: %v", err)
	}
}

func TestMergePause(t *testing.T) {
	const mib = 1 << 20
	for _, tt := range []struct {
		name           string
		done, total    int64
		elapsed, pause time.Duration
	}{
		{"a small merge goes at the rate", 16 * mib, 24 * mib, 0, 500 * time.Millisecond},
		{"time already spent counts", 16 * mib, 24 * mib, 200 * time.Millisecond, 300 * time.Millisecond},
		{"behind the pace: no pause", 16 * mib, 64 * mib, time.Second, 0},
		{"a large merge spreads over a second", 128 * mib, 256 * mib, 0, 500 * time.Millisecond},
		{"nothing copied yet", 0, 256 * mib, 0, 0},
	} {
		if got := mergePause(tt.done, tt.total, tt.elapsed); got != tt.pause {
			t.Errorf("%s: mergePause(%d, %d, %v) = %v, want %v", tt.name, tt.done, tt.total, tt.elapsed, got, tt.pause)
		}
	}
}
