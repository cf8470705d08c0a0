// Command faults runs the fault-injection suite: for each cluster size and
// nemesis, a fresh cluster of node processes on hosts of its own, clients
// adding unique elements while the nemesis strikes, then a heal, a wait
// for the replicas to agree and a check that every acknowledged write is
// still there. It exits 1 when any run lost or invented a write.
//
//	go run ./faults/cmd/faults                      # 3 and 5 nodes, every nemesis
//	go run ./faults/cmd/faults -nodes 5 -nemesis kill,partition
//
// Network namespaces need root; without it the link nemeses are skipped.
package main

import (
	"context"
	"errors"
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

	"github.com/dynamokv/dynamo/faults"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(2)
	}
}

func run() error {
	var (
		bin     = flag.String("bin", "", "the dynamo binary (default: build ./cmd/dynamo)")
		nodes   = flag.String("nodes", "3,5", "cluster sizes, comma-separated")
		which   = flag.String("nemesis", "all", "nemeses, comma-separated, or all: "+strings.Join(faults.Nemeses, ", "))
		before  = flag.Duration("before", 0, "calm phase before the fault (default 3s)")
		fault   = flag.Duration("fault", 0, "fault phase (default 8s)")
		after   = flag.Duration("after", 0, "healed phase (default 4s)")
		workers = flag.Int("workers", 0, "concurrent clients (default twice the nodes)")
		setKeys = flag.Int("set-keys", 0, "keys the read-modify-writes share (default 8)")
		keep    = flag.Bool("keep", false, "keep every run's data and logs, not only failed ones")
		list    = flag.Bool("list", false, "list the nemeses and exit")
		members = flag.Bool("membership", true, "also run the membership changes (3 nodes to 5 and back to 3, under load)")
	)
	flag.Parse()
	if *list {
		for _, n := range faults.Nemeses {
			fmt.Printf("%-10s %s\n", n, faults.Describe(n))
		}
		return nil
	}
	sizes, err := parseSizes(*nodes)
	if err != nil {
		return err
	}
	names := faults.Nemeses
	if *which != "all" {
		names = strings.Split(*which, ",")
		for _, n := range names {
			if faults.Describe(n) == "" {
				return fmt.Errorf("unknown nemesis %q: want one of %s", n, strings.Join(faults.Nemeses, ", "))
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *bin == "" {
		dir, err := os.MkdirTemp("", "dynamo-faults-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*bin = filepath.Join(dir, "dynamo")
		fmt.Fprintln(os.Stderr, "building ./cmd/dynamo")
		if out, err := exec.Command("go", "build", "-o", *bin, "./cmd/dynamo").CombinedOutput(); err != nil {
			return fmt.Errorf("build ./cmd/dynamo: %v\n%s", err, out)
		}
	}

	var results []faults.Result
	failed := false
	start := time.Now()
	for _, size := range sizes {
		for _, name := range names {
			res, err := faults.Run(ctx, faults.Config{Binary: *bin, Nodes: size, Nemesis: name,
				Before: *before, Fault: *fault, After: *after, Workers: *workers, SetKeys: *setKeys, Keep: *keep, Log: os.Stderr})
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return errors.New("interrupted; everything the run made is torn down")
				}
				return fmt.Errorf("%d nodes, %s: %w", size, name, err)
			}
			results = append(results, res)
			if res.Skipped != "" {
				fmt.Printf("%d nodes, %s: skipped (%s)\n\n", size, name, res.Skipped)
				continue
			}
			fmt.Println(res.Report.Table())
			if len(res.Errors) > 0 {
				fmt.Println("commonest errors:")
				for _, e := range res.Errors {
					fmt.Println("  " + e)
				}
			}
			fmt.Println(res.Report.SummaryLine())
			fmt.Println()
			if !res.Report.Pass() {
				failed = true
				fmt.Printf("data and logs kept in %s\n", res.Dir)
				for id, tail := range res.Logs {
					fmt.Printf("--- last lines of %s's log\n%s\n", id, tail)
				}
			}
		}
	}
	if *members {
		res, err := faults.RunMembership(ctx, faults.Config{Binary: *bin, Workers: *workers, SetKeys: *setKeys, Keep: *keep, Log: os.Stderr})
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return errors.New("interrupted; everything the run made is torn down")
			}
			return fmt.Errorf("membership: %w", err)
		}
		results = append(results, res.Result)
		fmt.Println(res.Report.Table())
		for _, st := range res.Steps {
			fmt.Printf("%-20s settled in %v\n", st.Name, st.Settled.Round(time.Millisecond))
		}
		fmt.Printf("reads of acknowledged writes at R=2: %d, missing %d, failed %d\n", res.Reads, res.Missing, res.ReadFailed)
		fmt.Printf("Merkle trees rebuilt: %d\nrefused joins:\n", res.TreeBuilds)
		for _, r := range res.Refused {
			fmt.Println("  " + r)
		}
		fmt.Println(res.Report.SummaryLine())
		fmt.Println()
		if !res.Pass() {
			failed = true
			fmt.Printf("membership run failed: %v %q; data and logs kept in %s\n", res.Problems, res.ReadErrors, res.Dir)
			for id, tail := range res.Logs {
				fmt.Printf("--- last lines of %s's log\n%s\n", id, tail)
			}
		}
	}
	fmt.Printf("every run (%s, %v):\n%s", time.Now().Format("2006-01-02"), time.Since(start).Round(time.Second), faults.Overview(results))
	if failed {
		os.Exit(1)
	}
	return nil
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 3 || n > 20 {
			return nil, fmt.Errorf("-nodes %q: want sizes from 3 to 20, comma-separated", s)
		}
		out = append(out, n)
	}
	return out, nil
}
