package version

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestDotSourceNext(t *testing.T) {
	tests := []struct {
		name   string
		issued uint64 // counters the source issued before
		local  Siblings
		ctx    string
		want   uint64
	}{
		{"first write", 0, nil, "", 1},
		{"from context", 0, nil, "a:4 b:9", 5},
		{"other nodes ignored", 0, nil, "b:9 c:4", 1},
		{"from local dot", 0, Siblings{ver("a:7", "", "")}, "a:2", 8},
		{"from local context", 0, Siblings{ver("b:1", "a:5", "")}, "a:2", 6},
		{"context ahead of local", 0, Siblings{ver("a:3", "", "")}, "a:9", 10},
		{"max over siblings", 0, Siblings{ver("a:2", "", ""), ver("a:6", "a:1", ""), ver("b:3", "a:4", "")}, "", 7},
		// The key's history says less than the source has issued: it was
		// truncated, lost with a rolled-back store, or is another key's.
		{"issued beats history", 12, Siblings{ver("a:3", "", "")}, "a:2", 13},
		{"issued beats empty history", 5, nil, "", 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewDotSource("a")
			s.last.Store(tt.issued)
			got := s.Next(tt.local, cl(tt.ctx), 42)
			if want := (Dot{Node: "a", Counter: tt.want, Stamp: 42}); got != want {
				t.Fatalf("Next = %+v, want %+v", got, want)
			}
		})
	}
}

// The rollback the source exists for: a node's store loses a write it
// acknowledged (or its history of the key is truncated away), and the next
// write must still get a dot no replica holds. Derived from the key's
// stored history alone, as dots once were, it would be a:1 again.
func TestDotSourceNeverReissues(t *testing.T) {
	s := NewDotSource("a")
	first := s.NewVersion(nil, nil, nil, []byte("acknowledged"), false, 1, 0)
	// The store is rolled back: the key's local history is empty again.
	second := s.NewVersion(nil, nil, nil, []byte("later"), false, 2, 0)
	if first.Dot.sameEvent(second.Dot) {
		t.Fatalf("dot %v issued twice", first.Dot)
	}
	// Both survive on a replica that holds the first.
	if got := (Siblings{first}).Add(second); len(got) != 2 {
		t.Fatalf("replica holds %s; want both writes", dots(got))
	}
	seen := map[uint64]bool{}
	for i := 0; i < 1000; i++ {
		d := s.Next(nil, nil, 3)
		if seen[d.Counter] {
			t.Fatalf("counter %d issued twice", d.Counter)
		}
		seen[d.Counter] = true
	}
}

func TestDotSourceConcurrentUse(t *testing.T) {
	s := NewDotSource("a")
	const workers, each = 8, 500
	out := make(chan uint64, workers*each)
	for w := 0; w < workers; w++ {
		go func() {
			for i := 0; i < each; i++ {
				out <- s.Next(nil, nil, 0).Counter
			}
		}()
	}
	seen := map[uint64]bool{}
	for i := 0; i < workers*each; i++ {
		c := <-out
		if seen[c] {
			t.Fatalf("counter %d issued twice", c)
		}
		seen[c] = true
	}
}

func TestNewVersionTruncates(t *testing.T) {
	var entries []Entry
	for i := 0; i < 12; i++ {
		entries = append(entries, Entry{Node: "n" + strconv.Itoa(i+10), Counter: 1, Stamp: int64(i)})
	}
	ctx := NewClock(entries...)
	for _, tt := range []struct {
		max, wantCtx int
	}{{0, MaxClockEntries - 1}, {10, 9}, {5, 4}, {20, 12}} {
		v := NewDotSource("z").NewVersion(nil, ctx, nil, []byte("v"), false, 100, tt.max)
		if len(v.Context) != tt.wantCtx {
			t.Fatalf("max %d: context has %d entries, want %d", tt.max, len(v.Context), tt.wantCtx)
		}
		limit := tt.max
		if limit == 0 {
			limit = MaxClockEntries
		}
		if n := len(v.Clock()); n > limit {
			t.Fatalf("max %d: clock has %d entries", tt.max, n)
		}
		// The newest entries survive.
		if v.Context.Get("n21") != 1 || (tt.wantCtx < 12 && v.Context.Get("n10") != 0) {
			t.Fatalf("max %d: kept the wrong entries: %v", tt.max, v.Context)
		}
	}
	if len(ctx) != 12 {
		t.Fatal("NewVersion modified ctx")
	}
}

