package version

import (
	"math/rand"
	"testing"
)

func TestCompare(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want Order
	}{
		{"both empty", "", "", Equal},
		{"same", "a:1 b:2", "a:1 b:2", Equal},
		{"stamps ignored", "a:1@5", "a:1@9", Equal},
		{"empty before", "", "a:1", Before},
		{"empty after", "a:1", "", After},
		{"one ahead", "a:2 b:1", "a:1 b:1", After},
		{"one behind", "a:1 b:1", "a:1 b:2", Before},
		{"extra node", "a:1 b:1", "a:1", After},
		{"missing node", "a:1", "a:1 c:1", Before},
		{"crossed", "a:2 b:1", "a:1 b:2", Concurrent},
		{"disjoint", "a:1", "b:1", Concurrent},
		{"zero counter is absent", "a:1 b:0", "a:1", Equal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := cl(tt.a), cl(tt.b)
			if got := a.Compare(b); got != tt.want {
				t.Fatalf("%v.Compare(%v) = %v, want %v", a, b, got, tt.want)
			}
			inverse := map[Order]Order{Equal: Equal, Before: After, After: Before, Concurrent: Concurrent}
			if got := b.Compare(a); got != inverse[tt.want] {
				t.Fatalf("%v.Compare(%v) = %v, want %v", b, a, got, inverse[tt.want])
			}
		})
	}
}

func TestGetContains(t *testing.T) {
	c := cl("a:3 c:1")
	for _, tt := range []struct {
		node string
		want uint64
	}{{"a", 3}, {"b", 0}, {"c", 1}, {"z", 0}, {"", 0}} {
		if got := c.Get(tt.node); got != tt.want {
			t.Errorf("Get(%q) = %d, want %d", tt.node, got, tt.want)
		}
	}
	for _, tt := range []struct {
		dot  string
		want bool
	}{{"a:1", true}, {"a:3", true}, {"a:4", false}, {"b:1", false}, {"c:1", true}} {
		if got := c.Contains(dot(tt.dot)); got != tt.want {
			t.Errorf("Contains(%s) = %v, want %v", tt.dot, got, tt.want)
		}
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name    string
		a, b    string
		want    string
		wantNil bool
	}{
		{name: "empty", wantNil: true},
		{name: "one side", a: "a:1@1", want: "a:1@1"},
		{name: "pointwise max", a: "a:3@3 b:1@1", b: "a:1@9 b:2@2 c:1@4", want: "a:3@3 b:2@2 c:1@4"},
		{name: "equal counters take later stamp", a: "a:2@1", b: "a:2@7", want: "a:2@7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Merge(cl(tt.a), cl(tt.b))
			if tt.wantNil {
				if got != nil {
					t.Fatalf("got %v, want nil", got)
				}
				return
			}
			if !got.identical(cl(tt.want)) {
				t.Fatalf("Merge = %#v, want %#v", got, cl(tt.want))
			}
		})
	}
}

func TestMergeDoesNotAlias(t *testing.T) {
	a, b := cl("a:1 b:1"), cl("b:2")
	m := Merge(a, nil)
	m[0].Counter = 99
	if a[0].Counter != 1 {
		t.Fatal("Merge(a, nil) aliases a")
	}
	m = Merge(a, b)
	m[0].Counter, m[1].Counter = 99, 99
	if a.Get("a") != 1 || b.Get("b") != 2 {
		t.Fatal("Merge(a, b) aliases its inputs")
	}
}

func TestNewClockNormalises(t *testing.T) {
	c := NewClock(Entry{"b", 1, 1}, Entry{"a", 2, 0}, Entry{"b", 3, 0}, Entry{"b", 3, 5})
	if !c.identical(cl("a:2 b:3@5")) {
		t.Fatalf("NewClock = %#v", c)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"under limit", "a:1@1 b:1@2", 3, "a:1@1 b:1@2"},
		{"at limit", "a:1@1 b:1@2", 2, "a:1@1 b:1@2"},
		{"drops oldest", "a:5@3 b:1@1 c:2@2", 2, "a:5@3 c:2@2"},
		{"counter does not matter", "a:9@1 b:1@2", 1, "b:1@2"},
		{"ties keep smaller node", "a:1@1 b:1@1 c:1@1", 2, "a:1@1 b:1@1"},
		{"ties after newest", "d:1@9 c:1@1 b:1@1 a:1@1", 2, "a:1@1 d:1@9"},
		{"zero", "a:1", 0, ""},
		{"keeps z although oldest", "a:1@5 b:1@6 z:3@1", 2, "b:1@6 z:3@1"},
		{"keeps z on ties", "a:1@1 b:1@1 z:1@1", 1, "z:1@1"},
		{"negative", "a:1", -3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := cl(tt.in)
			before := in.Clone()
			got := in.Truncate(tt.max, "z")
			if !got.identical(cl(tt.want)) {
				t.Fatalf("Truncate(%d) = %#v, want %#v", tt.max, got, cl(tt.want))
			}
			if !in.identical(before) {
				t.Fatal("Truncate modified its receiver")
			}
			if len(got) > 0 && len(in) > 0 && &got[0] == &in[0] {
				t.Fatal("Truncate aliases its receiver")
			}
		})
	}
}

