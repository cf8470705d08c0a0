package actors_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/store"
	"github.com/dynamokv/dynamo/version"
)

// stored decodes what the store itself holds for key.
func (h *vnodeHarness) stored(key string) version.Siblings {
	h.tb.Helper()
	raw, err := h.failer.Store.Get(vnodePart, []byte(key))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		h.tb.Fatal(err)
	}
	s, err := version.UnmarshalSiblings(raw)
	if err != nil {
		h.tb.Fatal(err)
	}
	return s
}

// mustMatchStore reads key through the vnode and fails unless the answer
// is what the store holds.
func (h *vnodeHarness) mustMatchStore(key string) version.Siblings {
	h.tb.Helper()
	r := h.read(key)
	if want := h.stored(key); r.Err != "" || !r.Versions.Equal(want) {
		h.tb.Fatalf("read %s answered %v (err %q); the store holds %v", key, r.Versions, r.Err, want)
	}
	return r.Versions
}

// With a cache too small for the keys in use, every read still answers
// what the store holds: after coordinated and replicated writes, siblings,
// overwrites, evictions and for absent keys.
func TestVnodeCacheAgreesWithStore(t *testing.T) {
	h := newVnodeHarnessCache(t, 1500) // a handful of entries
	const keys = 40
	for i := range 400 {
		key := fmt.Sprintf("k%02d", i*7%keys)
		switch i % 4 {
		case 0: // replaces what the last read saw
			ctx := h.mustMatchStore(key).Context()
			h.coordinate(&messages.CoordinatePut{ReqID: 1, Key: []byte(key), Value: fmt.Appendf(nil, "v%d", i), Context: ctx})
		case 1: // no context: a sibling of what is there
			h.coordinate(&messages.CoordinatePut{ReqID: 1, Key: []byte(key), Value: fmt.Appendf(nil, "s%d", i)})
		case 2:
			ver := version.Version{Dot: version.Dot{Node: "b", Counter: uint64(i + 1), Stamp: int64(i)}, Value: fmt.Appendf(nil, "r%d", i)}
			ack := h.ask(&messages.ReplicaPut{ReqID: 1, Partition: vnodePart, Key: []byte(key), Versions: version.Siblings{ver}}).(*messages.ReplicaPutAck)
			if ack.Err != "" {
				t.Fatal(ack.Err)
			}
		case 3: // deletes what the last read saw
			ctx := h.mustMatchStore(key).Context()
			if len(ctx) > 0 {
				h.coordinate(&messages.CoordinatePut{ReqID: 1, Key: []byte(key), Delete: true, Context: ctx})
			}
		}
		h.mustMatchStore(key)
		h.mustMatchStore(fmt.Sprintf("k%02d", i*13%(keys+5))) // some never written
	}
}

// A read right after a write, and a second read of an absent key, are
// answered without the store; a key the cache evicted is read again.
func TestVnodeCacheSavesStoreReads(t *testing.T) {
	h := newVnodeHarnessCache(t, 1000)
	reads := func(what string, want int64, f func()) {
		t.Helper()
		before := h.store.gets.Load()
		f()
		if n := h.store.gets.Load() - before; n != want {
			t.Fatalf("%s: %d store reads; want %d", what, n, want)
		}
	}
	reads("first write", 1, func() { h.coordinate(&messages.CoordinatePut{ReqID: 1, Key: []byte("k"), Value: []byte("v")}) })
	reads("read after write", 0, func() { h.mustMatchStore("k") })
	reads("absent key", 1, func() { h.mustMatchStore("none") })
	reads("absent key again", 0, func() { h.mustMatchStore("none") })
	reads("write to a known-absent key", 0, func() {
		h.coordinate(&messages.CoordinatePut{ReqID: 1, Key: []byte("none"), Value: []byte("now")})
	})
	for i := range 10 {
		h.coordinate(&messages.CoordinatePut{ReqID: 1, Key: fmt.Appendf(nil, "other%d", i), Value: []byte("v")})
	}
	reads("evicted key", 1, func() { h.mustMatchStore("k") })
	reads("evicted key again", 0, func() { h.mustMatchStore("k") })
}

// A negative CacheBytes turns the cache off: every read asks the store.
func TestVnodeCacheOff(t *testing.T) {
	h := newVnodeHarnessCache(t, -1)
	h.coordinate(&messages.CoordinatePut{ReqID: 1, Key: []byte("k"), Value: []byte("v")})
	before := h.store.gets.Load()
	for range 3 {
		h.mustMatchStore("k")
		h.mustMatchStore("none")
	}
	if n := h.store.gets.Load() - before; n != 6 {
		t.Fatalf("%d store reads for 6 reads; want 6", n)
	}
}

