package history

import "time"

// percentile returns the nearest-rank p-th percentile (p in 1..100) of
// sorted, which must be in ascending order: the smallest value with at
// least p% of the values at or below it. It returns 0 for no values.
//
// The rank is computed in integers, ceil(p*n/100), because the float form
// misranks exact cases: 0.99*100 is 99.00000000000001, whose ceiling would
// pick the maximum of 100 values as their p99.
func percentile(sorted []time.Duration, p int) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := (p*n + 99) / 100
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}