func TestOrderString(t *testing.T) {
	for o, s := range map[Order]string{Equal: "Equal", Before: "Before", After: "After", Concurrent: "Concurrent", 9: "Order(9)"} {
		if o.String() != s {
			t.Errorf("%d.String() = %q", int(o), o.String())
		}
	}
}

const propertyRounds = 2000

func TestMergeProperties(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < propertyRounds; i++ {
		a, b, c := randClock(r), randClock(r), randClock(r)
		ab := Merge(a, b)
		sorted(t, ab)
		if !ab.identical(Merge(b, a)) {
			t.Fatalf("not commutative: %#v %#v", a, b)
		}
		if !Merge(ab, c).identical(Merge(a, Merge(b, c))) {
			t.Fatalf("not associative: %#v %#v %#v", a, b, c)
		}
		if !Merge(a, a).identical(a) {
			t.Fatalf("not idempotent: %#v", a)
		}
		if !ab.Descends(a) || !ab.Descends(b) {
			t.Fatalf("Merge(%v, %v) = %v does not descend both", a, b, ab)
		}
		// The merge is the least upper bound: dropping any entry loses it.
		for j := range ab {
			smaller := append(ab[:j:j], ab[j+1:]...)
			if smaller.Descends(a) && smaller.Descends(b) {
				t.Fatalf("Merge(%v, %v) = %v is not minimal", a, b, ab)
			}
		}
	}
}

func TestDescendsProperties(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for i := 0; i < propertyRounds; i++ {
		a, b := randClock(r), randClock(r)
		if !a.Descends(a) || a.Compare(a) != Equal {
			t.Fatalf("not reflexive: %v", a)
		}
		if a.Descends(b) && b.Descends(a) && !sameCounters(a, b) {
			t.Fatalf("not antisymmetric: %v %v", a, b)
		}
		// Random clocks rarely form chains, so build one too.
		hi := Merge(a, b)
		mid := below(r, hi)
		lo := below(r, mid)
		for _, x := range [][3]Clock{{a, b, randClock(r)}, {hi, mid, lo}} {
			if x[0].Descends(x[1]) && x[1].Descends(x[2]) && !x[0].Descends(x[2]) {
				t.Fatalf("not transitive: %v %v %v", x[0], x[1], x[2])
			}
		}
		if !hi.Descends(mid) || !mid.Descends(lo) || !hi.Descends(lo) {
			t.Fatalf("chain broken: %v %v %v", hi, mid, lo)
		}
	}
}

func TestTruncateProperties(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < propertyRounds; i++ {
		c := randClock(r)
		max := r.Intn(len(nodes) + 1)
		keep := nodes[r.Intn(len(nodes))]
		got := c.Truncate(max, keep)
		sorted(t, got)
		if len(got) > max || len(got) != min(len(c), max) {
			t.Fatalf("Truncate(%d) of %d entries gave %d", max, len(c), len(got))
		}
		if !c.Descends(got) {
			t.Fatalf("Truncate invented history: %v -> %v", c, got)
		}
		if max > 0 && c.Get(keep) != 0 && got.Get(keep) != c.Get(keep) {
			t.Fatalf("Truncate(%d, %s) dropped the kept entry: %v -> %v", max, keep, c, got)
		}
		// Every dropped entry is no newer than every kept one but keep's.
		for _, e := range c {
			if got.Get(e.Node) != 0 {
				continue
			}
			for _, k := range got {
				if k.Node != keep && k.Stamp < e.Stamp {
					t.Fatalf("kept %v@%d but dropped %v@%d", k.Node, k.Stamp, e.Node, e.Stamp)
				}
			}
		}
	}
}
