// Command aebench measures anti-entropy: three node processes on loopback
// (N=3, R=W=2, pebble) hold n keys; one node is killed while d more keys
// are written (with three nodes there are no stand-ins, so nothing hands
// them over), restarted, and `POST /admin/repair` on another node makes
// every replica agree again. For each d it reports the time, the messages
// and the bytes the exchanges took against the data set's size, and for
// the largest d the foreground p99 during the repair against idle.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/bench/kv"
	"github.com/dynamokv/dynamo/client"
)

func main() {
	bin := flag.String("bin", "bin/dynamo", "the dynamo binary (make build puts it there)")
	n := flag.Int("keys", 100000, "keys held before the divergence")
	ds := flag.String("d", "1,100,10000", "keys missed by the killed node, comma-separated")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *bin, *n, *ds); err != nil {
		fmt.Fprintln(os.Stderr, "aebench:", err)
		os.Exit(1)
	}
}

const valueSize = 100

func run(ctx context.Context, bin string, n int, ds string) error {
	c, err := kv.StartCluster(ctx, kv.ClusterConfig{Bin: bin, Nodes: 3, Storage: "pebble", N: 3, R: 2, W: 2,
		Args: []string{"--ae-round", "-1s"}})
	if err != nil {
		return err
	}
	defer c.Stop()
	cl, err := client.New(ctx, client.Config{Seeds: c.Seeds()[:2], Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer cl.Close()
	value := make([]byte, valueSize)
	start := time.Now()
	if err := parallelPuts(ctx, cl, n, func(i int) []byte { return fmt.Appendf(nil, "key-%012d", i) }, value, 3); err != nil {
		return err
	}
	fmt.Printf("Three node processes (N=3, R=W=2, pebble, Q=64), %d keys of %d B loaded in %v, %s.\n\n",
		n, valueSize, time.Since(start).Round(time.Millisecond), time.Now().Format("2006-01-02"))
	dataBytes := int64(n) * int64(16+valueSize+80)

	n1, n3 := c.Nodes[0], c.Nodes[2]
	fmt.Println("| d (keys n3 missed) | repair time | exchanges | messages | bytes | bytes / data set | keys repaired |")
	fmt.Println("|---|---|---|---|---|---|---|")
	var lastRepair time.Duration
	var idle, during result
	for _, f := range strings.Split(ds, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("-d %q: %w", ds, err)
		}
		n3.Kill()
		if err := waitFor(ctx, 10*time.Second, func() bool { return suspected(ctx, n1, n3.ID) }); err != nil {
			return err
		}
		if err := parallelPuts(ctx, cl, d, func(i int) []byte { return fmt.Appendf(nil, "d%d-key-%08d", d, i) }, value, 2); err != nil {
			return err
		}
		if err := n3.Restart(); err != nil {
			return err
		}
		if err := waitFor(ctx, 30*time.Second, func() bool { return !suspected(ctx, n1, n3.ID) && reachable(n3) }); err != nil {
			return err
		}
		last := d == lastOf(ds)
		if last {
			idle = load(ctx, cl, n, 10*time.Second, nil)
		}
		stopLoad := make(chan struct{})
		var wg sync.WaitGroup
		if last {
			wg.Add(1)
			go func() { defer wg.Done(); during = load(ctx, cl, n, time.Hour, stopLoad) }()
		}
		t0 := time.Now()
		rep, err := client.Repair(ctx, client.Config{Seeds: []string{"http://" + n1.HTTP}, Timeout: 5 * time.Minute}, -1)
		took := time.Since(t0)
		close(stopLoad)
		wg.Wait()
		if err != nil {
			return err
		}
		lastRepair = took
		var msgs, repaired int
		var bytes int64
		for _, e := range rep.Exchanges {
			if e.Err != "" {
				return fmt.Errorf("exchange of %d with %s: %s", e.Partition, e.Peer, e.Err)
			}
			msgs += e.Messages
			bytes += e.Bytes
			repaired += e.RepairedHere + e.RepairedThere
		}
		if err := rootsAgree(ctx, c); err != nil {
			return fmt.Errorf("after the repair of d=%d: %w", d, err)
		}
		fmt.Printf("| %d | %v | %d | %d | %d | %.3f%% | %d |\n", d, took.Round(time.Millisecond), len(rep.Exchanges), msgs, bytes,
			100*float64(bytes)/float64(dataBytes), repaired)
	}
	fmt.Printf("\nForeground (16 clients, half gets, half puts of the %d keys) during the last repair (%v): %s; idle just before: %s.\n",
		n, lastRepair.Round(time.Millisecond), during, idle)
	if secs, err := metric(n3, "dynamo_merkle_tree_build_seconds_total"); err == nil {
		builds, _ := metric(n3, "dynamo_merkle_tree_builds_total")
		fmt.Printf("n3's vnodes built %.0f trees at its last start in %.3f s in all.\n", builds, secs)
	}
	return nil
}

func lastOf(ds string) int {
	fs := strings.Split(ds, ",")
	d, _ := strconv.Atoi(strings.TrimSpace(fs[len(fs)-1]))
	return d
}

func parallelPuts(ctx context.Context, cl *client.Client, count int, key func(int) []byte, value []byte, w int) error {
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	next := make(chan int)
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if _, err := cl.Put(ctx, key(i), value, client.PutOptions{W: w}); err != nil {
					select {
					case errs <- fmt.Errorf("put %s: %w", key(i), err):
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < count && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return ctx.Err()
	}
}

type result struct {
	ops, errs int
	p50, p99  time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("%d ops, %d errors, p50 %.2f ms, p99 %.2f ms", r.ops, r.errs,
		float64(r.p50)/float64(time.Millisecond), float64(r.p99)/float64(time.Millisecond))
}

// load runs 16 clients doing gets and puts for d or until stop closes.
func load(ctx context.Context, cl *client.Client, n int, d time.Duration, stop <-chan struct{}) result {
	var mu sync.Mutex
	h := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
	var r result
	deadline := time.Now().Add(d)
	value := make([]byte, valueSize)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10_000_000 && time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Appendf(nil, "key-%012d", rand.IntN(n))
				t0 := time.Now()
				var err error
				if i%2 == 0 {
					_, err = cl.Get(ctx, k, client.GetOptions{})
				} else {
					_, err = cl.Put(ctx, k, value, client.PutOptions{})
				}
				el := time.Since(t0)
				mu.Lock()
				r.ops++
				if err != nil {
					r.errs++
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
	return r
}

func suspected(ctx context.Context, observer *kv.Node, id string) bool {
	st, err := client.ReadStatus(ctx, client.Config{Seeds: []string{"http://" + observer.HTTP}, Timeout: time.Second})
	if err != nil {
		return false
	}
	for _, m := range st.Members {
		if m.ID == id {
			return !m.Up
		}
	}
	return false
}

func reachable(n *kv.Node) bool {
	resp, err := http.Get("http://" + n.HTTP + "/status")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// rootsAgree checks that every partition has the same root on all nodes.
func rootsAgree(ctx context.Context, c *kv.Cluster) error {
	var first map[uint32]string
	for _, n := range c.Nodes {
		var r api.Roots
		if err := getJSON(ctx, "http://"+n.HTTP+api.RootsPath, &r); err != nil {
			return err
		}
		if first == nil {
			first = r.Roots
			continue
		}
		for p, root := range r.Roots {
			if first[p] != root {
				return fmt.Errorf("partition %d: roots %s and %s", p, first[p], root)
			}
		}
	}
	return nil
}

func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return jsonDecode(resp, v)
}

// metric reads one value from a node's /metrics.
func metric(n *kv.Node, name string) (float64, error) {
	resp, err := http.Get("http://" + n.HTTP + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, errors.New("no metric " + name)
}

func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

func jsonDecode(resp *http.Response, v any) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Request.URL, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
