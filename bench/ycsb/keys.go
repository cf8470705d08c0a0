// Package ycsb is the load of the Yahoo! Cloud Serving Benchmark (Cooper
// et al., SoCC 2010): its core workloads, its key distributions, and a
// runner that drives any Store with them and measures what it saw. The
// generators are pure (the caller's random source, no clock); the runner
// is the only part that keeps time.
package ycsb

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// Key is the 16-byte key of record i.
func Key(i int) []byte { return fmt.Appendf(nil, "user%012d", i) }

// Chooser picks the record an operation touches, of the n there are now.
type Chooser interface {
	Next(r *rand.Rand, n int) int
}

// Uniform picks every record alike.
type Uniform struct{}

func (Uniform) Next(r *rand.Rand, n int) int { return r.IntN(n) }

// Zipfian picks record ranks by a Zipf law of constant theta (YCSB's
// default 0.99: a few records take most operations), scrambled by a hash
// so that the hot records are spread over the key space rather than
// packed at its start, as YCSB's scrambled zipfian does. It uses the
// method of Gray et al. ("Quickly generating billion-record synthetic
// databases", SIGMOD 1994), which allows theta < 1, where math/rand's Zipf
// needs s > 1. Its constants are computed for the item count given, the
// record count after loading; inserts beyond it are picked by Latest.
type Zipfian struct {
	items              int
	theta, alpha, zeta float64
	eta, half          float64
	scramble           bool
}

// NewZipfian prepares a zipfian over items ranks; scramble hashes ranks.
func NewZipfian(items int, theta float64, scramble bool) *Zipfian {
	if items < 1 {
		items = 1
	}
	zetan := zeta(items, theta)
	z := &Zipfian{items: items, theta: theta, zeta: zetan, alpha: 1 / (1 - theta), scramble: scramble}
	z.eta = (1 - math.Pow(2/float64(items), 1-theta)) / (1 - zeta(2, theta)/zetan)
	z.half = 1 + math.Pow(0.5, theta)
	return z
}

func zeta(n int, theta float64) float64 {
	var s float64
	for i := 1; i <= n; i++ {
		s += 1 / math.Pow(float64(i), theta)
	}
	return s
}

// rank draws a rank in [0, items): 0 is the most popular.
func (z *Zipfian) rank(r *rand.Rand) int {
	u := r.Float64()
	uz := u * z.zeta
	switch {
	case uz < 1:
		return 0
	case uz < z.half:
		return 1
	}
	k := int(float64(z.items) * math.Pow(z.eta*u-z.eta+1, z.alpha))
	return min(k, z.items-1)
}

// Next picks among the first n records (n at least the item count when
// scrambled, as the workloads use it).
func (z *Zipfian) Next(r *rand.Rand, n int) int {
	k := z.rank(r)
	if z.scramble {
		h := fnv.New64a()
		var b [8]byte
		for i := range b {
			b[i] = byte(k >> (8 * i))
		}
		_, _ = h.Write(b[:])
		k = int(h.Sum64() % uint64(z.items))
	}
	return min(k, n-1)
}

// Latest favours the newest records: the most recent insert is the most
// popular, by a zipfian over the distance from the newest (workload D).
type Latest struct{ z *Zipfian }

// NewLatest prepares Latest over about items records.
func NewLatest(items int) Latest { return Latest{z: NewZipfian(items, 0.99, false)} }

func (l Latest) Next(r *rand.Rand, n int) int {
	d := l.z.rank(r)
	return max(n-1-d, 0)
}
