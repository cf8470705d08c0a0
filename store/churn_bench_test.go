package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkLogChurn rewrites a fixed set of keys, as the vnodes do under
// an update-heavy workload, so that merges run: it reports the process's
// CPU per rewrite, merges included, and the bytes merges copied per byte
// written.
func BenchmarkLogChurn(b *testing.B) {
	for _, size := range []int{200, 1200, 2400} { // sets of one 100-byte, one 1 KiB and two 1 KiB versions
		b.Run(fmt.Sprintf("set=%dB", size), func(b *testing.B) {
			const keys = 20_000
			s, err := openLog(Options{Dir: b.TempDir()}, defaultSegmentBytes, defaultMergeMin)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			value := make([]byte, size)
			r := rand.New(rand.NewPCG(1, 2))
			batch := NewBatch()
			start, ok := processCPU()
			n := 0
			for b.Loop() {
				k := r.IntN(keys)
				batch.Reset()
				batch.Put(uint32(k%64), fmt.Appendf(nil, "user%012d", k), value)
				if err := s.Apply(batch); err != nil {
					b.Fatal(err)
				}
				n++
			}
			waitMerges(s)
			if end, _ := processCPU(); ok && n > 0 {
				b.ReportMetric(float64((end-start).Microseconds())/float64(n), "cpu-µs/op")
			}
			st := s.LogStats()
			b.ReportMetric(float64(st.CopiedBytes)/float64(st.AppendedBytes), "merge-copied/written")
			b.ReportMetric(float64(st.DiskBytes)/float64(st.LiveBytes), "disk/live")
		})
	}
}
