// Command sidebyside runs YCSB's workloads against three node processes of
// this store and three olric members, with the same copies and quorums (3
// copies, reads and writes of 2), the same load generator and client
// count, alternating the two stores round by round so that drift on the
// machine hits both. It prints ops/s, p50/p99/p99.9, and server and client
// CPU per operation of each, the ratio of medians, and with -readme
// rewrites the "Side by side with olric" section of bench/README.md.
//
// It lives in a module of its own so that the store's module never
// depends on olric.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dynamokv/dynamo/bench/kv"
	"github.com/dynamokv/dynamo/bench/olric/olricstore"
	"github.com/dynamokv/dynamo/bench/ycsb"
	"github.com/dynamokv/dynamo/client"
)

type options struct {
	bin, olricBin, readme string
	storage               string
	workloads             []ycsb.Workload
	dists                 []ycsb.Distribution
	values                []int
	rounds                int
	cfg                   ycsb.Config
	warmup                time.Duration
	writeReadme           bool
}

func main() {
	var o options
	var workloads, dists, values string
	flag.StringVar(&o.bin, "bin", "bin/dynamo", "the dynamo binary (make build puts it there)")
	flag.StringVar(&o.olricBin, "olricnode", "", "the olric member binary (default: built from this module into a temporary directory)")
	flag.StringVar(&workloads, "workloads", "a,b,c,f", "YCSB workloads after the load: a, b, c, d, f")
	flag.StringVar(&dists, "distribution", "uniform,zipfian", "key distributions, each run in turn")
	flag.StringVar(&values, "values", "100,1024", "value sizes in bytes, comma-separated")
	flag.StringVar(&o.storage, "storage", "log", "the store's storage engine: log or pebble")
	flag.IntVar(&o.rounds, "rounds", 2, "rounds per store, alternated; figures are medians over rounds")
	flag.IntVar(&o.cfg.Clients, "clients", 64, "client goroutines, one request in flight each")
	flag.IntVar(&o.cfg.Records, "records", 20000, "records loaded")
	flag.DurationVar(&o.cfg.Duration, "duration", 5*time.Second, "measured time per workload")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured time before each workload")
	flag.BoolVar(&o.writeReadme, "readme", false, "rewrite the side-by-side section of the README given by -readme-file")
	flag.StringVar(&o.readme, "readme-file", "bench/README.md", "the README -readme rewrites")
	flag.Parse()

	var err error
	if o.workloads, err = ycsb.ParseWorkloads(workloads); err == nil {
		o.dists, err = parseDists(dists)
	}
	if err == nil {
		o.values, err = parseInts(values)
	}
	if err == nil && o.rounds < 1 {
		err = fmt.Errorf("-rounds %d: want at least 1", o.rounds)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		os.Exit(1)
	}
}

func parseDists(s string) ([]ycsb.Distribution, error) {
	var out []ycsb.Distribution
	for _, p := range strings.Split(s, ",") {
		d, err := ycsb.ParseDistribution(strings.TrimSpace(p))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 1 || v > 1<<20 {
			return nil, fmt.Errorf("value size %q: want 1 to 1048576 bytes", p)
		}
		out = append(out, v)
	}
	return out, nil
}

// store is one system under test, started fresh for each round.
type store struct {
	name  string
	start func(ctx context.Context) (ycsb.Store, []int, func(), error)
}

