package actors_test

import (
	"bytes"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/store"
	"github.com/dynamokv/dynamo/transport/memnet"
	"github.com/dynamokv/dynamo/version"
)

// Writes that no client ever saw must never be discarded by a context.
// These tests each walk through a way it used to happen.

// readAll reads key from every replica (R=N) through node i.
func (tc *testCluster) readAll(i int, key string) *messages.ClientGetReply {
	tc.tb.Helper()
	return tc.getMsg(i, &messages.ClientGet{Key: []byte(key), R: tc.spec.replicas})
}

// restartEmpty restarts node id's vnodes on a new, empty store, as a node
// restarts after losing its data, with dots named dotNode.
func (tc *testCluster) restartEmpty(id, dotNode string) {
	tc.tb.Helper()
	tc.restartOn(id, store.NewMemory(), dotNode)
}

// restartOn restarts node id's vnodes on st, with dots named dotNode.
func (tc *testCluster) restartOn(id string, st store.Store, dotNode string) {
	tc.tb.Helper()
	n := tc.node(id)
	for _, pid := range n.vnodes {
		select {
		case <-n.engine.Poison(pid).Done():
		case <-time.After(5 * time.Second):
			tc.tb.Fatalf("%s did not stop", pid)
		}
		n.pids = slices.DeleteFunc(n.pids, pid.Equals)
	}
	n.vnodes = nil
	n.store = st
	tc.spawnVnodes(n, dotNode)
}

func sortedValues(r *messages.ClientGetReply) []string {
	vs := values(r)
	slices.Sort(vs)
	return vs
}

// A blind put through a node that already holds a sibling gets a dot that
// does not follow the client's (empty) context. Its reply must not claim
// the dots in between: a write with it would discard "apples", which that
// client never saw.
func TestCoordinatorPutReplyContextCoversOnlyWhatTheClientSaw(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{})
	first := tc.mustPut(0, "k", "apples", nil)
	if first.Compare(version.NewClock(version.Entry{Node: "n1", Counter: 1})) != version.Equal {
		t.Fatalf("first blind put answered %v; want its own dot n1:1", first)
	}
	ctx := tc.mustPut(0, "k", "pears", nil)
	if ctx.Get("n1") != 0 {
		t.Fatalf("second blind put answered %v: it covers n1:1 (apples), which the client never saw", ctx)
	}
	tc.mustPut(0, "k", "pears+plums", ctx)

	got := tc.readAll(1, "k")
	if vs := sortedValues(got); got.Status != messages.StatusOK || !slices.Contains(vs, "apples") || !slices.Contains(vs, "pears+plums") {
		t.Fatalf("read %d %v; want apples kept beside pears+plums", got.Status, vs)
	}
	// A put whose dot follows its context still gets its own dot back, so
	// the usual read-modify-write replaces its previous write.
	ctx = tc.mustPut(0, "k", "resolved", got.Context)
	tc.mustPut(0, "k", "resolved again", ctx)
	if got := tc.readAll(2, "k"); !slices.Equal(values(got), []string{"resolved again"}) {
		t.Fatalf("after writing with the returned context: %v; want the last write alone", values(got))
	}
}

// At W=1 and R=1 a replica must never hold a node's later dot without its
// earlier live ones: a read there would return a context that covers a
// write it did not return. The coordinator therefore replicates its whole
// sibling set, not the new version alone.
func TestCoordinatorReplicatesWholeSiblingSet(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{r: 1, w: 1, timeout: 300 * time.Millisecond})
	a, b := tc.nodes[0], tc.nodes[1]

	// "x" reaches the coordinating replica only.
	tc.net.Isolate(a.addr)
	tc.mustPut(0, "k", "x", nil)
	tc.net.Heal()
	if held := tc.stored(b.id, "k"); held != nil {
		t.Fatalf("%s holds %v while it was cut off", b.id, held)
	}
	// A concurrent blind write through the same node: a sibling of "x".
	tc.mustPut(0, "k", "y", nil)
	eventually(t, 5*time.Second, b.id+" holds y", func() bool {
		return slices.ContainsFunc(tc.stored(b.id, "k"), func(v version.Version) bool { return string(v.Value) == "y" })
	})

	// A read answered by b alone.
	tc.net.Isolate(b.addr)
	got := tc.get(1, "k")
	tc.net.Heal()
	if vs := sortedValues(got); got.Status != messages.StatusOK || !slices.Equal(vs, []string{"x", "y"}) {
		t.Fatalf("read from %s: %d %v with context %v; a context covering x must come with x", b.id, got.Status, vs, got.Context)
	}
}

