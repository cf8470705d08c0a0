package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkLogChurn rewrites a fixed set of 20 000 keys, each in one
// partition, as the vnodes do under an update-heavy workload, so that
// merges run (BenchmarkRewrite's keys land in any partition, so it
// rewrites few of them and merges seldom).
func BenchmarkLogChurn(b *testing.B) {
	for _, size := range []int{200, 1200, 2400} { // sets of one 100-byte, one 1 KiB and two 1 KiB versions
		b.Run(fmt.Sprintf("set=%dB", size), func(b *testing.B) {
			s, err := openLog(Options{Dir: b.TempDir()}, defaultSegmentBytes, defaultMergeMin)
			if err != nil {
				b.Fatal(err)
			}
			benchRewrite(b, s, size, func(r *rand.Rand) (uint32, int) { k := r.IntN(20_000); return uint32(k % 64), k })
		})
	}
}
