// Command rebalancebench measures a membership change: three node
// processes on loopback (N=3, R=W=2, pebble, Q=64) hold n keys; two more
// join, one after the other, and each join ends once every node holds the
// same membership with no handoff left and nothing being filled. It
// reports the time to rebalance, the keys and bytes the handoffs and fills
// moved and their rate, and the foreground p99 during the rebalance
// against idle just before. Anti-entropy rounds are off, so that only the
// membership change moves data.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/dynamokv/dynamo/bench/kv"
	"github.com/dynamokv/dynamo/client"
)

func main() {
	bin := flag.String("bin", "bin/dynamo", "the dynamo binary (make build puts it there)")
	n := flag.Int("keys", 100000, "keys held before the joins")
	rate := flag.Int("handoff-rate", 0, "the nodes' --handoff-rate (0: their default)")
	mode := flag.String("mode", "native", "the foreground clients' protocol: native or http")
	flag.Parse()
	if *mode != "native" && *mode != "http" {
		fmt.Fprintln(os.Stderr, "rebalancebench: -mode: want native or http")
		os.Exit(2)
	}
	clientMode = map[string]client.Mode{"native": client.ModeNative, "http": client.ModeHTTP}[*mode]
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *bin, *n, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "rebalancebench:", err)
		os.Exit(1)
	}
}

const valueSize = 100

var clientMode client.Mode

func run(ctx context.Context, bin string, n, rate int) error {
	args := []string{"--ae-round", "-1s"}
	if os.Getenv("REBALANCE_LOGS") != "" {
		args = append(args, "--log-level", "info")
	}
	if rate > 0 {
		args = append(args, "--handoff-rate", fmt.Sprint(rate))
	}
	c, err := kv.StartCluster(ctx, kv.ClusterConfig{Bin: bin, Nodes: 3, Spares: 2, Storage: "log", N: 3, R: 2, W: 2, Args: args})
	if err != nil {
		return err
	}
	defer c.Stop()
	cl, err := kv.LoadCluster(ctx, c, clientMode, n, valueSize)
	if err != nil {
		return err
	}
	defer cl.Close()

	idle := kv.Foreground(ctx, cl, n, 10*time.Second, nil)
	stopLoad := make(chan struct{})
	var wg sync.WaitGroup
	var during kv.FgResult
	wg.Add(1)
	go func() { defer wg.Done(); during = kv.Foreground(ctx, cl, n, time.Hour, stopLoad) }()

	fmt.Println("| change | settled in | keys moved | MB moved | keys/s | MB/s |")
	fmt.Println("|---|---|---|---|---|---|")
	t0 := time.Now()
	keys0, bytes0 := moved(c)
	for range 2 {
		t := time.Now()
		k, b := moved(c)
		nd, err := c.Join(ctx)
		if err != nil {
			close(stopLoad)
			wg.Wait()
			return err
		}
		if err := kv.WaitFor(ctx, 10*time.Minute, func() bool { return settled(ctx, c) == "" }); err != nil {
			close(stopLoad)
			wg.Wait()
			return fmt.Errorf("join %s: %w (%s)", nd.ID, err, settled(ctx, c))
		}
		took := time.Since(t)
		k2, b2 := moved(c)
		fmt.Printf("| %s joins (%d nodes) | %v | %.0f | %.1f | %.0f | %.2f |\n", nd.ID, len(c.Nodes), took.Round(time.Millisecond),
			k2-k, (b2-b)/1e6, (k2-k)/took.Seconds(), (b2-b)/1e6/took.Seconds())
	}
	total := time.Since(t0)
	close(stopLoad)
	wg.Wait()
	keys1, bytes1 := moved(c)
	fmt.Printf("| 3 → 5 nodes | %v | %.0f | %.1f | %.0f | %.2f |\n\n", total.Round(time.Millisecond),
		keys1-keys0, (bytes1-bytes0)/1e6, (keys1-keys0)/total.Seconds(), (bytes1-bytes0)/1e6/total.Seconds())
	fmt.Printf("Foreground (16 clients, half gets, half puts of the %d keys) during the rebalance: %s; idle just before: %s.\n",
		n, during, idle)
	for _, e := range during.Errors {
		fmt.Println("  error during the rebalance:", e)
	}
	if os.Getenv("REBALANCE_LOGS") != "" {
		for _, nd := range c.Nodes {
			fmt.Printf("--- %s\n%s\n", nd.ID, nd.LogTail())
		}
	}
	var builds float64
	for _, nd := range c.Nodes {
		b, _ := kv.Metric(nd, "dynamo_merkle_tree_builds_total")
		builds += b
	}
	fmt.Printf("Merkle trees built from stored keys on the five nodes: %.0f.\n", builds)
	return nil
}

// moved sums, over the nodes, the keys and bytes anti-entropy exchanges
// (handoffs and fills among them) changed and carried.
func moved(c *kv.Cluster) (keys, bytes float64) {
	for _, nd := range c.Nodes {
		k, _ := kv.Metric(nd, "dynamo_antientropy_keys_repaired_total")
		b, _ := kv.Metric(nd, "dynamo_antientropy_bytes_total")
		keys, bytes = keys+k, bytes+b
	}
	return keys, bytes
}

// settled says why the cluster has not settled, "" once every node holds
// the same membership, hands nothing over and fills nothing.
func settled(ctx context.Context, c *kv.Cluster) string {
	version := uint64(0)
	for _, nd := range c.Nodes {
		st, err := client.ReadStatus(ctx, client.Config{Seeds: []string{"http://" + nd.HTTP}, Timeout: time.Second})
		switch {
		case err != nil:
			return err.Error()
		case version != 0 && st.Membership.Version != version:
			return fmt.Sprintf("%s on membership version %d, another on %d", nd.ID, st.Membership.Version, version)
		case len(st.Handoffs) > 0:
			return fmt.Sprintf("%s hands %d partitions over", nd.ID, len(st.Handoffs))
		case st.Filling > 0:
			return fmt.Sprintf("%s fills %d partitions", nd.ID, st.Filling)
		}
		version = st.Membership.Version
	}
	return ""
}
