package version

import (
	"math/rand"
	"testing"
)

func TestVersionClock(t *testing.T) {
	v := ver("a:3@7", "a:2@1 b:1@1", "x")
	if got := v.Clock(); !got.identical(cl("a:3@7 b:1@1")) {
		t.Fatalf("Clock() = %#v", got)
	}
	if !v.Context.identical(cl("a:2@1 b:1@1")) {
		t.Fatal("Clock() modified Context")
	}
	if got := ver("c:1@2", "a:1", "").Clock(); !got.identical(cl("a:1 c:1@2")) {
		t.Fatalf("Clock() = %#v", got)
	}
}

func TestAdd(t *testing.T) {
	tests := []struct {
		name string
		have Siblings
		add  Version
		want Siblings
	}{
		{"into empty", nil, ver("a:1", "", "x"), Siblings{ver("a:1", "", "x")}},
		{"overwrite seen", Siblings{ver("a:1", "", "x")}, ver("a:2", "a:1", "y"), Siblings{ver("a:2", "a:1", "y")}},
		{"concurrent kept", Siblings{ver("a:1", "", "x")}, ver("b:1", "", "y"), Siblings{ver("a:1", "", "x"), ver("b:1", "", "y")}},
		{"stale dropped", Siblings{ver("a:2", "a:1", "y")}, ver("a:1", "", "x"), Siblings{ver("a:2", "a:1", "y")}},
		{"same version twice", Siblings{ver("a:1", "", "x")}, ver("a:1", "", "x"), Siblings{ver("a:1", "", "x")}},
		{
			"replaces several",
			Siblings{ver("a:1", "", "x"), ver("b:1", "", "y"), ver("c:1", "", "z")},
			ver("b:2", "a:1 b:1", "w"),
			Siblings{ver("b:2", "a:1 b:1", "w"), ver("c:1", "", "z")},
		},
		{
			"same coordinator concurrent",
			Siblings{ver("a:2", "a:1", "p")},
			ver("a:3", "a:1", "q"),
			Siblings{ver("a:2", "a:1", "p"), ver("a:3", "a:1", "q")},
		},
		{
			"sorted by node then counter",
			Siblings{ver("b:1", "", "1"), ver("a:10", "", "2")},
			ver("a:9", "", "3"),
			Siblings{ver("a:9", "", "3"), ver("a:10", "", "2"), ver("b:1", "", "1")},
		},
		{"tombstone hides", Siblings{ver("a:1", "", "x")}, tomb("b:1", "a:1"), Siblings{tomb("b:1", "a:1")}},
		{"value over tombstone", Siblings{tomb("b:1", "a:1")}, ver("a:2", "a:1 b:1", "y"), Siblings{ver("a:2", "a:1 b:1", "y")}},
		{"concurrent with tombstone", Siblings{tomb("b:1", "a:1")}, ver("a:2", "a:1", "y"), Siblings{ver("a:2", "a:1", "y"), tomb("b:1", "a:1")}},
		{
			"obsoleted by v even when v is stale",
			Siblings{ver("a:1", "", "x"), ver("c:1", "b:1", "z")},
			ver("b:1", "a:1", "y"),
			Siblings{ver("c:1", "b:1", "z")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append(Siblings(nil), tt.have...)
			got := tt.have.Add(tt.add)
			if !got.Equal(tt.want) || dots(got) != dots(tt.want) {
				t.Fatalf("Add = %s, want %s", dots(got), dots(tt.want))
			}
			if !Siblings(tt.have).Equal(before) || dots(tt.have) != dots(before) {
				t.Fatal("Add modified its receiver")
			}
			if again := got.Add(tt.add); dots(again) != dots(got) || !again.Equal(got) {
				t.Fatalf("second Add = %s, want %s", dots(again), dots(got))
			}
		})
	}
}

func TestAddSameDotIsDeterministic(t *testing.T) {
	// Only a node that lost its data reuses a dot; replicas must still agree.
	x := Version{Dot: Dot{"a", 1, 5}, Value: []byte("x")}
	y := Version{Dot: Dot{"a", 1, 6}, Value: []byte("y")}
	xy := Siblings{x}.Add(y)
	yx := Siblings{y}.Add(x)
	if !xy.Equal(yx) || len(xy) != 1 {
		t.Fatalf("order dependent: %v vs %v", xy, yx)
	}
	if string(xy[0].Value) != "y" {
		t.Fatalf("kept %q, want the later stamp", xy[0].Value)
	}
}

