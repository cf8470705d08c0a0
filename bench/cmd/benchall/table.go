package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	tb "github.com/dynamokv/dynamo/bench/transport"
)

// results holds every run, per transport (index into tb.Kinds).
type results struct {
	o      options
	ff     [][]tb.FFResult
	rr     [][][]tb.DriverResult // [inflight index][transport][run]
	others []float64             // CPUs other processes took, per test run
}

func newResults(o options) *results {
	r := &results{o: o, ff: make([][]tb.FFResult, len(tb.Kinds))}
	for range o.inflight {
		r.rr = append(r.rr, make([][]tb.DriverResult, len(tb.Kinds)))
	}
	return r
}

// median of the figure f over runs: each figure is its own median, so a
// p99 is not taken from the run that had the median rate.
func median[T any](runs []T, f func(T) float64) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func rate(v float64) string {
	switch {
	case v >= 1_000_000:
		return fmt.Sprintf("%.2fM", v/1_000_000)
	case v >= 100_000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v >= 1000:
		return fmt.Sprintf("%.1fk", v/1000)
	}
	return fmt.Sprintf("%.0f", v)
}

func (r *results) table(nodes []*tb.Node, retries int) string {
	var b strings.Builder
	row := func(name string, cell func(i int) string) {
		fmt.Fprintf(&b, "| %s |", name)
		for i := range tb.Kinds {
			fmt.Fprintf(&b, " %s |", cell(i))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\nMedians of %d runs; fire-and-forget %s after %s warm-up, request/response %s after %s.\n\n",
		r.o.runs, r.o.duration, r.o.warmup, r.o.rrDuration, r.o.rrWarmup)
	b.WriteString("| test |")
	for _, k := range tb.Kinds {
		fmt.Fprintf(&b, " %s |", k)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(tb.Kinds)) + "\n")

	row("fire-and-forget, msgs/s delivered", func(i int) string {
		return rate(median(r.ff[i], func(x tb.FFResult) float64 { return x.Delivered }))
	})
	row("fire-and-forget, msgs/s offered by the sender", func(i int) string {
		return rate(median(r.ff[i], func(x tb.FFResult) float64 { return x.Offered }))
	})
	row("fire-and-forget, sender drops per run", func(i int) string {
		if !nodes[i].CountsDrops() {
			return "none counted (queues without bound)"
		}
		return fmt.Sprintf("%.0f", median(r.ff[i], func(x tb.FFResult) float64 { return float64(x.Drops) }))
	})
	for j, k := range r.o.inflight {
		runs := r.rr[j]
		row(fmt.Sprintf("req/resp %d in flight, ops/s", k), func(i int) string {
			return rate(median(runs[i], tb.DriverResult.Rate))
		})
		row(fmt.Sprintf("req/resp %d in flight, p50", k), func(i int) string {
			return tb.FormatDuration(time.Duration(median(runs[i], func(x tb.DriverResult) float64 { return float64(x.Latency.P50) })))
		})
		row(fmt.Sprintf("req/resp %d in flight, p99", k), func(i int) string {
			return tb.FormatDuration(time.Duration(median(runs[i], func(x tb.DriverResult) float64 { return float64(x.Latency.P99) })))
		})
	}
	if len(r.others) > 0 {
		fmt.Fprintf(&b, "\nOther processes on the machine took a median of %.2f CPUs during the tests kept (at most %.2f); %d disturbed tests were repeated.\n",
			median(r.others, func(x float64) float64 { return x }), slices.Max(r.others), retries)
	}
	return b.String()
}
