package store

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

var benchValue = make([]byte, 256) // a typical small sibling set

func BenchmarkApply(b *testing.B) {
	for _, c := range []struct {
		name string
		open func(testing.TB) Store
	}{
		{"pebble/sync=false", func(t testing.TB) Store { return openPebble(t, Options{Dir: t.TempDir()}) }},
		{"pebble/sync=true", func(t testing.TB) Store { return openPebble(t, Options{Dir: t.TempDir(), Sync: true}) }},
		{"log/sync=false", func(t testing.TB) Store { return openLogStore(t, Options{Dir: t.TempDir()}) }},
		{"log/sync=true", func(t testing.TB) Store { return openLogStore(t, Options{Dir: t.TempDir(), Sync: true}) }},
		{"memory", func(testing.TB) Store { return NewMemory() }},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := c.open(b)
			defer s.Close()
			b.SetBytes(int64(len(benchValue)))
			i := 0
			for b.Loop() {
				batch := NewBatch()
				batch.Put(uint32(i%64), fmt.Appendf(nil, "key-%d", i), benchValue)
				if err := s.Apply(batch); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// diskEngines are the stores that keep data on disk, for benchmarks that
// compare them.
var diskEngines = []struct {
	name string
	open func(testing.TB, Options) Store
}{{"pebble", openPebble}, {"log", openLogStore}}

// BenchmarkRewrite writes 20 000 key names in any of 64 partitions in
// random order, one key per durable commit, as a node's vnodes do under
// YCSB A: the store's share of an update (few keys come back in 200 000
// writes; BenchmarkLogChurn rewrites a fixed set). cpu-µs/op counts the
// whole process's CPU, Pebble's WAL writer, flushes and compactions
// included; max-ms is the longest commit, which is where a memtable
// switch (Pebble) or a merge (log) shows.
func BenchmarkRewrite(b *testing.B) {
	for _, e := range diskEngines {
		for _, size := range []int{200, 1200} { // one version of a 100-byte and of a 1 KiB value
			b.Run(fmt.Sprintf("%s/set=%dB", e.name, size), func(b *testing.B) {
				benchRewrite(b, e.open(b, Options{Dir: b.TempDir()}), size, func(r *rand.Rand) (uint32, int) { return uint32(r.IntN(64)), r.IntN(20_000) })
			})
		}
	}
}

// benchRewrite applies one put of size bytes per commit to s, at the
// partition and key number that pick draws, and reports the process's CPU
// per put (a log store's merges waited for and included), the longest
// commit and, for a log store, what merging copied.
func benchRewrite(b *testing.B, s Store, size int, pick func(r *rand.Rand) (partition uint32, key int)) {
	defer s.Close()
	value := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	batch := NewBatch()
	var longest time.Duration
	start, ok := processCPU()
	n := 0
	for b.Loop() {
		partition, key := pick(r)
		batch.Reset()
		batch.Put(partition, fmt.Appendf(nil, "user%012d", key), value)
		t0 := time.Now()
		if err := s.Apply(batch); err != nil {
			b.Fatal(err)
		}
		longest = max(longest, time.Since(t0))
		n++
	}
	if ls, ok := s.(*logStore); ok {
		waitMerges(ls)
	}
	if end, _ := processCPU(); ok && n > 0 {
		b.ReportMetric(float64((end-start).Microseconds())/float64(n), "cpu-µs/op")
	}
	b.ReportMetric(float64(longest.Microseconds())/1000, "max-ms")
	if ls, ok := s.(LogStatser); ok {
		if st := ls.LogStats(); st.AppendedBytes > 0 {
			b.ReportMetric(float64(st.CopiedBytes)/float64(st.AppendedBytes), "merge-copied/written")
			b.ReportMetric(float64(st.DiskBytes)/float64(st.LiveBytes), "disk/live")
		}
	}
}

func BenchmarkGet(b *testing.B) {
	const n = 10_000
	key := func(i int) []byte { return fmt.Appendf(nil, "key-%d", i) }
	// write puts every step-th key, then flushes to a table if asked.
	write := func(t testing.TB, s Store, step int, flush bool) {
		batch := NewBatch()
		for i := 0; i < n; i += step {
			batch.Put(uint32(i%64), key(i), benchValue)
		}
		if err := s.Apply(batch); err != nil {
			t.Fatal(err)
		}
		if flush {
			if err := s.(*pebbleStore).db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		name string
		open func(testing.TB) Store
	}{
		{"pebble", func(t testing.TB) Store {
			s := openPebble(t, Options{Dir: t.TempDir()})
			write(t, s, 1, false)
			return s
		}},
		// Like a node under writes: the keys spread over a few flushed
		// tables, each newer one holding a part of them.
		{"pebble/tables", func(t testing.TB) Store {
			s := openPebble(t, Options{Dir: t.TempDir()})
			for step := 1; step <= 16; step *= 2 {
				write(t, s, step, true)
			}
			return s
		}},
		{"memory", func(t testing.TB) Store {
			s := NewMemory()
			write(t, s, 1, false)
			return s
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := c.open(b)
			defer s.Close()
			keys := make([][]byte, n)
			for i := range keys {
				keys[i] = key(i)
			}
			i := 0
			for b.Loop() {
				j := i % n
				if _, err := s.Get(uint32(j%64), keys[j]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkLogReopen is the log store's restart: reading every segment to
// rebuild the index, here of 100 000 keys of 1 KiB values written twice.
func BenchmarkLogReopen(b *testing.B) {
	dir := b.TempDir()
	s := openLogStore(b, Options{Dir: dir})
	value := make([]byte, 1024)
	for round := range 2 {
		for i := range 100_000 {
			batch := NewBatch()
			batch.Put(uint32(i%64), fmt.Appendf(nil, "user%012d", i), value)
			value[0] = byte(round)
			if err := s.Apply(batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	var bytes int64
	for b.Loop() {
		ls, err := openLog(Options{Dir: dir}, defaultSegmentBytes, defaultMergeMin)
		if err != nil {
			b.Fatal(err)
		}
		bytes = ls.total
		if err := ls.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(bytes)
}

// BenchmarkApplySyncedConcurrently is many writers committing synced
// batches at once, as a node's vnodes do with --sync: what counts is how
// many commits share a sync.
func BenchmarkApplySyncedConcurrently(b *testing.B) {
	for _, e := range diskEngines {
		b.Run(e.name, func(b *testing.B) {
			s := e.open(b, Options{Dir: b.TempDir(), Sync: true})
			defer s.Close()
			b.SetParallelism(16)
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				batch := NewBatch()
				for pb.Next() {
					i := next.Add(1)
					batch.Reset()
					batch.Put(uint32(i%64), fmt.Appendf(nil, "key-%d", i), benchValue)
					if err := s.Apply(batch); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