// A node that lost its data (here, a memory store across a restart) comes
// back under a new dot name, so its first write is not mistaken for the
// old n1:1 that every other replica has seen, acknowledged and dropped.
func TestCoordinatorRestartedNodeDoesNotReuseDots(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{})
	var ctx version.Clock
	for _, v := range []string{"v1", "v2", "v3"} {
		ctx = tc.mustPut(0, "k", v, ctx)
	}
	want := tc.stored("n1", "k")
	for _, id := range []string{"n2", "n3"} {
		eventually(t, 5*time.Second, id+" holds v3", func() bool { return tc.stored(id, "k").Equal(want) })
	}

	tc.restartEmpty("n1", "n1.second")
	fresh := tc.mustPut(0, "k", "fresh", nil)
	got := tc.readAll(1, "k")
	if vs := sortedValues(got); !slices.Equal(vs, []string{"fresh", "v3"}) {
		t.Fatalf("read after the restart: %d %v; want fresh beside v3 (put answered %v)", got.Status, vs, fresh)
	}
	if fresh.Get("n1.second") != 1 {
		t.Fatalf("put after the restart answered %v; want the dot n1.second:1", fresh)
	}
}

// Sibling sets may not outgrow a message: five blind 1 MB writes would
// make the key unreadable, since replicas could no longer send what they
// hold. The write that would cross the limit is refused with 413 and
// advice; the key stays readable, and a write with the read's context
// resolves it.
func TestCoordinatorRefusesSiblingSetsOverTheFrame(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{vnode: func(cfg *actors.VnodeConfig) {
		cfg.MaxSetBytes = memnet.DefaultMaxFrameSize - 64<<10
	}})
	value := string(bytes.Repeat([]byte("v"), 1<<20))
	var statuses []int
	var refusal string
	for range 5 {
		r := tc.put(0, "big", value, nil)
		statuses = append(statuses, r.Status)
		if r.Status != messages.StatusOK {
			refusal = r.Err
		}
	}
	ok, tooLarge := messages.StatusOK, messages.StatusTooLarge
	if !slices.Equal(statuses, []int{ok, ok, ok, tooLarge, tooLarge}) {
		t.Fatalf("statuses %v; want three writes stored, then 413", statuses)
	}
	if !strings.Contains(refusal, "over the limit") || !strings.Contains(refusal, "write with its context") {
		t.Fatalf("refusal %q does not say how to resolve it", refusal)
	}
	got := tc.readAll(1, "big")
	if got.Status != messages.StatusOK || len(got.Values) != 3 {
		t.Fatalf("read: %d %q with %d values; want the three stored", got.Status, got.Err, len(got.Values))
	}
	tc.mustPut(2, "big", "small", got.Context)
	if got := tc.readAll(0, "big"); !slices.Equal(values(got), []string{"small"}) {
		t.Fatalf("after resolving: %d %v", got.Status, values(got))
	}
	if s := tc.stats(0); s.TooLarge != 2 || s.Unavailable != 0 {
		t.Fatalf("stats %+v; want 2 too large and nothing unavailable", s)
	}
}

