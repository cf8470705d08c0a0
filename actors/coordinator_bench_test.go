package actors_test

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/store"
	"github.com/dynamokv/dynamo/version"
	"github.com/rs/zerolog"
)

// runInFlight runs op for i in [0, b.N) from k goroutines, so k requests
// are in flight at any time, and reports throughput and latency.
func runInFlight(b *testing.B, k int, op func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var failed atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, k)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := 0; g < k; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				t0 := time.Now()
				if err := op(i); err != nil {
					if failed.Add(1) == 1 {
						firstErr.Store(err)
					}
					continue
				}
				lat[g] = append(lat[g], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d operations failed; first: %v", n, b.N, firstErr.Load())
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
}

// Put and get through the coordinators of a 3-node cluster over memnet
// (every message encoded and decoded), N=3 R=W=2, clients spread over the
// nodes.
func BenchmarkCoordinator(b *testing.B) {
	value := make([]byte, 100)
	for _, k := range []int{1, 64} {
		b.Run(fmt.Sprintf("put/inflight=%d", k), func(b *testing.B) {
			tc := newTestCluster(b, clusterSpec{nodes: 3, replicas: 3, r: 2, w: 2, timeout: 5 * time.Second})
			ctxs := newKeyContexts()
			runInFlight(b, k, func(i int) error {
				slot := i % benchKeys
				key := []byte(fmt.Sprintf("bench-%d", slot))
				res, err := benchAsk(tc, i%3, key, &messages.ClientPut{Key: key, Value: value, Context: ctxs.get(slot)})
				if err == nil {
					ctxs.set(slot, res.(*messages.ClientPutReply).Context)
				}
				return err
			})
		})
		b.Run(fmt.Sprintf("get/inflight=%d", k), func(b *testing.B) {
			tc := newTestCluster(b, clusterSpec{nodes: 3, replicas: 3, r: 2, w: 2, timeout: 5 * time.Second})
			for i := 0; i < benchKeys; i++ {
				tc.mustPut(i%3, fmt.Sprintf("bench-%d", i), string(value), nil)
			}
			runInFlight(b, k, func(i int) error {
				key := []byte(fmt.Sprintf("bench-%d", i%benchKeys))
				_, err := benchAsk(tc, i%3, key, &messages.ClientGet{Key: key})
				return err
			})
		})
	}
}

func benchAsk(tc *testCluster, node int, key []byte, msg any) (any, error) {
	res, err := tc.nodes[node].engine.Request(tc.coordFor(node, key), msg, 10*time.Second).Result()
	if err != nil {
		return nil, err
	}
	switch r := res.(type) {
	case *messages.ClientPutReply:
		if r.Status != messages.StatusOK {
			return nil, fmt.Errorf("put: %d %s", r.Status, r.Err)
		}
	case *messages.ClientGetReply:
		if r.Status != messages.StatusOK || len(r.Values) != 1 {
			return nil, fmt.Errorf("get: %d %s, %d values", r.Status, r.Err, len(r.Values))
		}
	default:
		return nil, fmt.Errorf("answered %T", res)
	}
	return res, nil
}

// benchKeys bounds the keys a benchmark touches: puts overwrite them with
// the context of the previous put, as updating clients do, so neither the
// store nor the sibling sets grow with b.N.
const benchKeys = 10000

// keyContexts holds the latest context of each key slot; concurrent
// goroutines use different slots unless benchKeys requests are in flight.
type keyContexts struct {
	slots []atomic.Pointer[version.Clock]
}

func newKeyContexts() *keyContexts {
	return &keyContexts{slots: make([]atomic.Pointer[version.Clock], benchKeys)}
}

func (k *keyContexts) get(slot int) version.Clock {
	if c := k.slots[slot].Load(); c != nil {
		return *c
	}
	return nil
}

func (k *keyContexts) set(slot int, c version.Clock) { k.slots[slot].Store(&c) }

// One vnode through its actor, on a local engine with an in-memory store:
// the cost of a coordinating write and of a replica read without the
// network.
func BenchmarkVnode(b *testing.B) {
	value := make([]byte, 100)
	setup := func(b *testing.B) (*actor.Engine, *actor.PID) {
		e, err := actor.NewEngine(actor.NewEngineConfig())
		if err != nil {
			b.Fatal(err)
		}
		pid := e.Spawn(actors.NewVnode(actors.VnodeConfig{
			Node: "a", Partition: 1, Store: store.NewMemory(), Log: zerolog.Nop(),
		}), actors.VnodeKind, actor.WithID(actors.VnodeID(1)))
		b.Cleanup(func() { <-e.Poison(pid).Done() })
		return e, pid
	}
	ask := func(e *actor.Engine, pid *actor.PID, msg any) (any, error) {
		res, err := e.Request(pid, msg, 10*time.Second).Result()
		if err != nil {
			return nil, err
		}
		switch r := res.(type) {
		case *messages.CoordinatePutDone:
			if r.Err != "" {
				return nil, fmt.Errorf("coordinate put: %s", r.Err)
			}
			return r, nil
		case *messages.ReplicaGetReply:
			if r.Err != "" || len(r.Versions) != 1 {
				return nil, fmt.Errorf("replica get: %q, %d versions", r.Err, len(r.Versions))
			}
		}
		return res, nil
	}
	for _, k := range []int{1, 64} {
		b.Run(fmt.Sprintf("coordinate-put/inflight=%d", k), func(b *testing.B) {
			e, pid := setup(b)
			ctxs := newKeyContexts()
			runInFlight(b, k, func(i int) error {
				slot := i % benchKeys
				res, err := ask(e, pid, &messages.CoordinatePut{ReqID: uint64(i + 1), Partition: 1,
					Key: []byte(fmt.Sprintf("bench-%d", slot)), Value: value, Context: ctxs.get(slot)})
				if err == nil {
					ctxs.set(slot, res.(*messages.CoordinatePutDone).Version.Clock())
				}
				return err
			})
		})
		b.Run(fmt.Sprintf("replica-get/inflight=%d", k), func(b *testing.B) {
			e, pid := setup(b)
			for i := 0; i < benchKeys; i++ {
				if _, err := ask(e, pid, &messages.CoordinatePut{ReqID: 1, Partition: 1,
					Key: []byte(fmt.Sprintf("bench-%d", i)), Value: value}); err != nil {
					b.Fatal(err)
				}
			}
			runInFlight(b, k, func(i int) error {
				_, err := ask(e, pid, &messages.ReplicaGet{ReqID: uint64(i + 1), Partition: 1,
					Key: []byte(fmt.Sprintf("bench-%d", i%benchKeys))})
				return err
			})
		})
	}
}
