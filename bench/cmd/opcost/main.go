// Command opcost says where an operation's cost goes: it starts three node
// processes (N=3, R=W=2, log storage), loads them, runs YCSB workloads through
// the Go client, and divides by the operations what the nodes and the
// client spent meanwhile: CPU, goroutines created (hollywood starts one
// each time an idle actor gets a message, so these are actor wake-ups),
// heap allocations, system calls (with perf, when the kernel lets it
// count them) and bytes on the wire. It prints a markdown table, one row
// per workload; bench/README.md keeps one per change that moved them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dynamokv/dynamo/bench/kv"
	"github.com/dynamokv/dynamo/bench/ycsb"
	"github.com/dynamokv/dynamo/client"
)

func main() {
	bin := flag.String("bin", "bin/dynamo", "the dynamo binary")
	workloads := flag.String("workloads", "a,c", "YCSB workloads after the load")
	dist := flag.String("distribution", "uniform", "uniform or zipfian")
	records := flag.Int("records", 20000, "records loaded")
	clients := flag.Int("clients", 64, "client goroutines")
	value := flag.Int("value", 100, "value size in bytes")
	duration := flag.Duration("duration", 8*time.Second, "measured time per workload")
	storage := flag.String("storage", "log", "the nodes' storage: log or pebble")
	label := flag.String("label", "", "a name for the binary, printed in each row (e.g. the change measured)")
	flag.Parse()
	ws, err := ycsb.ParseWorkloads(*workloads)
	if err == nil {
		var d ycsb.Distribution
		if d, err = ycsb.ParseDistribution(*dist); err == nil {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			err = run(ctx, *bin, *storage, *label, ws, d, ycsb.Config{Clients: *clients, Records: *records, ValueSize: *value, Duration: *duration})
			stop()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "opcost:", err)
		os.Exit(1)
	}
}

// sample is what the nodes and this process had spent at one moment.
type sample struct {
	cpu                      kv.CPUSample
	wakeups, allocs, sent    float64 // summed over the nodes
	selfGoroutines, selfAllc float64
}

var nodeMetrics = []string{"go_sched_goroutines_created_goroutines_total", "go_gc_heap_allocs_objects_total", "dynamo_transport_sent_bytes_total"}

func take(c *kv.Cluster, pids []int) (sample, error) {
	var s sample
	var err error
	if s.cpu, err = kv.SampleCPU(pids); err != nil {
		return s, err
	}
	for _, n := range c.Nodes {
		all, err := kv.Metrics(n)
		if err != nil {
			return s, fmt.Errorf("%s: %w", n.ID, err)
		}
		var v [3]float64
		for i, name := range nodeMetrics {
			var ok bool
			if v[i], ok = all[name]; !ok {
				return s, fmt.Errorf("%s: no metric %s (a binary older than these metrics?)", n.ID, name)
			}
		}
		s.wakeups += v[0]
		s.allocs += v[1]
		s.sent += v[2]
	}
	ms := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}, {Name: "/gc/heap/allocs:objects"}}
	metrics.Read(ms)
	s.selfGoroutines, s.selfAllc = float64(ms[0].Value.Uint64()), float64(ms[1].Value.Uint64())
	return s, nil
}

// syscalls counts the system calls of pids while it runs, with perf; it
// returns a function that stops counting and gives the total, or nil when
// perf cannot count them here.
func syscalls(pids []int) func() (float64, bool) {
	if _, err := exec.LookPath("perf"); err != nil {
		return nil
	}
	var list []string
	for _, p := range pids {
		list = append(list, strconv.Itoa(p))
	}
	out, err := os.CreateTemp("", "opcost-perf")
	if err != nil {
		return nil
	}
	cmd := exec.Command("perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "-p", strings.Join(list, ","), "-o", out.Name())
	if err := cmd.Start(); err != nil {
		os.Remove(out.Name())
		return nil
	}
	return func() (float64, bool) {
		defer os.Remove(out.Name())
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		data, _ := os.ReadFile(out.Name())
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Split(line, ","); len(f) > 2 && strings.Contains(line, "raw_syscalls") {
				if v, err := strconv.ParseFloat(f[0], 64); err == nil {
					return v, true
				}
			}
		}
		return 0, false
	}
}

func run(ctx context.Context, bin, storage, label string, ws []ycsb.Workload, d ycsb.Distribution, cfg ycsb.Config) error {
	c, err := kv.StartCluster(ctx, kv.ClusterConfig{Bin: bin, Nodes: 3, Storage: storage, N: 3, R: 2, W: 2})
	if err != nil {
		return err
	}
	defer c.Stop()
	var pids []int
	for _, n := range c.Nodes {
		pids = append(pids, n.PID())
	}
	cl, err := client.New(ctx, client.Config{Seeds: c.Seeds()})
	if err != nil {
		return err
	}
	store := ycsb.NewDynamoStore(cl, 2, 2)
	defer store.Close()
	runner := ycsb.NewRunner(cfg, store)
	if _, err := runner.Run(ctx, ycsb.Load, "", nil); err != nil {
		return err
	}
	fmt.Println("| binary | workload | ops/s | p99 ms | node CPU µs/op | client CPU µs/op | node wake-ups/op | node allocs/op | node syscalls/op | node bytes sent/op | client goroutines/op | client allocs/op | client syscalls/op |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	self := os.Getpid()
	for _, w := range ws {
		before, err := take(c, pids)
		if err != nil {
			return err
		}
		stopNodes, stopSelf := syscalls(pids), syscalls([]int{self})
		res, err := runner.Run(ctx, w, d, nil)
		nodeCalls, selfCalls := "–", "–"
		ops := float64(max(res.All.Ops, 1))
		if stopNodes != nil {
			if v, ok := stopNodes(); ok {
				nodeCalls = fmt.Sprintf("%.1f", v/ops)
			}
		}
		if stopSelf != nil {
			if v, ok := stopSelf(); ok {
				selfCalls = fmt.Sprintf("%.1f", v/ops)
			}
		}
		if err != nil {
			return err
		}
		after, err := take(c, pids)
		if err != nil {
			return err
		}
		cpu := after.cpu.Sub(before.cpu)
		fmt.Printf("| %s | %s | %.0f | %.2f | %.1f | %.1f | %.2f | %.0f | %s | %.0f | %.2f | %.0f | %s |\n", label, res.Name(), res.OpsPerSec,
			res.All.P99.Seconds()*1000, float64(cpu.Nodes.Microseconds())/ops, float64(cpu.Self.Microseconds())/ops,
			(after.wakeups-before.wakeups)/ops, (after.allocs-before.allocs)/ops, nodeCalls, (after.sent-before.sent)/ops,
			(after.selfGoroutines-before.selfGoroutines)/ops, (after.selfAllc-before.selfAllc)/ops, selfCalls)
	}
	return nil
}
