// Command aebench measures anti-entropy: three node processes on loopback
// (N=3, R=W=2, pebble) hold n keys; one node is killed while d more keys
// are written (with three nodes there are no stand-ins, so nothing hands
// them over), restarted, and `POST /admin/repair` on another node makes
// every replica agree again. For each d it reports the time, the messages
// and the bytes the exchanges took against the data set's size, and for
// the largest d the foreground p99 during the repair against idle.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

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
	c, err := kv.StartCluster(ctx, kv.ClusterConfig{Bin: bin, Nodes: 3, Storage: "log", N: 3, R: 2, W: 2,
		Args: []string{"--ae-round", "-1s"}})
	if err != nil {
		return err
	}
	defer c.Stop()
	cl, err := kv.LoadCluster(ctx, c, client.ModeNative, n, valueSize)
	if err != nil {
		return err
	}
	defer cl.Close()
	value := make([]byte, valueSize)
	dataBytes := int64(n) * int64(16+valueSize+80)

	n1, n3 := c.Nodes[0], c.Nodes[2]
	fmt.Println("| d (keys n3 missed) | repair time | exchanges | messages | bytes | bytes / data set | keys repaired |")
	fmt.Println("|---|---|---|---|---|---|---|")
	var lastRepair time.Duration
	var idle, during kv.FgResult
	for _, f := range strings.Split(ds, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("-d %q: %w", ds, err)
		}
		n3.Kill()
		if err := kv.WaitFor(ctx, 10*time.Second, func() bool { return suspected(ctx, n1, n3.ID) }); err != nil {
			return err
		}
		if err := kv.Puts(ctx, cl, d, func(i int) []byte { return fmt.Appendf(nil, "d%d-key-%08d", d, i) }, value, 2); err != nil {
			return err
		}
		if err := n3.Restart(); err != nil {
			return err
		}
		if err := kv.WaitFor(ctx, 30*time.Second, func() bool { return !suspected(ctx, n1, n3.ID) && reachable(n3) }); err != nil {
			return err
		}
		last := d == lastOf(ds)
		if last {
			idle = kv.Foreground(ctx, cl, n, 10*time.Second, nil)
		}
		stopLoad := make(chan struct{})
		var wg sync.WaitGroup
		if last {
			wg.Add(1)
			go func() { defer wg.Done(); during = kv.Foreground(ctx, cl, n, time.Hour, stopLoad) }()
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
	if secs, err := kv.Metric(n3, "dynamo_merkle_tree_build_seconds_total"); err == nil {
		builds, _ := kv.Metric(n3, "dynamo_merkle_tree_builds_total")
		fmt.Printf("n3's vnodes built %.0f trees at its last start in %.3f s in all.\n", builds, secs)
	}
	return nil
}

func lastOf(ds string) int {
	fs := strings.Split(ds, ",")
	d, _ := strconv.Atoi(strings.TrimSpace(fs[len(fs)-1]))
	return d
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
		if err := kv.GetJSON(ctx, "http://"+n.HTTP+api.RootsPath, &r); err != nil {
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
