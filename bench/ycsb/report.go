package ycsb

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Name is how a result is named in tables: the workload and, but for load,
// the distribution.
func (r Result) Name() string {
	if r.Distribution == "" {
		return r.Workload
	}
	return r.Workload + " " + string(r.Distribution)
}

// Table prints the results as a terminal table, one row per workload and
// one per kind of operation in it.
func Table(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "WORKLOAD\tOP\tOPS\tOPS/S\tP50\tP99\tP99.9\tMAX\tERRORS\t")
	for _, r := range results {
		row := func(s Stats, opsPerSec string) {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.Name(), s.Kind, s.Ops, opsPerSec,
				Millis(s.P50), Millis(s.P99), Millis(s.P999), Millis(s.Max), s.Errors)
		}
		row(r.All, fmt.Sprintf("%.0f", r.OpsPerSec))
		if len(r.ByKind) > 1 {
			for _, s := range r.ByKind {
				row(s, "")
			}
		}
	}
	tw.Flush()
	for _, r := range results {
		for _, e := range r.FirstErrors {
			fmt.Fprintf(w, "%s: error: %s\n", r.Name(), e)
		}
	}
}

// Millis prints a latency in milliseconds.
func Millis(d time.Duration) string {
	ms := d.Seconds() * 1000
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// ProgressLine is one tick as a line: workload, time, ops/s, p99, errors.
func ProgressLine(t Tick) string {
	var b strings.Builder
	if t.Warmup {
		fmt.Fprintf(&b, "[%s] warming up %4.1fs", t.WorkloadName, t.Elapsed.Seconds())
		return b.String()
	}
	fmt.Fprintf(&b, "[%s] %5.1fs", t.WorkloadName, t.Elapsed.Seconds())
	if t.MeasureDuration > 0 {
		fmt.Fprintf(&b, "/%.0fs", t.MeasureDuration.Seconds())
	}
	fmt.Fprintf(&b, "  %8.0f ops/s  p99 %s  ops %d  errors %d", t.OpsPerSec, Millis(t.P99), t.TotalOps, t.TotalErrors)
	return b.String()
}