// A context naming ten or more writers, the coordinator's own entry the
// oldest of them, used to lose that entry to truncation: the new write then
// no longer superseded the coordinator's previous one, and the dot counter
// derived from the key's history could start again at 1.
func TestNewVersionKeepsOwnEntry(t *testing.T) {
	s := NewDotSource("a")
	prev := s.NewVersion(nil, nil, nil, []byte("v1"), false, 1, 0)
	entries := []Entry{prev.Dot.entry()}
	for i := 0; i < 12; i++ {
		entries = append(entries, Entry{Node: "w" + strconv.Itoa(i+10), Counter: 1, Stamp: int64(100 + i)})
	}
	ctx := NewClock(entries...)
	next := s.NewVersion(Siblings{prev}, ctx, nil, []byte("v2"), false, 200, 0)
	if next.Context.Get("a") != prev.Dot.Counter || len(next.Clock()) > MaxClockEntries {
		t.Fatalf("context %v: want a:%d kept within %d entries", next.Context, prev.Dot.Counter, MaxClockEntries)
	}
	if got := (Siblings{prev}).Add(next); len(got) != 1 || string(got[0].Value) != "v2" {
		t.Fatalf("set %s; want v2 to replace v1", dots(got))
	}
}

// Stamps in a client's context are not trusted: an entry the key's stored
// versions know takes their stamp, and no stamp lies in the future.
func TestNewVersionDistrustsStamps(t *testing.T) {
	local := Siblings{ver("b:3@50", "c:2@40", "x")}
	ctx := cl("b:3@999999 c:2@7 d:5@888888 e:1@20")
	v := NewDotSource("a").NewVersion(local, ctx, nil, []byte("y"), false, 100, 0)
	if want := cl("b:3@50 c:2@40 d:5@100 e:1@20"); !v.Context.identical(want) {
		t.Fatalf("context %#v; want %#v", v.Context, want)
	}
	if !ctx.identical(cl("b:3@999999 c:2@7 d:5@888888 e:1@20")) {
		t.Fatal("NewVersion modified ctx")
	}
}

func TestNewVersion(t *testing.T) {
	local := Siblings{ver("a:2", "a:1", "p")}
	s := NewDotSource("a")
	v := s.NewVersion(local, cl("a:1"), nil, []byte("q"), false, 7, 0)
	want := Version{Dot: Dot{"a", 3, 7}, Context: cl("a:1"), Value: []byte("q")}
	if !identical(v, want) {
		t.Fatalf("NewVersion = %+v, want %+v", v, want)
	}
	d := s.NewVersion(local, cl("a:2"), nil, []byte("ignored"), true, 8, 0)
	if !d.Deleted || d.Value != nil || d.Dot.Counter != 4 {
		t.Fatalf("tombstone = %+v", d)
	}
}

