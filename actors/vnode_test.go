package actors_test

import (
	"bytes"
	"errors"
	"strings"
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

const vnodePart = 7

// countingStore counts the batches applied, to see which writes a vnode
// skipped, and the reads, to see which the vnode's cache answered. Its
// after mode makes an applied batch fail or panic, so that the vnode cannot
// know whether the store has it.
type countingStore struct {
	store.Store
	applies atomic.Int64
	gets    atomic.Int64
	after   atomic.Int32
}

const (
	afterApplyFail = iota + 1
	afterApplyPanic
)

var errLostAck = errors.New("batch applied but reported lost")

func (s *countingStore) Get(p uint32, key []byte) ([]byte, error) {
	s.gets.Add(1)
	return s.Store.Get(p, key)
}

func (s *countingStore) Apply(b *store.Batch) error {
	s.applies.Add(1)
	err := s.Store.Apply(b)
	switch s.after.Load() {
	case afterApplyFail:
		if err == nil {
			err = errLostAck
		}
	case afterApplyPanic:
		s.after.Store(0) // once
		panic("store panicked after applying a batch")
	}
	return err
}

// lockedBuffer collects logs written from actor goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

type vnodeHarness struct {
	tb     testing.TB
	engine *actor.Engine
	pid    *actor.PID
	store  *countingStore
	failer *failingStore
	logs   *lockedBuffer
	now    atomic.Int64
	// panics is how many recovered panics the test expects.
	panics uint64
}

// newVnodeHarness runs one vnode of partition vnodePart for node "a" on a
// local engine, with a clock the test sets.
func newVnodeHarness(tb testing.TB) *vnodeHarness {
	tb.Helper()
	return newVnodeHarnessCache(tb, 0)
}

// newVnodeHarnessCache is newVnodeHarness with VnodeConfig.CacheBytes set.
func newVnodeHarnessCache(tb testing.TB, cacheBytes int) *vnodeHarness {
	tb.Helper()
	return newVnodeHarnessConfig(tb, func(cfg *actors.VnodeConfig) { cfg.CacheBytes = cacheBytes })
}

// newVnodeHarnessConfig is newVnodeHarness with the configuration adjusted
// by set.
func newVnodeHarnessConfig(tb testing.TB, set func(*actors.VnodeConfig)) *vnodeHarness {
	tb.Helper()
	e, err := actor.NewEngine(actor.NewEngineConfig())
	if err != nil {
		tb.Fatal(err)
	}
	h := &vnodeHarness{tb: tb, engine: e, logs: &lockedBuffer{}}
	h.failer = &failingStore{Store: store.NewMemory()}
	h.store = &countingStore{Store: h.failer}
	h.now.Store(1000)
	sup := actors.NewSupervisor(zerolog.Nop())
	cfg := actors.VnodeConfig{
		Node: "a", Dots: version.NewDotSource("a"), Partition: vnodePart, Store: h.store,
		Log: zerolog.New(h.logs), Now: h.now.Load, MaxClockEntries: 4,
	}
	set(&cfg)
	h.pid = sup.Spawn(e, actors.NewVnode(cfg), actors.VnodeKind, actor.WithID(actors.VnodeID(vnodePart)))
	if !h.pid.Equals(actors.VnodePID(e.Address(), vnodePart)) {
		tb.Fatalf("spawned %s; VnodePID says %s", h.pid, actors.VnodePID(e.Address(), vnodePart))
	}
	tb.Cleanup(func() {
		<-e.Poison(h.pid).Done()
		if sup.Panics() != h.panics {
			tb.Errorf("%d vnode panics; want %d", sup.Panics(), h.panics)
		}
	})
	return h
}

func (h *vnodeHarness) ask(msg any) any {
	h.tb.Helper()
	res, err := h.engine.Request(h.pid, msg, 5*time.Second).Result()
	if err != nil {
		h.tb.Fatalf("%T: %v", msg, err)
	}
	return res
}

func (h *vnodeHarness) coordinate(m *messages.CoordinatePut) *messages.CoordinatePutDone {
	h.tb.Helper()
	if m.Partition == 0 {
		m.Partition = vnodePart
	}
	return h.ask(m).(*messages.CoordinatePutDone)
}

func (h *vnodeHarness) read(key string) *messages.ReplicaGetReply {
	h.tb.Helper()
	r := h.ask(&messages.ReplicaGet{ReqID: 9, Partition: vnodePart, Key: []byte(key)}).(*messages.ReplicaGetReply)
	if r.ReqID != 9 || r.Node != "a" {
		h.tb.Fatalf("reply %+v does not name request 9 and node a", r)
	}
	return r
}

// The coordinating vnode names each write with its own node's next
// counter, so two writes with the same context become siblings and a
// write with their merged context replaces both.
func TestVnodeCoordinatePut(t *testing.T) {
	h := newVnodeHarness(t)
	d1 := h.coordinate(&messages.CoordinatePut{ReqID: 1, Key: []byte("k"), Value: []byte("v1")})
	if d1.Err != "" || d1.ReqID != 1 || d1.Node != "a" {
		t.Fatalf("done %+v", d1)
	}
	if d1.Version.Dot != (version.Dot{Node: "a", Counter: 1, Stamp: 1000}) || string(d1.Version.Value) != "v1" {
		t.Fatalf("first version %+v; want dot a:1 stamped 1000", d1.Version)
	}
	ctx := d1.Version.Clock()
	h.now.Store(2000)
	d2 := h.coordinate(&messages.CoordinatePut{ReqID: 2, Key: []byte("k"), Value: []byte("v2"), Context: ctx})
	d3 := h.coordinate(&messages.CoordinatePut{ReqID: 3, Key: []byte("k"), Value: []byte("v3"), Context: ctx})
	if d2.Version.Dot.Counter != 2 || d3.Version.Dot.Counter != 3 || d3.Version.Dot.Stamp != 2000 {
		t.Fatalf("dots %v %v; want a:2 and a:3", d2.Version.Dot, d3.Version.Dot)
	}
	got := h.read("k").Versions
	if !got.Equal(version.Siblings{d2.Version, d3.Version}) {
		t.Fatalf("stored %v; want the siblings v2, v3", got)
	}

	tomb := h.coordinate(&messages.CoordinatePut{ReqID: 4, Key: []byte("k"), Value: []byte("ignored"),
		Delete: true, Context: got.Context()})
	if !tomb.Version.Deleted || tomb.Version.Value != nil {
		t.Fatalf("delete made %+v; want a tombstone without a value", tomb.Version)
	}
	if got := h.read("k").Versions; !got.Equal(version.Siblings{tomb.Version}) {
		t.Fatalf("after delete stored %v; want the tombstone alone", got)
	}
	if r := h.read("absent"); r.Err != "" || len(r.Versions) != 0 {
		t.Fatalf("absent key: %+v", r)
	}
}

// Replica writes merge: siblings are kept, obsolete versions dropped, and
// a repeat changes nothing and writes nothing. Read repair (ReqID 0) is
// applied without an answer.
func TestVnodeReplicaPut(t *testing.T) {
	h := newVnodeHarness(t)
	v1 := version.Version{Dot: version.Dot{Node: "b", Counter: 1, Stamp: 1}, Value: []byte("v1")}
	w1 := version.Version{Dot: version.Dot{Node: "c", Counter: 1, Stamp: 2}, Value: []byte("w1")}
	v2 := version.Version{Dot: version.Dot{Node: "b", Counter: 2, Stamp: 3}, Context: v1.Clock(), Value: []byte("v2")}
	put := func(reqID uint64, vs ...version.Version) {
		t.Helper()
		ack := h.ask(&messages.ReplicaPut{ReqID: reqID, Partition: vnodePart, Key: []byte("k"), Versions: vs}).(*messages.ReplicaPutAck)
		if ack.ReqID != reqID || ack.Node != "a" || ack.Err != "" {
			t.Fatalf("ack %+v", ack)
		}
	}
	put(1, v1)
	put(2, w1)
	if got := h.read("k").Versions; !got.Equal(version.Siblings{v1, w1}) {
		t.Fatalf("stored %v; want siblings v1, w1", got)
	}
	put(3, v2)
	if got := h.read("k").Versions; !got.Equal(version.Siblings{v2, w1}) {
		t.Fatalf("stored %v; want v2 (which saw v1) and w1", got)
	}
	before := h.store.applies.Load()
	put(4, v2)
	put(5, v1) // obsolete: v2 saw it
	if n := h.store.applies.Load() - before; n != 0 {
		t.Fatalf("%d writes for versions already covered; want none", n)
	}

	// Read repair: no answer, but applied. A later request through the
	// same inbox answers only after the repair was handled.
	w2 := version.Version{Dot: version.Dot{Node: "c", Counter: 2, Stamp: 4}, Context: version.Siblings{v2, w1}.Context(), Value: []byte("w2")}
	client, pid := spawnClient(h.engine)
	h.engine.SendWithSender(h.pid, &messages.ReplicaPut{Partition: vnodePart, Key: []byte("k"), Versions: version.Siblings{w2}}, pid)
	if got := h.read("k").Versions; !got.Equal(version.Siblings{w2}) {
		t.Fatalf("after repair stored %v; want w2 alone", got)
	}
	if got := client.replies(t, h.engine, pid); len(got) != 0 {
		t.Fatalf("read repair answered %v; want no answer", got)
	}
}

// Nothing is dropped silently: a message for another partition, a storage
// failure and a corrupt stored value are all answered with Err.
func TestVnodeErrorsAreAnswered(t *testing.T) {
	h := newVnodeHarness(t)
	v := version.Version{Dot: version.Dot{Node: "b", Counter: 1}, Value: []byte("v")}

	wrong := []any{
		&messages.CoordinatePut{ReqID: 1, Partition: vnodePart + 1, Key: []byte("k")},
		&messages.ReplicaPut{ReqID: 2, Partition: vnodePart + 1, Key: []byte("k"), Versions: version.Siblings{v}},
		&messages.ReplicaGet{ReqID: 3, Partition: vnodePart + 1, Key: []byte("k")},
	}
	for _, m := range wrong {
		if e := replyErr(h.ask(m)); !strings.Contains(e, "wrong partition") {
			t.Fatalf("%T for another partition answered Err %q", m, e)
		}
	}

	h.failer.failing.Store(true)
	failing := []any{
		&messages.CoordinatePut{ReqID: 4, Partition: vnodePart, Key: []byte("k"), Value: []byte("v")},
		&messages.ReplicaPut{ReqID: 5, Partition: vnodePart, Key: []byte("k"), Versions: version.Siblings{v}},
		&messages.ReplicaGet{ReqID: 6, Partition: vnodePart, Key: []byte("k")},
	}
	for _, m := range failing {
		if e := replyErr(h.ask(m)); !strings.Contains(e, errInjected.Error()) {
			t.Fatalf("%T with a failing store answered Err %q", m, e)
		}
	}
	h.failer.failing.Store(false)

}

func replyErr(m any) string {
	switch r := m.(type) {
	case *messages.CoordinatePutDone:
		return r.Err
	case *messages.ReplicaPutAck:
		return r.Err
	case *messages.ReplicaGetReply:
		return r.Err
	}
	return "unexpected reply type"
}

// Clocks of new versions stay bounded however many nodes wrote the key.
func TestVnodeBoundsClocks(t *testing.T) {
	h := newVnodeHarness(t)
	var ctx version.Clock
	for i, n := range []string{"b", "c", "d", "e", "f", "g"} {
		ctx = version.Merge(ctx, version.NewClock(version.Entry{Node: n, Counter: 1, Stamp: int64(i)}))
	}
	d := h.coordinate(&messages.CoordinatePut{ReqID: 1, Key: []byte("k"), Value: []byte("v"), Context: ctx})
	if n := len(d.Version.Clock()); n != 4 {
		t.Fatalf("clock %v has %d entries; want MaxClockEntries 4", d.Version.Clock(), n)
	}
}

// A digest read answers the hash of what the vnode holds, the one its
// full answer carries, without the versions; an absent key hashes to 0.
func TestVnodeReplicaGetDigest(t *testing.T) {
	h := newVnodeHarness(t)
	digest := func(key string) *messages.ReplicaGetReply {
		t.Helper()
		return h.ask(&messages.ReplicaGet{ReqID: 8, Partition: vnodePart, Key: []byte(key), Digest: true}).(*messages.ReplicaGetReply)
	}
	if d := digest("k"); !d.Digest || d.Hash != 0 || len(d.Versions) != 0 || d.Err != "" {
		t.Fatalf("digest of an absent key: %+v; want hash 0", d)
	}
	h.coordinate(&messages.CoordinatePut{ReqID: 1, Key: []byte("k"), Value: []byte("v1")})
	full, d := h.read("k"), digest("k")
	if !d.Digest || len(d.Versions) != 0 || d.Hash == 0 || d.Hash != full.Hash {
		t.Fatalf("digest %+v beside the full answer's hash %d; want that hash alone", d, full.Hash)
	}
	h.coordinate(&messages.CoordinatePut{ReqID: 2, Key: []byte("k"), Value: []byte("v2")})
	if d2 := digest("k"); d2.Hash == d.Hash || d2.Hash != h.read("k").Hash {
		t.Fatalf("digest after a sibling was added: %d (before %d, full answer %d)", d2.Hash, d.Hash, h.read("k").Hash)
	}
}
