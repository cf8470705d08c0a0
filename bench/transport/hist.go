package transport

import (
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// maxLatency is the largest latency recorded exactly; anything slower is
// clamped to it, so one pathological reply cannot fail a run.
const maxLatency = int64(60 * time.Second)

// NewHistogram returns a latency histogram in nanoseconds with three
// significant digits: enough to tell 70 µs from 71 µs.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, maxLatency, 3)
}

func record(h *hdrhistogram.Histogram, d int64) {
	_ = h.RecordValue(min(max(d, 1), maxLatency))
}

// Summary is what a run reports of its latency histogram.
type Summary struct {
	Count         int64
	P50, P99, Max time.Duration
	Mean          time.Duration
}

// Summarize reads the usual quantiles off h.
func Summarize(h *hdrhistogram.Histogram) Summary {
	return Summary{
		Count: h.TotalCount(),
		P50:   time.Duration(h.ValueAtQuantile(50)),
		P99:   time.Duration(h.ValueAtQuantile(99)),
		Max:   time.Duration(h.Max()),
		Mean:  time.Duration(h.Mean()),
	}
}

func (s Summary) String() string {
	return fmt.Sprintf("n=%d p50=%s p99=%s max=%s mean=%s", s.Count, FormatDuration(s.P50),
		FormatDuration(s.P99), FormatDuration(s.Max), FormatDuration(s.Mean))
}

// FormatDuration prints latencies the way the tables do: µs below 1 ms,
// ms with two decimals above.
func FormatDuration(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