func TestReconcile(t *testing.T) {
	tests := []struct {
		name string
		sets []Siblings
		want Siblings
	}{
		{"nothing", nil, nil},
		{"empty answers", []Siblings{nil, {}}, nil},
		{"agreeing replicas", []Siblings{{ver("a:1", "", "x")}, {ver("a:1", "", "x")}}, Siblings{ver("a:1", "", "x")}},
		{"one stale replica", []Siblings{{ver("a:1", "", "x")}, {ver("a:2", "a:1", "y")}, nil}, Siblings{ver("a:2", "a:1", "y")}},
		{
			"union of concurrent",
			[]Siblings{{ver("a:1", "", "x")}, {ver("b:1", "", "y"), ver("c:1", "", "z")}},
			Siblings{ver("a:1", "", "x"), ver("b:1", "", "y"), ver("c:1", "", "z")},
		},
		{
			"mixed",
			[]Siblings{{ver("a:2", "a:1", "p"), ver("b:1", "", "q")}, {ver("a:3", "a:1 b:1", "r")}},
			Siblings{ver("a:2", "a:1", "p"), ver("a:3", "a:1 b:1", "r")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Reconcile(tt.sets...)
			if !got.Equal(tt.want) || dots(got) != dots(tt.want) {
				t.Fatalf("Reconcile = %s, want %s", dots(got), dots(tt.want))
			}
			// Answer order must not matter.
			rev := make([]Siblings, len(tt.sets))
			for i, s := range tt.sets {
				rev[len(rev)-1-i] = s
			}
			if back := Reconcile(rev...); dots(back) != dots(got) {
				t.Fatalf("reversed Reconcile = %s, want %s", dots(back), dots(got))
			}
		})
	}
}

func TestSiblingsContextLiveEqual(t *testing.T) {
	s := Siblings{ver("a:2@5", "a:1@1 b:1@1", "p"), tomb("b:2@6", "b:1@1 c:3@2")}
	if got := s.Context(); !got.identical(cl("a:2@5 b:2@6 c:3@2")) {
		t.Fatalf("Context = %#v", got)
	}
	if Siblings(nil).Context() != nil {
		t.Fatal("empty Context not nil")
	}
	if live := s.Live(); len(live) != 1 || live[0].Dot.Node != "a" {
		t.Fatalf("Live = %s", dots(live))
	}
	if !s.Equal(Siblings{s[1], s[0]}) {
		t.Fatal("Equal depends on order")
	}
	changed := Siblings{s[0], s[1]}
	changed[0].Value = []byte("other")
	if s.Equal(changed) || s.Equal(s[:1]) {
		t.Fatal("Equal ignores content")
	}
	if !Siblings(nil).Equal(Siblings{}) {
		t.Fatal("nil and empty differ")
	}
}

// TestConvergence checks that replicas receiving the same versions in any
// order, or reading through Reconcile, end in the same state.
func TestConvergence(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for round := 0; round < 300; round++ {
		var all []Version
		var seen Siblings
		replicas := map[string]Siblings{}
		sources := map[string]*DotSource{}
		for _, n := range nodes[:3] {
			sources[n] = NewDotSource(n)
		}
		type context struct {
			clock Clock
			also  Dots
		}
		var replies []context
		for i := 0; i < 2+r.Intn(8); i++ {
			// A client reads a possibly stale subset, or takes the reply
			// to an earlier write, then writes through a coordinator that
			// holds its own earlier writes, as every coordinator in the
			// cluster does.
			read := Reconcile(sample(r, all))
			ctx := context{read.Context(), nil}
			ctx.also = read.ContextAlso(ctx.clock)
			if len(replies) > 0 && r.Intn(3) == 0 {
				ctx = replies[r.Intn(len(replies))]
			}
			node := nodes[r.Intn(3)]
			v := sources[node].NewVersion(replicas[node], ctx.clock, ctx.also, []byte{byte(i)}, r.Intn(4) == 0, int64(i), 0)
			c, also := ReplyContext(v, replicas[node])
			replies = append(replies, context{c, also})
			for _, n := range nodes[:3] {
				if n == node || r.Intn(2) == 0 {
					replicas[n] = replicas[n].Add(v)
				}
			}
			all = append(all, v)
			seen = seen.Add(v)
		}
		for k := 0; k < 5; k++ {
			var s Siblings
			for _, i := range r.Perm(len(all)) {
				s = s.Add(all[i])
			}
			if !s.Equal(seen) || dots(s) != dots(seen) {
				t.Fatalf("round %d: order changed result: %s vs %s", round, dots(s), dots(seen))
			}
			cut := r.Intn(len(all) + 1)
			if got := Reconcile(all[:cut], all[cut:]); dots(got) != dots(seen) {
				t.Fatalf("round %d: Reconcile %s vs %s", round, dots(got), dots(seen))
			}
		}
		// Nothing written is lost unless a later write's writer saw it.
		for _, v := range all {
			kept := false
			for _, w := range seen {
				kept = kept || w.Dot == v.Dot
			}
			for _, w := range all {
				kept = kept || (w.Dot != v.Dot && w.sees(v.Dot))
			}
			if !kept {
				t.Fatalf("round %d: %v lost", round, v.Dot)
			}
		}
	}
}

func sample(r *rand.Rand, vs []Version) Siblings {
	var out Siblings
	for _, v := range vs {
		if r.Intn(2) == 0 {
			out = append(out, v)
		}
	}
	return out
}
