package actors_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/store"
	"github.com/dynamokv/dynamo/version"
)

// Dots carry the incarnation name, answers the member ID the coordinator
// counts; and the answer holds the whole set and the request's key, for
// replication.
func TestVnodeDotNodeNamesDots(t *testing.T) {
	h := newVnodeHarnessConfig(t, func(cfg *actors.VnodeConfig) { cfg.Dots = version.NewDotSource("a.inc2") })
	put := func(req uint64, value string) *messages.CoordinatePutDone {
		t.Helper()
		d := h.coordinate(&messages.CoordinatePut{ReqID: req, Key: []byte("k"), Value: []byte(value)})
		if d.Err != "" || d.Node != "a" || d.Partition != vnodePart || string(d.Key) != "k" {
			t.Fatalf("done %+v; want node a, partition %d, key k", d, vnodePart)
		}
		return d
	}
	d1 := put(1, "v1")
	if d1.Version.Dot.Node != "a.inc2" || d1.Version.Dot.Counter != 1 {
		t.Fatalf("dot %v; want a.inc2:1", d1.Version.Dot)
	}
	if !d1.Set.Equal(version.Siblings{d1.Version}) {
		t.Fatalf("set %v; want the new version", d1.Set)
	}
	// A dot of the member's earlier incarnation is another writer: it
	// does not move this incarnation's counter.
	old := version.Version{Dot: version.Dot{Node: "a", Counter: 7}, Value: []byte("old")}
	h.ask(&messages.ReplicaPut{ReqID: 2, Partition: vnodePart, Key: []byte("k"), Versions: version.Siblings{old}})
	d3 := put(3, "v3")
	if d3.Version.Dot.Counter != 2 || !d3.Set.Equal(version.Siblings{old, d1.Version, d3.Version}) {
		t.Fatalf("dot %v, set %v; want a.inc2:2 beside a:7 and a.inc2:1", d3.Version.Dot, d3.Set)
	}
}

// A coordinated write that would make the key's set larger than
// MaxSetBytes is refused (413) and stores nothing; one that replaces the
// siblings is accepted. So is a replica write whose merge would outgrow
// the bound: every replica must be able to send what it holds in one
// message, or the key's reads would time out for good. A replica write
// that resolves the siblings is accepted again.
func TestVnodeMaxSetBytes(t *testing.T) {
	counters := &actors.VnodeCounters{}
	h := newVnodeHarnessConfig(t, func(cfg *actors.VnodeConfig) { cfg.MaxSetBytes = 300; cfg.Counters = counters })
	big := bytes.Repeat([]byte("x"), 200)
	d1 := h.coordinate(&messages.CoordinatePut{ReqID: 1, Key: []byte("k"), Value: big})
	if d1.Err != "" {
		t.Fatalf("first write: %+v", d1)
	}
	d2 := h.coordinate(&messages.CoordinatePut{ReqID: 2, Key: []byte("k"), Value: big})
	if d2.Status != messages.StatusTooLarge || !strings.Contains(d2.Err, "over the limit of 300") ||
		!strings.Contains(d2.Err, "read the key and write with its context") || d2.MaybeStored {
		t.Fatalf("second blind write answered %d %q; want 413 with advice", d2.Status, d2.Err)
	}
	if got := h.read("k").Versions; !got.Equal(version.Siblings{d1.Version}) {
		t.Fatalf("stored %v after the refusal; want the first write alone", got)
	}
	d3 := h.coordinate(&messages.CoordinatePut{ReqID: 3, Key: []byte("k"), Value: big, Context: d1.Version.Clock()})
	if d3.Err != "" || d3.Status != 0 {
		t.Fatalf("write replacing the set: %+v", d3)
	}

	other := version.Version{Dot: version.Dot{Node: "b", Counter: 1}, Value: big}
	ack := h.ask(&messages.ReplicaPut{ReqID: 4, Partition: vnodePart, Key: []byte("k"), Versions: version.Siblings{other}}).(*messages.ReplicaPutAck)
	if !strings.Contains(ack.Err, "over the limit of 300") || !strings.Contains(ack.Err, "write with its context") {
		t.Fatalf("replica write over the limit answered %+v; want a refusal with advice", ack)
	}
	if got := h.read("k").Versions; !got.Equal(version.Siblings{d3.Version}) {
		t.Fatalf("stored %v after the refused replica write; want a:2 alone", got)
	}
	if n := counters.RefusedTooLarge.Load(); n != 1 {
		t.Fatalf("%d refusals counted; want 1", n)
	}
	resolved := version.Version{Dot: version.Dot{Node: "b", Counter: 2}, Context: version.Merge(d3.Version.Clock(), other.Clock()), Value: big}
	ack = h.ask(&messages.ReplicaPut{ReqID: 5, Partition: vnodePart, Key: []byte("k"), Versions: version.Siblings{other, resolved}}).(*messages.ReplicaPutAck)
	if ack.Err != "" {
		t.Fatalf("replica write resolving the siblings: %+v", ack)
	}
	if got := h.read("k").Versions; !got.Equal(version.Siblings{resolved}) {
		t.Fatalf("stored %v; want the resolution alone", got)
	}
}