// Requests that come natively, not through the HTTP API, meet the same
// limits and the same refusal while the configuration disagrees, and a
// malformed context is refused before it reaches a clock.
func TestCoordinatorChecksNativeRequests(t *testing.T) {
	var refuse atomic.Pointer[string]
	tc := newTestCluster(t, clusterSpec{coord: func(cfg *actors.CoordinatorConfig) {
		cfg.MaxKeySize, cfg.MaxValueSize = 8, 16
		cfg.Refuse = func() string {
			if p := refuse.Load(); p != nil {
				return *p
			}
			return ""
		}
	}})
	long := "key-too-long"
	tests := []struct {
		name   string
		msg    any
		status int
		want   string
	}{
		{"put long key", &messages.ClientPut{Key: []byte(long), Value: []byte("v")}, messages.StatusTooLarge, "key of 12 bytes is over the limit of 8"},
		{"get long key", &messages.ClientGet{Key: []byte(long)}, messages.StatusTooLarge, "key of 12 bytes is over the limit of 8"},
		{"put large value", &messages.ClientPut{Key: []byte("k"), Value: bytes.Repeat([]byte("v"), 17)}, messages.StatusTooLarge, "value of 17 bytes is over the limit of 16 bytes"},
		{"unsorted context", &messages.ClientPut{Key: []byte("k"), Value: []byte("v"),
			Context: version.Clock{{Node: "b", Counter: 1}, {Node: "a", Counter: 1}}}, messages.StatusBadRequest, "malformed context: "},
		{"zero counter", &messages.ClientPut{Key: []byte("k"), Value: []byte("v"),
			Context: version.Clock{{Node: "a"}}}, messages.StatusBadRequest, "malformed context: "},
		{"huge counter", &messages.ClientPut{Key: []byte("k"), Value: []byte("v"),
			Context: version.Clock{{Node: "a", Counter: version.MaxCounter + 1}}}, messages.StatusBadRequest, "malformed context: "},
	}
	check := func(t *testing.T, msg any, status int, want string) {
		t.Helper()
		var got int
		var err string
		switch m := msg.(type) {
		case *messages.ClientPut:
			r := tc.putMsg(0, m)
			got, err = r.Status, r.Err
		case *messages.ClientGet:
			r := tc.getMsg(0, m)
			got, err = r.Status, r.Err
		}
		if got != status || !strings.Contains(err, want) {
			t.Fatalf("%d %q; want %d containing %q", got, err, status, want)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, tt.msg, tt.status, tt.want) })
	}
	if s := tc.stats(0); s.TooLarge != 3 || s.Rejected != 3 || s.Puts+s.Gets != 0 {
		t.Fatalf("stats %+v; want 3 too large, 3 rejected, nothing coordinated", s)
	}

	why := "cluster configuration mismatch: member n2: other partitions"
	refuse.Store(&why)
	check(t, &messages.ClientPut{Key: []byte("k"), Value: []byte("v")}, messages.StatusUnavailable, "refusing requests: "+why)
	check(t, &messages.ClientGet{Key: []byte("k")}, messages.StatusUnavailable, "refusing requests: "+why)
	refuse.Store(nil)
	ctx := tc.mustPut(0, "k", "v", nil)
	if got := tc.get(0, "k"); got.Status != messages.StatusOK || got.Context.Compare(ctx) != version.Equal {
		t.Fatalf("get once the refusal is lifted: %d %q", got.Status, got.Err)
	}
}

// slowStore delays every write while slow is set.
type slowStore struct {
	store.Store
	slow atomic.Int64 // nanoseconds
}

func (s *slowStore) Apply(b *store.Batch) error {
	time.Sleep(time.Duration(s.slow.Load()))
	return s.Store.Apply(b)
}

// A local write that outlasts the request's timer is still sent to the
// other replicas once it is done: the client was told 503, which leaves
// the outcome open, and the write must not stay on one replica alone.
func TestCoordinatorReplicatesLateLocalWrite(t *testing.T) {
	const timeout = 200 * time.Millisecond
	slow := map[string]*slowStore{}
	tc := newTestCluster(t, clusterSpec{timeout: timeout, wrap: func(node string, s store.Store) store.Store {
		slow[node] = &slowStore{Store: s}
		return slow[node]
	}})
	slow["n1"].slow.Store(int64(3 * timeout))
	r := tc.put(0, "k", "late", nil)
	if r.Status != messages.StatusUnavailable {
		t.Fatalf("put with a slow local store: %d %q; want 503", r.Status, r.Err)
	}
	for _, id := range []string{"n2", "n3"} {
		eventually(t, 5*time.Second, id+" holds the late write", func() bool {
			held := tc.stored(id, "k")
			return len(held) == 1 && string(held[0].Value) == "late"
		})
	}
	if s := tc.stats(0); s.Repairs != 2 || s.Open != 0 {
		t.Fatalf("stats %+v; want the late write sent to 2 replicas and the request closed", s)
	}
}

