package actors_test

import (
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/store"
	"github.com/dynamokv/dynamo/version"
)

// A context naming ten writers truncates away a node's entry from a key's
// history while that node's oldest write still sits on a replica that was
// cut off. Dots derived from the key's history alone then started again at
// n1:1, and with n1's clock set back, read repair let the stale n1:1 win
// over the new, acknowledged n1:1: a write it acknowledged disappeared
// while an overwritten value came back.
func TestCoordinatorTruncatedHistoryNeverReissuesDots(t *testing.T) {
	var n1Clock atomic.Int64
	n1Clock.Store(time.Now().UnixNano())
	tc := newTestCluster(t, clusterSpec{vnode: func(cfg *actors.VnodeConfig) {
		if cfg.Node == "n1" { // a clock that runs backwards
			cfg.Now = func() int64 { return n1Clock.Add(-int64(time.Second)) }
		}
	}})
	n1, n2, n3 := 0, 1, 2
	ctx1 := tc.putMsg(n1, &messages.ClientPut{Key: []byte("k"), Value: []byte("v1"), W: 3})
	if ctx1.Status != messages.StatusOK {
		t.Fatalf("put v1: %d %s", ctx1.Status, ctx1.Err)
	}
	tc.net.Isolate(tc.nodes[n3].addr) // n3 keeps v1 alone

	ctx2 := tc.mustPut(n2, "k", "v2", ctx1.Context)
	// Eight more writers, stamped in the future as a client may craft them:
	// with n1's and n2's entries the context has ten, one too many.
	var crafted []version.Entry
	for i := 0; i < 8; i++ {
		crafted = append(crafted, version.Entry{Node: "w" + strconv.Itoa(i), Counter: 1, Stamp: time.Now().Add(time.Hour).UnixNano()})
	}
	ctx3 := version.Merge(version.Merge(ctx1.Context, ctx2), version.NewClock(crafted...))
	tc.mustPut(n2, "k", "v3", ctx3)

	fresh := tc.put(n1, "k", "fresh", nil)
	if fresh.Status != messages.StatusOK {
		t.Fatalf("blind put through n1: %d %s", fresh.Status, fresh.Err)
	}
	tc.net.Heal()
	got := tc.readAll(n1, "k")
	if vs := sortedValues(got); !slices.Contains(vs, "fresh") || !slices.Contains(vs, "v3") {
		t.Fatalf("read after heal: %d %v; want the acknowledged fresh beside v3", got.Status, vs)
	}
	eventually(t, 5*time.Second, "read repair reaches n3", func() bool {
		return slices.ContainsFunc(tc.stored("n3", "k"), func(v version.Version) bool { return string(v.Value) == "fresh" })
	})
	if vs := sortedValues(tc.readAll(n3, "k")); !slices.Contains(vs, "fresh") {
		t.Fatalf("read through n3 after repair: %v; want fresh", vs)
	}
}

// A node restarted on a store rolled back to an earlier copy (power loss
// without fsync, a restored backup) has lost a dot it issued and other
// replicas hold. Under the same dot name its next write reissued that dot,
// and the replicas kept one of the two writes. Every start takes a new
// name, so both survive.
func TestCoordinatorRolledBackNodeKeepsEveryWrite(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{})
	n1 := tc.node("n1")
	// Every replica holds "before" (the snapshot's content) and "after".
	before := tc.mustPut(0, "k", "before", nil)
	waitEverywhere(t, tc, "k", "before")
	snapshot := copyStore(t, n1.store)
	tc.putMsg(0, &messages.ClientPut{Key: []byte("k"), Value: []byte("acknowledged"), Context: before, W: 3})

	tc.restartOn("n1", snapshot, "n1."+actors.NewIncarnation())
	if vs := sortedValues(tc.readAll(1, "k")); !slices.Equal(vs, []string{"acknowledged"}) {
		t.Fatalf("read before the next write: %v", vs)
	}
	// The rolled-back n1 holds "before" only; a write with its context
	// would have got the dot "acknowledged" holds.
	tc.mustPut(0, "k", "next", before)
	got := tc.readAll(2, "k")
	if vs := sortedValues(got); !slices.Equal(vs, []string{"acknowledged", "next"}) {
		t.Fatalf("read after the rolled-back node wrote: %d %v; want acknowledged beside next", got.Status, vs)
	}
}

func waitEverywhere(t *testing.T, tc *testCluster, key, value string) {
	t.Helper()
	for _, n := range tc.nodes {
		eventually(t, 5*time.Second, n.id+" holds "+value, func() bool {
			return slices.ContainsFunc(tc.stored(n.id, key), func(v version.Version) bool { return string(v.Value) == value })
		})
	}
}

// copyStore returns a memory store holding what st's data partitions hold.
func copyStore(t *testing.T, st store.Store) store.Store {
	t.Helper()
	out := store.NewMemory()
	b := store.NewBatch()
	for p := uint32(0); p < 64; p++ {
		if _, err := st.Scan(p, nil, 0, func(k, v []byte) error { b.Put(p, k, v); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Apply(b); err != nil {
		t.Fatal(err)
	}
	return out
}

// A writer that writes a key again and again with its puts' reply
// contexts, beside another client's write it never saw, replaces its own
// earlier writes and keeps the other's: the reply names its new version
// alone when the clock cannot cover it without covering the other write.
func TestCoordinatorWriterReplacesItsOwnWritesBesideOthers(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{})
	first := tc.put(0, "k", "a0", nil)
	if first.Status != messages.StatusOK {
		t.Fatalf("put a0: %d %s", first.Status, first.Err)
	}
	if other := tc.put(0, "k", "b0", nil); other.Status != messages.StatusOK { // unseen by the writer
		t.Fatalf("put b0: %d %s", other.Status, other.Err)
	}
	reply := first
	for i := 1; i <= 3; i++ {
		reply = tc.putMsg(0, &messages.ClientPut{Key: []byte("k"), Value: []byte("a" + strconv.Itoa(i)), Context: reply.Context, Also: reply.Also})
		if reply.Status != messages.StatusOK {
			t.Fatalf("put a%d: %d %s", i, reply.Status, reply.Err)
		}
	}
	if vs := sortedValues(tc.readAll(0, "k")); !slices.Equal(vs, []string{"a3", "b0"}) {
		t.Fatalf("the key holds %v; want the writer's last write beside the other's, [a3 b0]", vs)
	}
}
