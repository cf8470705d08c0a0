// Command benchall runs the actor-level transport benchmarks: the store's
// msgpack transport and hollywood's remote, side by side in one run, between
// this process (the sender) and a receiver process it starts from its own
// binary. It prints a markdown table of medians.
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	tb "github.com/dynamokv/dynamo/bench/transport"
)

const host = "127.0.0.1" // all benchmark traffic stays on loopback

type options struct {
	runs                 int
	warmup, duration     time.Duration
	rrWarmup, rrDuration time.Duration
	senders              int
	inflight             []int
	timeout              time.Duration
	retryBudget          time.Duration
	quietCPU             float64
	receiverProfile      string
	senderProfile        string
	only                 string
	verbose              bool
}

func main() {
	role := flag.String("role", "sender", "sender, or receiver (the child process this command starts itself)")
	maxLife := flag.Duration("max-life", 10*time.Minute, "receiver: exit after this long whatever happens")
	var o options
	flag.IntVar(&o.runs, "runs", 3, "runs per figure; the table shows medians")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "fire-and-forget warm-up")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "fire-and-forget measured window")
	flag.DurationVar(&o.rrWarmup, "rr-warmup", 500*time.Millisecond, "request/response warm-up")
	flag.DurationVar(&o.rrDuration, "rr-duration", 2500*time.Millisecond, "request/response measured window")
	flag.IntVar(&o.senders, "senders", 1, "flood actors in the fire-and-forget test")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "bound on every wait for the receiver")
	flag.DurationVar(&o.retryBudget, "retry-budget", 45*time.Second, "time all repeats of disturbed tests may take together")
	flag.Float64Var(&o.quietCPU, "quiet-cpu", 0.25, "CPUs other processes may take during a test before it is repeated")
	flag.StringVar(&o.receiverProfile, "receiver-cpuprofile", "", "write the receiver process's CPU profile to this file")
	flag.StringVar(&o.senderProfile, "cpuprofile", "", "write this (the sender) process's CPU profile to this file")
	flag.StringVar(&o.only, "only", "", "run one test only: ff (fire-and-forget) or rr (request/response)")
	flag.BoolVar(&o.verbose, "v", false, "show the transports' own log output")
	flag.Parse()
	o.inflight = []int{1, 64}

	// hollywood logs every connection teardown at error level; the run's
	// own errors are reported below.
	if !o.verbose {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	var err error
	switch *role {
	case "receiver":
		err = runReceiver(host, o.receiverProfile, *maxLife)
	case "sender":
		err = runSender(o)
	default:
		err = fmt.Errorf("unknown role %q", *role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchall:", err)
		os.Exit(1)
	}
}

func runSender(o options) error {
	args := []string{"-role", "receiver"}
	if o.receiverProfile != "" {
		args = append(args, "-receiver-cpuprofile", o.receiverProfile)
	}
	if o.verbose {
		args = append(args, "-v")
	}
	c, err := startChild(args, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.stop()
	// A signal must not leave the receiver running.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		if _, ok := <-sig; ok {
			c.stop()
			os.Exit(1)
		}
	}()

	nodes := make([]*tb.Node, len(tb.Kinds))
	for i, k := range tb.Kinds {
		n, err := tb.NewNode(k, host)
		if err != nil {
			return err
		}
		defer n.Stop(2 * time.Second)
		nodes[i] = n
	}
	if o.senderProfile != "" {
		f, err := os.Create(o.senderProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(os.Stderr, "transport benchmark: %d runs, %d CPUs, %s\n", o.runs, runtime.NumCPU(), runtime.Version())

	res := newResults(o)
	rt := &retrier{pids: []int{os.Getpid(), c.cmd.Process.Pid}, budget: o.retryBudget, quiet: o.quietCPU, res: res}
	// The flood cap bounds what hollywood's unbounded queues can hold (about
	// 200 bytes a message); it is far above what 4 s of sending reaches.
	ff := tb.Config{Warmup: o.warmup, Duration: o.duration, Senders: o.senders, Timeout: o.timeout, MaxMessages: 20_000_000}
	rr := tb.Config{Warmup: o.rrWarmup, Duration: o.rrDuration, Timeout: o.timeout, MaxMessages: 100_000_000}
	for run := range o.runs {
		// Alternate which transport goes first, so that neither always
		// runs on a warmer (or more tired) machine.
		order := []int{0, 1}
		if run%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			if o.only == "rr" {
				break
			}
			n, peer := nodes[i], c.addrs[i]
			r, others, err := quietly(rt, func() (tb.FFResult, error) { return tb.FireAndForget(n, peer, ff) })
			if err != nil {
				return fmt.Errorf("run %d, %s, fire-and-forget: %w", run+1, n.Kind, err)
			}
			fmt.Fprintf(os.Stderr, "run %d  %-17s fire-and-forget  delivered %9.0f/s  offered %9.0f/s  sent %d  drops %d  drain %s  others %.2f CPU\n",
				run+1, n.Kind, r.Delivered, r.Offered, r.Sent, r.Drops, r.Drain.Round(time.Millisecond), others)
			res.ff[i] = append(res.ff[i], r)
		}
		for j, k := range o.inflight {
			for _, i := range order {
				if o.only == "ff" {
					break
				}
				n, peer := nodes[i], c.addrs[i]
				r, others, err := quietly(rt, func() (tb.DriverResult, error) { return tb.RequestResponse(n, peer, k, rr) })
				if err != nil {
					return fmt.Errorf("run %d, %s, request/response %d in flight: %w", run+1, n.Kind, k, err)
				}
				fmt.Fprintf(os.Stderr, "run %d  %-17s req/resp %2d in flight  %8.0f ops/s  %s  others %.2f CPU\n",
					run+1, n.Kind, k, r.Rate(), r.Latency, others)
				res.rr[j][i] = append(res.rr[j][i], r)
			}
		}
	}
	fmt.Print(res.table(nodes, rt.retries))
	return nil
}

// retrier repeats a test that other processes disturbed, within a time
// budget for the whole benchmark: on a shared machine a burst of someone
// else's work would otherwise decide a median.
type retrier struct {
	pids    []int // ours: this process and the receiver
	budget  time.Duration
	quiet   float64 // CPUs other processes may take without a repeat
	retries int
	res     *results
}

// quietly runs test at most three times, until other processes took less
// than rt.quiet CPUs during it or the budget is spent, and returns the
// least disturbed attempt with what other processes took during it.
func quietly[T any](rt *retrier, test func() (T, error)) (T, float64, error) {
	var best T
	bestOthers := -1.0
	for attempt := 1; ; attempt++ {
		start := time.Now()
		m := startMeter(rt.pids...)
		r, err := test()
		if err != nil {
			return r, 0, err
		}
		others := m.foreign()
		if bestOthers < 0 || others < bestOthers {
			best, bestOthers = r, others
		}
		took := time.Since(start)
		if others < rt.quiet || attempt == 3 || took > rt.budget {
			if bestOthers >= 0 {
				rt.res.others = append(rt.res.others, bestOthers)
			}
			return best, bestOthers, nil
		}
		rt.budget -= took
		rt.retries++
		fmt.Fprintf(os.Stderr, "        other processes took %.2f CPUs: repeating\n", others)
	}
}