// Both sides of a partition accept blind writes of a key; healed, the
// union of its siblings no longer fits one message. No replica stores more
// than a message may carry (read repair of the union is refused), a read
// by a client on another process is answered 413 at once rather than left
// to time out, a local read sees every sibling, and a write with its
// context resolves them everywhere.
func TestCoordinatorSiblingBoundHoldsOnEveryPath(t *testing.T) {
	bound := memnet.DefaultMaxFrameSize - 64<<10
	tc := newTestCluster(t, clusterSpec{
		vnode: func(cfg *actors.VnodeConfig) { cfg.MaxSetBytes = bound },
		coord: func(cfg *actors.CoordinatorConfig) { cfg.MaxReplyBytes = bound },
	})
	value := bytes.Repeat([]byte("v"), 1<<20)
	tc.net.Partition([]string{tc.nodes[0].addr}, []string{tc.nodes[1].addr, tc.nodes[2].addr})
	for i, side := range []int{0, 0, 1, 1} {
		r := tc.putMsg(side, &messages.ClientPut{Key: []byte("big"), Value: append(value[:len(value):len(value)], byte(i)), W: 1})
		if r.Status != messages.StatusOK {
			t.Fatalf("put %d on side %d: %d %s", i, side, r.Status, r.Err)
		}
	}
	tc.net.Heal()
	local := tc.readAll(2, "big")
	if local.Status != messages.StatusOK || len(local.Values) != 4 {
		t.Fatalf("local read: %d %q with %d values; want all four", local.Status, local.Err, len(local.Values))
	}
	eventually(t, 5*time.Second, "read repair refused as too large", func() bool {
		for _, n := range tc.nodes {
			raw, err := n.store.Get(uint32(tc.ring.PartitionOf([]byte("big"))), []byte("big"))
			if err == nil && len(raw) > bound {
				t.Fatalf("%s stores %d bytes for the key, over the bound of %d", n.id, len(raw), bound)
			}
		}
		return tc.stats(2).Open == 0
	})

	start := time.Now()
	key := []byte("big")
	res, err := tc.nodes[1].engine.Request(tc.coordFor(0, key), &messages.ClientGet{Key: key, R: 3}, 5*time.Second).Result()
	if err != nil {
		t.Fatalf("remote read: %v", err)
	}
	if r := res.(*messages.ClientGetReply); r.Status != messages.StatusTooLarge || !strings.Contains(r.Err, "over HTTP") {
		t.Fatalf("remote read answered %d %q; want 413 with advice", r.Status, r.Err)
	}
	if d := time.Since(start); d >= tc.spec.timeout {
		t.Fatalf("remote read answered after %v; want before the request timeout", d)
	}

	tc.mustPut(0, "big", "small", local.Context)
	for i := range tc.nodes {
		if got := tc.readAll(i, "big"); !slices.Equal(values(got), []string{"small"}) {
			t.Fatalf("after resolving, read via %s: %d %v", tc.nodes[i].id, got.Status, values(got))
		}
	}
}

// A replica whose stored set for a key is corrupt moves it aside and
// reads as missing, so a read finds the others' copy and read repair
// rewrites it; writes through that replica work again too.
func TestCoordinatorRepairsQuarantinedKey(t *testing.T) {
	counters := map[string]*actors.VnodeCounters{}
	for _, id := range []string{"n1", "n2", "n3"} {
		counters[id] = &actors.VnodeCounters{}
	}
	// No cache: corruption is found on disk, after a restart.
	tc := newTestCluster(t, clusterSpec{vnode: func(cfg *actors.VnodeConfig) { cfg.Counters, cfg.CacheBytes = counters[cfg.Node], -1 }})
	ctx := tc.putMsg(0, &messages.ClientPut{Key: []byte("k"), Value: []byte("v1"), W: 3}).Context
	p := uint32(tc.ring.PartitionOf([]byte("k")))
	b := store.NewBatch()
	b.Put(p, []byte("k"), []byte{0x91, 0xc1}) // an array holding a reserved byte
	if err := tc.node("n2").store.Apply(b); err != nil {
		t.Fatal(err)
	}
	if got := tc.readAll(1, "k"); !slices.Equal(values(got), []string{"v1"}) {
		t.Fatalf("read through the corrupt replica: %d %q %v", got.Status, got.Err, values(got))
	}
	eventually(t, 5*time.Second, "n2 repaired", func() bool {
		raw, err := tc.node("n2").store.Get(p, []byte("k"))
		if err != nil {
			return false
		}
		s, err := version.UnmarshalSiblings(raw)
		return err == nil && len(s) == 1 && string(s[0].Value) == "v1"
	})
	if n := counters["n2"].Quarantined.Load(); n != 1 {
		t.Fatalf("n2 counted %d quarantines; want 1", n)
	}
	tc.mustPut(1, "k", "v2", ctx)
	if got := tc.readAll(2, "k"); !slices.Equal(values(got), []string{"v2"}) {
		t.Fatalf("after a write through n2: %v", values(got))
	}
}
