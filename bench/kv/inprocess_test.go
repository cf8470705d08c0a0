package kv

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/client"
	"github.com/dynamokv/dynamo/node"
)

// BenchmarkInProcess runs the mixed workload against three nodes started
// inside the test process, so that a CPU profile sees the nodes' Go stacks
// in full (including what grows them); the clients share the profile, and
// are told apart by package. It runs one timed workload whatever b.N is:
//
//	go test ./bench/kv -run '^$' -bench InProcess -benchtime 1x -cpuprofile cpu.out
func BenchmarkInProcess(b *testing.B) {
	for _, run := range []struct {
		storage string
		mode    client.Mode
	}{{"pebble", client.ModeNative}, {"pebble", client.ModeHTTP}, {"memory", client.ModeNative}} {
		storage := run.storage
		b.Run(storage+"/"+run.mode.String(), func(b *testing.B) {
			ports, err := freePorts(3)
			if err != nil {
				b.Fatal(err)
			}
			var members []string
			for i, p := range ports {
				members = append(members, fmt.Sprintf("n%d=%s:%d", i+1, host, p))
			}
			var seeds []string
			dir := b.TempDir()
			for i, p := range ports {
				n, err := node.New(node.Config{
					ID: fmt.Sprintf("n%d", i+1), Listen: fmt.Sprintf("%s:%d", host, p), HTTP: host + ":0",
					Members: members, Storage: storage, DataDir: filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
					LogLevel: "error", LogFormat: "json",
				}, io.Discard)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(n.Stop)
				seeds = append(seeds, "http://"+n.HTTPAddr())
			}
			ctx := context.Background()
			if err := waitReady(ctx, seeds); err != nil {
				b.Fatal(err)
			}
			cli, err := client.New(ctx, client.Config{Seeds: seeds, Mode: run.mode})
			if err != nil {
				b.Fatal(err)
			}
			defer cli.Close()
			cfg := Config{Clients: 64, Keys: 10000, ValueSize: 100, Warmup: time.Second, Duration: 5 * time.Second}
			ks := NewKeyspace(cfg.Keys)
			if err := Preload(ctx, cli, ks, cfg.Clients, cfg.ValueSize); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			r, err := Run(ctx, cli, ks, Mixed, cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(r.OpsPerSec(), "ops/s")
			b.ReportMetric(r.Percentile(99), "p99-ms")
			b.ReportMetric(r.ClientCPUPerOp(), "process-CPU-µs/op")
			if n := r.ErrorCount(); n > 0 {
				b.Fatalf("%d errors: %v", n, r.FirstError)
			}
		})
	}
}

// waitReady polls until the nodes are ready, for at most 20 s.
func waitReady(ctx context.Context, seeds []string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := agreed(ctx, seeds)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
