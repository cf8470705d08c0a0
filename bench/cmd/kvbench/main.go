// Command kvbench measures the key-value path end to end: it starts node
// processes of the dynamo binary on loopback (N=3, R=2, W=2), drives them
// through the Go client in native and HTTP mode, and prints a markdown
// table of throughput, latency, errors, siblings and CPU per operation.
// With -readme it rewrites the "Key-value path" section of bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/dynamokv/dynamo/bench/kv"
	"github.com/dynamokv/dynamo/client"
)

type options struct {
	bin, mode, storage, readme string
	nodes, nodeProcs           int
	writeReadme                bool
	cfg                        kv.Config
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/dynamo", "the dynamo binary (make build puts it there)")
	flag.DurationVar(&o.cfg.Duration, "duration", 5*time.Second, "measured time per run")
	flag.DurationVar(&o.cfg.Warmup, "warmup", time.Second, "unmeasured time before each run")
	flag.IntVar(&o.cfg.Clients, "clients", 64, "client goroutines, one request in flight each")
	flag.IntVar(&o.cfg.Keys, "keys", 10000, "distinct keys, chosen uniformly")
	flag.IntVar(&o.cfg.ValueSize, "value", 100, "value size in bytes")
	flag.StringVar(&o.mode, "mode", "both", "client protocol: native, http or both")
	flag.StringVar(&o.storage, "storage", "log", "node storage: log, pebble or memory")
	flag.IntVar(&o.nodes, "nodes", 3, "node processes (at least 3 for N=3)")
	flag.IntVar(&o.nodeProcs, "node-gomaxprocs", 0, "GOMAXPROCS of each node process (0: Go's default, one per core)")
	flag.BoolVar(&o.writeReadme, "readme", false, "rewrite the Key-value path section of the README given by -readme-file")
	flag.StringVar(&o.readme, "readme-file", "bench/README.md", "the README -readme rewrites")
	flag.Parse()

	// An interrupt cancels the runs; the deferred cleanup then stops the
	// nodes and removes their data. A second interrupt exits at once, and
	// the nodes die with this process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("interrupted (the nodes are stopped and their data removed): %w", err)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	modes, err := parseModes(o.mode)
	if err != nil {
		return err
	}
	if o.storage != "log" && o.storage != "pebble" && o.storage != "memory" {
		return fmt.Errorf("-storage %q: want log, pebble or memory", o.storage)
	}
	c := o.cfg
	if o.nodes < 3 || o.nodes > 32 || o.nodeProcs < 0 || c.Clients < 1 || c.Clients > 10000 || c.Keys < 1 || c.Keys > 10_000_000 ||
		c.ValueSize < 0 || c.ValueSize > 1<<20 || c.Duration <= 0 || c.Warmup < 0 {
		return fmt.Errorf("flags out of range: want 3-32 nodes, 1-10000 clients, 1-10M keys, values up to 1 MiB, a positive duration")
	}

	cl, err := kv.StartCluster(ctx, kv.ClusterConfig{Bin: o.bin, Nodes: o.nodes, Storage: o.storage, N: 3, R: 2, W: 2,
		GOMAXPROCS: o.nodeProcs})
	if err != nil {
		return err
	}
	defer cl.Stop()
	fmt.Printf("started %d nodes (%s storage, N=3 R=2 W=2)\n", o.nodes, o.storage)
	var pids []int
	for _, n := range cl.Nodes {
		fmt.Printf("  %s pid %d, peers %s, http %s\n", n.ID, n.PID(), n.Peer, n.HTTP)
		pids = append(pids, n.PID())
	}

	ks := kv.NewKeyspace(c.Keys)
	var results []*kv.Result
	for i, mode := range modes {
		cli, err := client.New(ctx, client.Config{Seeds: cl.Seeds(), Mode: mode})
		if err != nil {
			return fmt.Errorf("%v client: %w", mode, err)
		}
		if i == 0 {
			fmt.Printf("preloading %d keys\n", c.Keys)
			if err := kv.Preload(ctx, cli, ks, c.Clients, c.ValueSize); err != nil {
				cli.Close()
				return err
			}
		}
		for _, mix := range []kv.Mix{kv.Mixed, kv.PutOnly, kv.GetOnly} {
			fmt.Printf("%s client, %s: %v warm-up + %v\n", mode, mix.Name, c.Warmup, c.Duration)
			r, err := kv.Run(ctx, cli, ks, mix, c, pids)
			if err == nil {
				if why := cl.Exited(); why != "" {
					err = fmt.Errorf("during the run: %s", why)
				}
			}
			if err != nil {
				cli.Close()
				return err
			}
			r.Mode = mode.String()
			results = append(results, r)
			report(r)
		}
		cli.Close()
	}

	fmt.Println()
	fmt.Print(kv.Table(results))
	fmt.Println()
	fmt.Print(kv.Comparison(results))
	if !o.writeReadme {
		return nil
	}
	setup := kv.Setup{
		Command:   command(),
		Date:      time.Now(),
		CPUs:      runtime.NumCPU(),
		GoVersion: runtime.Version(),
		Nodes:     o.nodes,
		Storage:   o.storage,
		NodeProcs: o.nodeProcs,
		Config:    c,
	}
	if err := kv.WriteSection(o.readme, kv.Section(setup, results)); err != nil {
		return fmt.Errorf("rewrite %s: %w", o.readme, err)
	}
	fmt.Printf("\nrewrote the %q section of %s\n", strings.TrimPrefix(kv.Heading, "## "), o.readme)
	return nil
}

// report prints one run's figures as soon as it ends, with an example
// message per error kind, which the table has no room for.
func report(r *kv.Result) {
	fmt.Printf("  %.0f ops/s, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, server CPU %.1f µs/op, %d errors\n",
		r.OpsPerSec(), r.Percentile(50), r.Percentile(99), r.Percentile(99.9), r.ServerCPUPerOp(), r.ErrorCount())
	kinds := make([]string, 0, len(r.FirstError))
	for k := range r.FirstError {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Printf("    %s x%d, e.g. %s\n", k, r.Errors[k], r.FirstError[k])
	}
}

func parseModes(s string) ([]client.Mode, error) {
	switch s {
	case "native":
		return []client.Mode{client.ModeNative}, nil
	case "http":
		return []client.Mode{client.ModeHTTP}, nil
	case "both":
		return []client.Mode{client.ModeNative, client.ModeHTTP}, nil
	}
	return nil, fmt.Errorf("-mode %q: want native, http or both", s)
}

// command is the command line that reproduces this run.
func command() string {
	return strings.TrimSpace("go run ./bench/cmd/kvbench " + strings.Join(os.Args[1:], " "))
}
