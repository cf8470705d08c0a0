package history

import (
	"fmt"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := time.Millisecond
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * ms
	}
	tests := []struct {
		name            string
		sorted          []time.Duration
		wantP50, want99 time.Duration
	}{
		{"none", nil, 0, 0},
		{"one", []time.Duration{7 * ms}, 7 * ms, 7 * ms},
		{"two", []time.Duration{1 * ms, 9 * ms}, 1 * ms, 9 * ms},
		{"three", []time.Duration{1 * ms, 2 * ms, 3 * ms}, 2 * ms, 3 * ms},
		{"hundred", hundred, 50 * ms, 99 * ms},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, 50); got != tc.wantP50 {
				t.Errorf("p50 = %v, want %v", got, tc.wantP50)
			}
			if got := percentile(tc.sorted, 99); got != tc.want99 {
				t.Errorf("p99 = %v, want %v", got, tc.want99)
			}
		})
	}
	if got := percentile(hundred, 100); got != 100*ms {
		t.Errorf("p100 of 1..100 ms = %v, want 100ms", got)
	}
}

// TestPhaseLatencies checks the percentiles as Check reports them: from
// OK operations only, whatever order they arrive in.
func TestPhaseLatencies(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name                      string
		latencies                 []time.Duration
		wantP50, wantP99, wantMax time.Duration
	}{
		{"one", []time.Duration{5 * ms}, 5 * ms, 5 * ms, 5 * ms},
		{"two", []time.Duration{8 * ms, 2 * ms}, 2 * ms, 8 * ms, 8 * ms},
		{"hundred reversed", func() []time.Duration {
			l := make([]time.Duration, 100)
			for i := range l {
				l[i] = time.Duration(100-i) * ms
			}
			return l
		}(), 50 * ms, 99 * ms, 100 * ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ops []Op
			for i, l := range tc.latencies {
				ops = append(ops, Op{Element: fmt.Sprint(i), Start: time.Second, End: time.Second + l})
			}
			// A slow failure and a slow unknown must not count.
			ops = append(ops,
				Op{Element: "slow-failed", Start: time.Second, End: time.Hour, Outcome: Failed},
				Op{Element: "slow-unknown", Start: time.Second, End: time.Hour, Outcome: Unknown})
			r := Check(Input{Ops: ops, Phases: []Phase{{"p", 0, time.Minute}}})
			p := r.Phases[0]
			if p.P50 != tc.wantP50 || p.P99 != tc.wantP99 || p.Max != tc.wantMax {
				t.Errorf("p50/p99/max = %v/%v/%v, want %v/%v/%v", p.P50, p.P99, p.Max, tc.wantP50, tc.wantP99, tc.wantMax)
			}
		})
	}
}
