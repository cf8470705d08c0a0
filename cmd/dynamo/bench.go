package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/dynamokv/dynamo/bench/ycsb"
	"github.com/dynamokv/dynamo/client"
)

const benchUsage = "bench [--workloads load,a,b,c] [--distribution uniform,zipfian] [--records N] [--clients C] [--duration D] [--plot FILE.png]"

// runBench drives a running cluster with YCSB's core workloads through the
// Go client and prints what it measured.
func runBench(args []string) error {
	f := newClientFlags("bench")
	workloads := f.fs.String("workloads", "load,a,b,c", "YCSB workloads in order: load (insert every record), a (50% update), b (5% update), c (read only), d (read latest, 5% insert), f (read-modify-write)")
	dists := f.fs.String("distribution", "uniform", "how records are drawn: uniform, zipfian (theta 0.99), or both, comma-separated (each workload runs once per distribution)")
	records := f.fs.Int("records", 20000, "records the load inserts and the workloads draw from (without load: records the cluster already holds)")
	clients := f.fs.Int("clients", 64, "client goroutines, one request in flight each")
	duration := f.fs.Duration("duration", 10*time.Second, "measured time of each workload but load")
	warmup := f.fs.Duration("warmup", 2*time.Second, "unmeasured time before each workload but load")
	value := f.fs.Int("value", 100, "value size in bytes")
	maxOps := f.fs.Int("max-ops", 50_000_000, "bound on the operations of one workload")
	r := f.fs.Int("r", 0, "read quorum R (default: the node's)")
	w := f.fs.Int("w", 0, "write quorum W (default: the node's)")
	plotFile := f.fs.String("plot", "", "draw throughput and latency percentiles over time to this .png file")
	output := f.fs.String("output", "table", "the summary as table or json")
	cpuProfile := f.fs.String("cpuprofile", "", "write this process's CPU profile (the client's side) to this file")
	if _, err := f.parse(args, benchUsage, 0); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // the flag package printed the usage
		}
		return err
	}
	ws, err := ycsb.ParseWorkloads(*workloads)
	if err != nil {
		return err
	}
	var ds []ycsb.Distribution
	for _, s := range strings.Split(*dists, ",") {
		d, err := ycsb.ParseDistribution(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		ds = append(ds, d)
	}
	switch {
	case *records < 1:
		return fmt.Errorf("--records %d: want at least 1", *records)
	case *clients < 1:
		return fmt.Errorf("--clients %d: want at least 1", *clients)
	case *value < 0 || *value > 1<<20:
		return fmt.Errorf("--value %d: want 0 to 1 MiB", *value)
	case *duration <= 0:
		return fmt.Errorf("--duration %v: want a positive duration", *duration)
	case *output != "table" && *output != "json":
		return fmt.Errorf("--output %q: want table or json", *output)
	}
	if *plotFile != "" && !strings.HasSuffix(strings.ToLower(*plotFile), ".png") {
		return fmt.Errorf("--plot %s: name a .png file", *plotFile)
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	cl, err := client.New(ctx, cfg)
	if err != nil {
		return err
	}
	store := ycsb.NewDynamoStore(cl, *r, *w)
	defer store.Close()
	runner := ycsb.NewRunner(ycsb.Config{Clients: *clients, Records: *records, ValueSize: *value,
		Duration: *duration, Warmup: *warmup, MaxOps: *maxOps}, store)

	progress := newProgress(os.Stderr)
	var results []ycsb.Result
	for _, wl := range ws {
		for i, d := range ds {
			if wl.Load && i > 0 {
				break // loading is the same under every distribution
			}
			res, err := runner.Run(ctx, wl, d, progress.tick)
			progress.done(res)
			if res.Elapsed > 0 {
				results = append(results, res)
			}
			if err != nil {
				summarize(os.Stdout, *output, results)
				return err
			}
			if wl.Load && res.All.Errors > 0 {
				summarize(os.Stdout, *output, results)
				return fmt.Errorf("the load stored %d of %d records: the workloads would read missing keys (first error: %s)",
					res.All.Ops, *records, strings.Join(res.FirstErrors, "; "))
			}
		}
	}
	summarize(os.Stdout, *output, results)
	if n := store.SiblingReads(); n > 0 {
		fmt.Fprintf(os.Stdout, "%d reads returned siblings: concurrent writes of one key, or writes of keys this run had not yet read or written, "+
			"which go without a context (blind) and add a sibling (run load first)\n", n)
	}
	if n := store.Merges(); n > 0 {
		fmt.Fprintf(os.Stdout, "%d answers came while another request of their key was out: their contexts were merged, so a write replaces what either covered\n", n)
	}
	if *plotFile != "" {
		title := fmt.Sprintf("dynamo bench: %d clients, %d records, %d-byte values", *clients, *records, *value)
		if err := ycsb.Plot(*plotFile, title, results); err != nil {
			return err
		}
		fmt.Fprintf(os.Stdout, "plot: %s\n", *plotFile)
	}
	if slices.ContainsFunc(results, func(r ycsb.Result) bool { return r.All.Errors > 0 }) {
		return errors.New("some operations failed (see ERRORS above)")
	}
	return nil
}

func summarize(w io.Writer, output string, results []ycsb.Result) {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(results)
		return
	}
	fmt.Fprintln(w)
	ycsb.Table(w, results)
}

// progress shows one live line on a terminal, rewritten every second, and
// one line every five seconds elsewhere (a log, a pipe).
type progress struct {
	w        io.Writer
	terminal bool
	last     time.Time
}

func newProgress(w *os.File) *progress {
	st, err := w.Stat()
	return &progress{w: w, terminal: err == nil && st.Mode()&os.ModeCharDevice != 0}
}

func (p *progress) tick(t ycsb.Tick) {
	line := ycsb.ProgressLine(t)
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		return
	}
	if time.Since(p.last) >= 5*time.Second {
		p.last = time.Now()
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) done(r ycsb.Result) {
	if p.terminal {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "[%s] done: %.0f ops/s over %.1fs, p99 %s, %d errors\n", r.Name(), r.OpsPerSec, r.Elapsed.Seconds(),
		ycsb.Millis(r.All.P99), r.All.Errors)
}