// A stored set that cannot be decoded is moved aside, counted and logged
// with its key hash, and the key then reads as absent on this replica, so
// that writes and read repair work again instead of failing for good.
func TestVnodeQuarantinesCorruptSets(t *testing.T) {
	counters := &actors.VnodeCounters{}
	h := newVnodeHarnessConfig(t, func(cfg *actors.VnodeConfig) { cfg.Counters = counters })
	corrupt := []byte{0xc1, 0x00}
	b := store.NewBatch()
	b.Put(vnodePart, []byte("bad"), corrupt)
	b.Put(vnodePart, []byte("bad2"), corrupt)
	if err := h.failer.Store.Apply(b); err != nil {
		t.Fatal(err)
	}
	if r := h.read("bad"); r.Err != "" || len(r.Versions) != 0 {
		t.Fatalf("read of a corrupt set answered %+v; want an empty set", r)
	}
	kept, err := h.failer.Store.Get(actors.QuarantinePartition, actors.QuarantineKey(vnodePart, []byte("bad")))
	if err != nil || !bytes.Equal(kept, corrupt) {
		t.Fatalf("quarantined bytes %x, %v; want %x", kept, err, corrupt)
	}
	// Read repair, a replica write, goes through.
	v := version.Version{Dot: version.Dot{Node: "b", Counter: 1}, Value: []byte("repaired")}
	if ack := h.ask(&messages.ReplicaPut{ReqID: 2, Partition: vnodePart, Key: []byte("bad"), Versions: version.Siblings{v}}).(*messages.ReplicaPutAck); ack.Err != "" {
		t.Fatalf("repair of a quarantined key: %+v", ack)
	}
	if got := h.read("bad").Versions; !got.Equal(version.Siblings{v}) {
		t.Fatalf("after repair the key holds %v", got)
	}
	// So does a coordinated write; its reply context no longer claims the
	// vnode knows every version its node wrote.
	d := h.coordinate(&messages.CoordinatePut{ReqID: 3, Key: []byte("bad2"), Value: []byte("new")})
	if d.Err != "" || len(d.Reply) != 0 {
		t.Fatalf("write over a corrupt set answered %+v; want it stored, with the client's empty context back", d)
	}
	if n := counters.Quarantined.Load(); n != 2 {
		t.Fatalf("%d quarantines counted; want 2", n)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, `"level":"error"`) || !strings.Contains(logs, "quarantined") || !strings.Contains(logs, "key_hash") {
		t.Fatalf("quarantine not logged as an error with the key hash: %s", logs)
	}
}

// Every start of a node gets a new incarnation, short and fit for a
// clock's node names.
func TestNewIncarnation(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		inc := actors.NewIncarnation()
		if len(inc) != 8 || strings.Trim(inc, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Fatalf("incarnation %q; want 8 characters of lower-case base32", inc)
		}
		if seen[inc] {
			t.Fatalf("incarnation %q made twice", inc)
		}
		seen[inc] = true
	}
}
