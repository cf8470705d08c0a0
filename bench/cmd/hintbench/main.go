// Command hintbench measures what failures cost a writer: put latency
// with two of a key's three home nodes killed and with one node hung,
// against the healthy cluster in the same run, and how fast the stand-ins
// hand their hints over once the home nodes are back. Five node processes
// on loopback (N=3, R=W=2, pebble), blind puts of 100-byte values through
// the native Go client.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/dynamokv/dynamo/bench/kv"
	"github.com/dynamokv/dynamo/client"
	"github.com/dynamokv/dynamo/cluster"
)

func main() {
	bin := flag.String("bin", "bin/dynamo", "the dynamo binary (make build puts it there)")
	clients := flag.Int("clients", 16, "client goroutines, one request in flight each")
	duration := flag.Duration("duration", 5*time.Second, "measured time per phase")
	saturate := flag.Duration("saturate", 0, "first saturate the healthy cluster this long (64 clients doing puts) and count the detector's suspicions")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *bin, *clients, *duration, *saturate); err != nil {
		fmt.Fprintln(os.Stderr, "hintbench:", err)
		os.Exit(1)
	}
}

type result struct {
	name          string
	ops, errs     int
	unknown       int
	p50, p99, max time.Duration
	firstErr      string
}

func run(ctx context.Context, bin string, clients int, d, saturate time.Duration) error {
	c, err := kv.StartCluster(ctx, kv.ClusterConfig{Bin: bin, Nodes: 5, Storage: "log", N: 3, R: 2, W: 2})
	if err != nil {
		return err
	}
	defer c.Stop()
	cl, err := client.New(ctx, client.Config{Seeds: c.Seeds(), Timeout: 3 * time.Second})
	if err != nil {
		return err
	}
	defer cl.Close()
	st, err := cl.Status(ctx)
	if err != nil {
		return err
	}
	var ms []cluster.Member
	for _, m := range st.Members {
		ms = append(ms, cluster.Member{ID: m.ID, Addr: m.Addr})
	}
	ring, err := cluster.NewRing(st.Partitions, st.Replicas, ms)
	if err != nil {
		return err
	}
	down := []*kv.Node{c.Nodes[0], c.Nodes[1]}
	// Keys whose home nodes include both nodes to kill.
	var victims, all [][]byte
	for i := 0; len(victims) < 20000 && i < 1_000_000; i++ {
		k := fmt.Appendf(nil, "key-%012d", i)
		all = append(all, k)
		pref := ring.KeyPreferenceList(k)
		if contains(pref, down[0].ID) && contains(pref, down[1].ID) {
			victims = append(victims, k)
		}
	}
	if saturate > 0 {
		r := load(ctx, cl, "saturation", all, 64, saturate)
		fmt.Printf("Saturation: %d puts by 64 clients in %v (%.0f/s, p99 %s); the detectors' suspicions meanwhile: %d.\n\n",
			r.ops, saturate, float64(r.ops)/saturate.Seconds(), ms2(r.p99), suspicions(ctx, c))
	}
	var out []result
	out = append(out, load(ctx, cl, "healthy, keys homed on n1 and n2", victims, clients, d))

	for _, n := range down {
		n.Kill()
	}
	if err := kv.WaitFor(ctx, 10*time.Second, func() bool { return suspects(ctx, c, 2, down) }); err != nil {
		return fmt.Errorf("the others never suspected n1 and n2: %w", err)
	}
	out = append(out, load(ctx, cl, "n1 and n2 killed (2 of 3 home nodes)", victims, clients, d))
	held := hintsHeld(ctx, c)
	for _, n := range down {
		if err := n.Restart(); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := kv.WaitFor(ctx, 5*time.Minute, func() bool { return hintsHeld(ctx, c) == 0 }); err != nil {
		return fmt.Errorf("hints not handed over: %w", err)
	}
	replay := time.Since(start)

	if err := kv.WaitFor(ctx, 30*time.Second, func() bool { return suspects(ctx, c, 0, nil) }); err != nil {
		return err
	}
	out = append(out, load(ctx, cl, "healthy, every key", all, clients, d))
	hung := c.Nodes[2]
	if err := hung.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	out = append(out, load(ctx, cl, "n3 hung (SIGSTOP), from the stop on", all, clients, d))
	_ = hung.Signal(syscall.SIGCONT)

	fmt.Printf("Five node processes (N=3, R=W=2, pebble), %d clients doing blind puts of 100 B through the native Go client, %v per phase, %s.\n\n",
		clients, d, time.Now().Format("2006-01-02"))
	fmt.Println("| phase | puts | errors (unknown) | p50 | p99 | max |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range out {
		fmt.Printf("| %s | %d | %d (%d) | %s | %s | %s |\n", r.name, r.ops, r.errs, r.unknown, ms2(r.p50), ms2(r.p99), ms2(r.max))
	}
	for _, r := range out {
		if r.firstErr != "" {
			fmt.Printf("\nfirst error in %q: %s\n", r.name, r.firstErr)
		}
	}
	fmt.Printf("\nHint replay: %d hints handed over in %v after n1 and n2 restarted: %.0f hints/s.\n",
		held, replay.Round(time.Millisecond), float64(held)/replay.Seconds())
	return nil
}

func ms2(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// load runs clients doing blind puts of random keys for d.
func load(ctx context.Context, cl *client.Client, name string, keys [][]byte, clients int, d time.Duration) result {
	var mu sync.Mutex
	h := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
	r := result{name: name}
	deadline := time.Now().Add(d)
	value := make([]byte, 100)
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 10_000_000 && time.Now().Before(deadline) && ctx.Err() == nil; n++ {
				k := keys[rand.IntN(len(keys))]
				start := time.Now()
				_, err := cl.Put(ctx, k, value, client.PutOptions{})
				el := time.Since(start)
				mu.Lock()
				r.ops++
				if err != nil {
					r.errs++
					if errors.Is(err, client.ErrOutcomeUnknown) {
						r.unknown++
					}
					if r.firstErr == "" {
						r.firstErr = err.Error()
					}
				} else {
					_ = h.RecordValue(el.Microseconds())
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.p50 = time.Duration(h.ValueAtQuantile(50)) * time.Microsecond
	r.p99 = time.Duration(h.ValueAtQuantile(99)) * time.Microsecond
	r.max = time.Duration(h.Max()) * time.Microsecond
	return r
}

// suspects reports whether the nodes from index from on suspect exactly
// the nodes of gone.
func suspects(ctx context.Context, c *kv.Cluster, from int, gone []*kv.Node) bool {
	for _, n := range c.Nodes[from:] {
		st, err := client.ReadStatus(ctx, client.Config{Seeds: []string{"http://" + n.HTTP}, Timeout: time.Second})
		if err != nil {
			return false
		}
		for _, m := range st.Members {
			isGone := false
			for _, g := range gone {
				isGone = isGone || g.ID == m.ID
			}
			if m.Up == isGone {
				return false
			}
		}
	}
	return true
}

// suspicions sums every node's count of suspicions of its peers.
func suspicions(ctx context.Context, c *kv.Cluster) uint64 {
	var total uint64
	for _, n := range c.Nodes {
		st, err := client.ReadStatus(ctx, client.Config{Seeds: []string{"http://" + n.HTTP}, Timeout: time.Second})
		if err != nil {
			continue
		}
		for _, m := range st.Members {
			total += m.Suspicions
		}
	}
	return total
}

func hintsHeld(ctx context.Context, c *kv.Cluster) int {
	total := 0
	for _, n := range c.Nodes {
		st, err := client.ReadStatus(ctx, client.Config{Seeds: []string{"http://" + n.HTTP}, Timeout: time.Second})
		if err != nil {
			continue
		}
		for _, h := range st.Hints {
			total += h.Held
		}
	}
	return total
}