func run(ctx context.Context, o options) error {
	if _, err := os.Stat(o.bin); err != nil {
		return fmt.Errorf("no dynamo binary at %s: run `make build` first, or point -bin at one", o.bin)
	}
	if o.olricBin == "" {
		dir, err := os.MkdirTemp("", "sidebyside")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.olricBin = filepath.Join(dir, "olricnode")
		build := exec.CommandContext(ctx, "go", "build", "-o", o.olricBin, "./cmd/olricnode")
		build.Dir = moduleDir()
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build olricnode: %v\n%s", err, out)
		}
	}
	stores := []store{
		{name: "dynamo", start: func(ctx context.Context) (ycsb.Store, []int, func(), error) {
			c, err := kv.StartCluster(ctx, kv.ClusterConfig{Bin: o.bin, Nodes: 3, Storage: o.storage, N: 3, R: 2, W: 2})
			if err != nil {
				return nil, nil, nil, err
			}
			cl, err := client.New(ctx, client.Config{Seeds: c.Seeds()})
			if err != nil {
				c.Stop()
				return nil, nil, nil, err
			}
			var pids []int
			for _, n := range c.Nodes {
				pids = append(pids, n.PID())
			}
			return ycsb.NewDynamoStore(cl, 2, 2), pids, c.Stop, nil
		}},
		{name: "olric", start: func(ctx context.Context) (ycsb.Store, []int, func(), error) {
			c, err := olricstore.StartCluster(ctx, o.olricBin, 3)
			if err != nil {
				return nil, nil, nil, err
			}
			s, err := olricstore.Dial(ctx, c.Addrs(), "bench")
			if err != nil {
				c.Stop()
				return nil, nil, nil, err
			}
			return s, c.PIDs(), c.Stop, nil
		}},
	}

	var rows []measured
	began := time.Now()
	for _, value := range o.values {
		for round := range o.rounds {
			order := stores
			if round%2 == 1 {
				order = []store{stores[1], stores[0]}
			}
			for _, st := range order {
				fmt.Fprintf(os.Stderr, "== %s, %d-byte values, round %d of %d (%.0fs so far)\n", st.name, value, round+1, o.rounds, time.Since(began).Seconds())
				got, err := runStore(ctx, o, st, value, round)
				rows = append(rows, got...)
				if err != nil {
					return fmt.Errorf("%s, round %d: %w", st.name, round+1, err)
				}
			}
		}
	}
	table := report(o, rows)
	fmt.Println(table)
	if o.writeReadme {
		heading := "## " + sectionTitle
		if err := kv.ReplaceSection(o.readme, heading, "", heading+"\n\n"+section(o, table)); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "rewrote %q in %s\n", sectionTitle, o.readme)
	}
	return nil
}

// moduleDir is this module's root, where olricnode is built from: the
// working directory when it holds the module, else bench/olric under it.
func moduleDir() string {
	if _, err := os.Stat("cmd/olricnode"); err == nil {
		return "."
	}
	return filepath.Join("bench", "olric")
}

// measured is one workload of one store in one round.
type measured struct {
	store    string
	value    int
	round    int
	res      ycsb.Result
	serverUs float64 // node CPU per operation
	clientUs float64 // this process's CPU per operation
	others   float64 // cores the rest of the machine used meanwhile
}

func runStore(ctx context.Context, o options, st store, value, round int) ([]measured, error) {
	s, pids, stop, err := st.start(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()
	defer s.Close()
	cfg := o.cfg
	cfg.ValueSize = value
	cfg.Seed = uint64(round + 1)
	runner := ycsb.NewRunner(cfg, s)
	var out []measured
	measure := func(w ycsb.Workload, d ycsb.Distribution) error {
		if !w.Load && o.warmup > 0 {
			warm := ycsb.NewRunner(withDuration(cfg, o.warmup), s)
			if _, err := warm.Run(ctx, w, d, nil); err != nil {
				return err
			}
		}
		before, err := kv.SampleCPU(pids)
		if err != nil {
			return err
		}
		res, err := runner.Run(ctx, w, d, nil)
		if err != nil {
			return err
		}
		after, err := kv.SampleCPU(pids)
		if err != nil {
			return err
		}
		used := after.Sub(before)
		ops := float64(max(res.All.Ops, 1))
		m := measured{store: st.name, value: value, round: round, res: res,
			serverUs: float64(used.Nodes.Microseconds()) / ops, clientUs: float64(used.Self.Microseconds()) / ops,
			others: used.Others().Seconds() / max(res.Elapsed.Seconds(), 1e-9)}
		out = append(out, m)
		fmt.Fprintf(os.Stderr, "   %-10s %8.0f ops/s  p99 %-9s server %5.1f µs/op  client %5.1f µs/op  errors %d\n", res.Name(),
			res.OpsPerSec, ycsb.Millis(res.All.P99), m.serverUs, m.clientUs, res.All.Errors)
		if res.All.Errors > 0 {
			return fmt.Errorf("%s: %d operations failed: %s", res.Name(), res.All.Errors, strings.Join(res.FirstErrors, "; "))
		}
		return nil
	}
	if err := measure(ycsb.Load, ""); err != nil {
		return out, err
	}
	for _, w := range o.workloads {
		for _, d := range o.dists {
			if err := measure(w, d); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

func withDuration(c ycsb.Config, d time.Duration) ycsb.Config {
	c.Duration = d
	return c
}