func TestReplyContext(t *testing.T) {
	withAlso := func(v Version, also string) Version { v.Also = alsoOf(also); return v }
	tests := []struct {
		name   string
		v      Version
		before Siblings
		want   string
		also   string // the single events named beyond the clock
	}{
		{"first write", ver("a:1", "", "v"), nil, "a:1", ""},
		{"read-modify-write", ver("a:5", "a:4 b:2", "v"), Siblings{ver("a:4", "b:2", "")}, "a:5 b:2", ""},
		// Counters of a source are shared by keys, so they skip: a gap
		// alone says nothing of unseen writes.
		{"gap with nothing unseen", ver("a:9", "a:4", "v"), Siblings{ver("a:4", "", "")}, "a:9", ""},
		{"unseen sibling of this node", ver("a:9", "a:4", "v"), Siblings{ver("a:4", "", ""), ver("a:7", "a:4", "")}, "a:4", "a:9"},
		{"blind write beside a sibling", ver("a:3", "", "v"), Siblings{ver("a:2", "", "")}, "", "a:3"},
		{"unseen siblings of others do not matter", ver("a:3", "a:2", "v"), Siblings{ver("a:2", "", ""), ver("b:9", "", "")}, "a:3", ""},
		{"the version itself", ver("a:3", "", "v"), Siblings{ver("a:3", "", "v")}, "a:3", ""},
		// The writer's previous write, named alone by its last reply, is
		// not unseen.
		{"a sibling the writer named", withAlso(ver("a:9", "a:4", "v"), "a:7"), Siblings{ver("a:4", "", ""), ver("a:7", "a:4", "")}, "a:9", ""},
		{"named events carried on", withAlso(ver("a:9", "a:4", "v"), "b:5"), Siblings{ver("a:7", "a:4", "")}, "a:4", "a:9 b:5"},
		{"named events the clock covers dropped", withAlso(ver("a:9", "a:4", "v"), "a:2 b:5"), nil, "a:9", "b:5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, also := ReplyContext(tt.v, tt.before)
			if got.Compare(cl(tt.want)) != Equal || !slices.Equal(also, alsoOf(tt.also)) {
				t.Fatalf("ReplyContext = %v %v, want %v %v", got, also, cl(tt.want), alsoOf(tt.also))
			}
		})
	}
}

// alsoOf parses "a:1 b:2" into canonical Dots.
func alsoOf(s string) Dots {
	var out Dots
	for _, f := range strings.Fields(s) {
		e := entry(f)
		out = append(out, Dot{Node: e.Node, Counter: e.Counter})
	}
	return normalizeAlso(nil, out)
}

// A reply context covers the write it answers, and of the versions the
// key held before, only those the writer had seen: whatever the writer's
// context and whatever the key holds.
func TestReplyContextCoversTheWriteAndNothingUnseen(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 2000 {
		src := NewDotSource("a")
		var before Siblings
		for i := range 1 + r.IntN(6) {
			node := []string{"a", "a", "b"}[r.IntN(3)]
			v := Version{Dot: Dot{Node: node, Counter: uint64(1 + r.IntN(12))}, Value: []byte{byte(i)}}
			if r.IntN(2) == 0 {
				v.Context = NewClock(Entry{Node: "a", Counter: uint64(r.IntN(12))})
			}
			before = before.Add(v)
		}
		ctx := NewClock(Entry{Node: "a", Counter: uint64(r.IntN(12))}, Entry{Node: "b", Counter: uint64(r.IntN(12))})
		var also Dots
		for range r.IntN(3) {
			also = append(also, Dot{Node: "a", Counter: uint64(1 + r.IntN(12))})
		}
		v := src.NewVersion(before, ctx, normalizeAlso(nil, also), []byte("w"), false, 1, 0)
		c, named := ReplyContext(v, before)
		if !sees(c, named, v.Dot) {
			t.Fatalf("round %d: reply %v %v does not cover the write %v", round, c, named, v.Dot)
		}
		for _, b := range before {
			if sees(c, named, b.Dot) && !v.sees(b.Dot) {
				t.Fatalf("round %d: reply %v %v covers %v, which the writer (context %v %v) never saw", round, c, named, b.Dot, v.Context, v.Also)
			}
		}
		if err := named.Validate(); err != nil {
			t.Fatalf("round %d: named events %v: %v", round, named, err)
		}
	}
}
