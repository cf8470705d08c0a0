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
	h := newVnodeHarnessConfig(t, func(cfg *actors.VnodeConfig) { cfg.DotNode = "a.inc2" })
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
// siblings is accepted. Replica writes are stored whatever their size,
// and reading such a set is logged as an error rather than left to vanish.
func TestVnodeMaxSetBytes(t *testing.T) {
	h := newVnodeHarnessConfig(t, func(cfg *actors.VnodeConfig) { cfg.MaxSetBytes = 300 })
	big := bytes.Repeat([]byte("x"), 200)
	d1 := h.coordinate(&messages.CoordinatePut{ReqID: 1, Key: []byte("k"), Value: big})
	if d1.Err != "" {
		t.Fatalf("first write: %+v", d1)
	}
	d2 := h.coordinate(&messages.CoordinatePut{ReqID: 2, Key: []byte("k"), Value: big})
	if d2.Status != messages.StatusTooLarge || !strings.Contains(d2.Err, "over the limit of 300") ||
		!strings.Contains(d2.Err, "read the key and write with its context") {
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
	if ack.Err != "" {
		t.Fatalf("replica write over the limit: %+v", ack)
	}
	if got := h.read("k").Versions; !got.Equal(version.Siblings{other, d3.Version}) {
		t.Fatalf("stored %v; want the replica write kept beside a:2", got)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, `"level":"error"`) || !strings.Contains(logs, "over the size limit") {
		t.Fatalf("read of a set over the limit not logged as an error: %s", logs)
	}
}

// A store keeps its incarnation across reopenings; a new or emptied store
// gets a new one, and a damaged record is replaced.
func TestLoadIncarnation(t *testing.T) {
	dir := t.TempDir()
	open := func() store.Store {
		t.Helper()
		st, err := store.OpenPebble(store.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	load := func(st store.Store) string {
		t.Helper()
		inc, err := actors.LoadIncarnation(st)
		if err != nil || inc == "" || len(inc) > 16 || strings.ContainsAny(inc, ".=/") {
			t.Fatalf("incarnation %q, %v; want a short name", inc, err)
		}
		return inc
	}
	st := open()
	first := load(st)
	if again := load(st); again != first {
		t.Fatalf("same store: %q then %q", first, again)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open()
	if reopened := load(st); reopened != first {
		t.Fatalf("reopened store: %q; want %q", reopened, first)
	}
	// The record lives outside every partition a ring can have.
	if keys, _, err := st.PartitionStats(0); err != nil || keys != 0 {
		t.Fatalf("partition 0 holds %d keys (%v)", keys, err)
	}
	b := store.NewBatch()
	b.Put(actors.IncarnationPartition, []byte(actors.IncarnationKey), []byte("!"))
	if err := st.Apply(b); err != nil {
		t.Fatal(err)
	}
	if replaced := load(st); replaced == first || replaced == "!" {
		t.Fatalf("damaged record gave %q", replaced)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	a, b2 := store.NewMemory(), store.NewMemory()
	if x, y := load(a), load(b2); x == y {
		t.Fatalf("two empty stores share the incarnation %q", x)
	}
}
