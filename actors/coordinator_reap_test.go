package actors_test

import (
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/store"
)

// Deleted keys do not stay in the store for good: the first read that
// finds the same tombstones, and nothing else, on every replica once the
// grace has passed removes the key everywhere. Inside the grace, or while
// a replica holds anything else, the tombstones stay; a deleted value
// never comes back.
func TestCoordinatorCollectsTombstones(t *testing.T) {
	const grace = time.Hour
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	reaped := &actors.VnodeCounters{}
	tc := newTestCluster(t, clusterSpec{
		vnode: func(cfg *actors.VnodeConfig) { cfg.Now, cfg.Counters = now.Load, reaped },
		coord: func(cfg *actors.CoordinatorConfig) { cfg.Now, cfg.TombstoneGrace = now.Load, grace },
	})
	p := uint32(tc.ring.PartitionOf([]byte("k")))
	held := func() (n int) {
		for _, nd := range tc.nodes {
			if _, err := nd.store.Get(p, []byte("k")); !errors.Is(err, store.ErrNotFound) {
				n++
			}
		}
		return n
	}

	ctx := tc.putMsg(0, &messages.ClientPut{Key: []byte("k"), Value: []byte("v1"), W: 3}).Context
	if r := tc.putMsg(1, &messages.ClientPut{Key: []byte("k"), Delete: true, Context: ctx, W: 3}); r.Status != messages.StatusOK {
		t.Fatalf("delete: %d %s", r.Status, r.Err)
	}
	if got := tc.readAll(2, "k"); got.Status != messages.StatusNotFound {
		t.Fatalf("read inside the grace: %d %v", got.Status, values(got))
	}
	eventually(t, 5*time.Second, "read closed", func() bool { return tc.stats(2).Open == 0 })
	if n := held(); n != 3 || reaped.Reaped.Load() != 0 {
		t.Fatalf("inside the grace %d replicas hold the tombstone, %d reaped; want 3 and 0", n, reaped.Reaped.Load())
	}

	now.Add(int64(2 * grace))
	if got := tc.readAll(0, "k"); got.Status != messages.StatusNotFound {
		t.Fatalf("read after the grace: %d %v", got.Status, values(got))
	}
	eventually(t, 5*time.Second, "every replica drops the key", func() bool { return held() == 0 })
	if got := tc.readAll(1, "k"); got.Status != messages.StatusNotFound {
		t.Fatalf("read after collection: %d %v", got.Status, values(got))
	}
	tc.mustPut(2, "k", "v2", nil)
	if got := tc.readAll(0, "k"); !slices.Equal(values(got), []string{"v2"}) {
		t.Fatalf("after a new write: %v; want v2 alone", values(got))
	}

	// A live sibling beside old tombstones keeps the key (a replica that
	// lacks the tombstones does too: see quorum's TestReadReapable).
	read := tc.readAll(0, "k")
	tc.putMsg(0, &messages.ClientPut{Key: []byte("k"), Delete: true, Context: read.Context, W: 3})
	tc.putMsg(1, &messages.ClientPut{Key: []byte("k"), Value: []byte("concurrent"), Context: ctx, W: 3})
	now.Add(int64(2 * grace))
	if got := tc.readAll(2, "k"); !slices.Equal(values(got), []string{"concurrent"}) {
		t.Fatalf("read: %v; want the concurrent write", values(got))
	}
	eventually(t, 5*time.Second, "read closed", func() bool { return tc.stats(2).Open == 0 })
	if n := held(); n != 3 {
		t.Fatalf("%d replicas hold the key beside a live sibling; want 3", n)
	}
}