// A write whose outcome the vnode cannot know (the store failed or
// panicked, perhaps after applying it) leaves nothing stale cached: the
// next read answers what the store holds, whichever it is.
func TestVnodeCacheAfterFailedWrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fail  func(h *vnodeHarness)
		panic bool
	}{
		{"refused", func(h *vnodeHarness) { h.failer.failing.Store(true) }, false},
		{"applied but failed", func(h *vnodeHarness) { h.store.after.Store(afterApplyFail) }, false},
		{"applied then panicked", func(h *vnodeHarness) { h.store.after.Store(afterApplyPanic) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newVnodeHarness(t)
			h.coordinate(&messages.CoordinatePut{ReqID: 1, Key: []byte("k"), Value: []byte("v1")})
			before := h.mustMatchStore("k")
			tc.fail(h)
			v2 := version.Version{Dot: version.Dot{Node: "b", Counter: 1, Stamp: 1}, Value: []byte("v2")}
			put := &messages.ReplicaPut{ReqID: 2, Partition: vnodePart, Key: []byte("k"), Versions: version.Siblings{v2}}
			if tc.panic {
				// Unanswered; the read below waits behind it in the inbox.
				h.panics = 1
				put.ReqID = 0
				h.engine.Send(h.pid, put)
			} else {
				if ack := h.ask(put).(*messages.ReplicaPutAck); ack.Err == "" {
					t.Fatal("failed write acknowledged")
				}
				h.failer.failing.Store(false)
				h.store.after.Store(0)
			}
			got := h.mustMatchStore("k")
			if kept := !got.Equal(before); kept == (tc.name == "refused") {
				t.Fatalf("read %v after the failure; before it %v", got, before)
			}
		})
	}
}

// Replica writes of new versions, each replacing the key's last one, as
// the replicas of a put see them; the keys fit in the cache.
func BenchmarkVnodeReplicaPut(b *testing.B) {
	h := newVnodeHarness(b)
	const keys = 256
	last := make([]version.Version, keys)
	value := make([]byte, 100)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := i % keys
		ver := version.Version{Dot: version.Dot{Node: "b", Counter: uint64(i + 1), Stamp: int64(i)}, Value: value}
		if last[k].Dot.Counter != 0 {
			ver.Context = last[k].Clock()
		}
		last[k] = ver
		m := &messages.ReplicaPut{ReqID: 1, Partition: vnodePart, Key: fmt.Appendf(nil, "key-%d", k), Versions: version.Siblings{ver}}
		if ack := h.ask(m).(*messages.ReplicaPutAck); ack.Err != "" {
			b.Fatal(ack.Err)
		}
	}
}

// Reads and writes of keys that fit the cache, on Pebble, with the cache
// on and off: what a replica does for each operation on a warm key.
func BenchmarkVnodePebble(b *testing.B) {
	const keys = 500
	value := make([]byte, 100)
	for _, cacheBytes := range []int{0, -1} {
		name := map[int]string{0: "cache=on", -1: "cache=off"}[cacheBytes]
		e, err := actor.NewEngine(actor.NewEngineConfig())
		if err != nil {
			b.Fatal(err)
		}
		st, err := store.OpenPebble(store.Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		pid := e.Spawn(actors.NewVnode(actors.VnodeConfig{Node: "a", Partition: 1, Store: st, CacheBytes: cacheBytes}),
			actors.VnodeKind, actor.WithID(actors.VnodeID(1)))
		ask := func(msg any) any {
			res, err := e.Request(pid, msg, 10*time.Second).Result()
			if err != nil {
				b.Fatal(err)
			}
			return res
		}
		ctxs := make([]version.Clock, keys)
		key := func(i int) []byte { return fmt.Appendf(nil, "key-%d", i%keys) }
		for i := range keys {
			ctxs[i] = ask(&messages.CoordinatePut{ReqID: 1, Partition: 1, Key: key(i), Value: value}).(*messages.CoordinatePutDone).Version.Clock()
		}
		b.Run(name+"/replica-get", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if r := ask(&messages.ReplicaGet{ReqID: 1, Partition: 1, Key: key(i)}).(*messages.ReplicaGetReply); r.Err != "" || len(r.Versions) != 1 {
					b.Fatalf("%+v", r)
				}
			}
		})
		b.Run(name+"/coordinate-put", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				d := ask(&messages.CoordinatePut{ReqID: 1, Partition: 1, Key: key(i), Value: value, Context: ctxs[i%keys]}).(*messages.CoordinatePutDone)
				if d.Err != "" {
					b.Fatal(d.Err)
				}
				ctxs[i%keys] = d.Version.Clock()
			}
		})
		<-e.Poison(pid).Done()
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
