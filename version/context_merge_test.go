package version

import (
	"errors"
	"math/rand"
	"testing"
)

// A merged context covers exactly what either context covers: every
// event of the union, and no event neither had seen.
func TestMergeContextsCoversTheUnion(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	randAlso := func(c Clock) Dots {
		var ds Dots
		for range r.Intn(4) {
			ds = append(ds, Dot{Node: nodes[r.Intn(len(nodes))], Counter: uint64(1 + r.Intn(8))})
		}
		return normalizeAlso(c, ds)
	}
	for i := range 2000 {
		ca, cb := randClock(r), randClock(r)
		aa, ab := randAlso(ca), randAlso(cb)
		a, b := EncodeContext(ca, aa), EncodeContext(cb, ab)
		m, err := MergeContexts(a, b)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		cm, am, err := DecodeContext(m)
		if err != nil {
			t.Fatalf("case %d: the merge does not decode: %v", i, err)
		}
		for _, n := range nodes {
			for k := uint64(1); k <= 9; k++ {
				d := Dot{Node: n, Counter: k}
				want := sees(ca, aa, d) || sees(cb, ab, d)
				// Past MaxAlso the merge may keep fewer single events:
				// covering less is allowed, covering more never.
				got := sees(cm, am, d)
				if got && !want {
					t.Fatalf("case %d: merge of %v+%v and %v+%v covers %v, which neither does", i, ca, aa, cb, ab, d)
				}
				if want && !got && len(aa)+len(ab) <= MaxAlso {
					t.Fatalf("case %d: merge of %v+%v and %v+%v misses %v", i, ca, aa, cb, ab, d)
				}
			}
		}
	}
}

// The use it is for: two writers' replies on one key, merged, make a
// write that replaces both writes; either reply alone keeps the other.
func TestMergedReplyContextsReplaceBothWrites(t *testing.T) {
	base := Siblings{ver("a:1", "", "v0")}
	ctx := base.Context()
	src := NewDotSource("a")
	w1 := src.NewVersion(base, ctx, nil, []byte("w1"), false, 10, 0)
	set := base.Add(w1)
	r1c, r1a := ReplyContext(w1, base)
	w2 := src.NewVersion(set, ctx, nil, []byte("w2"), false, 11, 0)
	r2c, r2a := ReplyContext(w2, set)
	set = set.Add(w2)
	if len(set) != 2 {
		t.Fatalf("two writes with one context: %s, want two siblings", dots(set))
	}
	r1, r2 := EncodeContext(r1c, r1a), EncodeContext(r2c, r2a)
	m, err := MergeContexts(r1, r2)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		ctx  string
		want []string
	}{
		{"first reply", r1, []string{"w2", "w3"}},
		{"second reply", r2, []string{"w1", "w3"}},
		{"merged replies", m, []string{"w3"}},
	} {
		c, also, err := DecodeContext(tt.ctx)
		if err != nil {
			t.Fatal(err)
		}
		w3 := src.NewVersion(set, c, also, []byte("w3"), false, 12, 0)
		got := set.Add(w3)
		var vals []string
		for _, v := range got {
			vals = append(vals, string(v.Value))
		}
		if len(vals) != len(tt.want) {
			t.Fatalf("%s: a write leaves %v, want %v", tt.name, vals, tt.want)
		}
		for i := range vals {
			if vals[i] != tt.want[i] {
				t.Fatalf("%s: a write leaves %v, want %v", tt.name, vals, tt.want)
			}
		}
	}
}

func TestMergeContextsRefusesMalformed(t *testing.T) {
	good := EncodeContext(cl("a:1"), nil)
	for _, tt := range []struct{ a, b string }{
		{"!!", good}, {good, "!!"}, {"!!", ""}, {"", "!!"}, {"!!", "!!"},
	} {
		if _, err := MergeContexts(tt.a, tt.b); !errors.Is(err, ErrInvalidContext) {
			t.Errorf("MergeContexts(%q, %q) = %v, want ErrInvalidContext", tt.a, tt.b, err)
		}
	}
	if m, err := MergeContexts("", ""); m != "" || err != nil {
		t.Errorf(`MergeContexts("", "") = %q, %v`, m, err)
	}
	if m, err := MergeContexts(good, ""); m != good || err != nil {
		t.Errorf("MergeContexts(good, \"\") = %q, %v", m, err)
	}
}

// Two contexts at the entry limit merge into one a server still takes.
func TestMergeContextsStaysWithinLimits(t *testing.T) {
	a := manyEntries(MaxContextEntries)
	b := make(Clock, MaxContextEntries)
	for i := range b {
		b[i] = Entry{Node: "m" + a[i].Node, Counter: 1, Stamp: a[i].Stamp + 1}
	}
	m, err := MergeContexts(EncodeContext(a, nil), EncodeContext(b, nil))
	if err != nil {
		t.Fatal(err)
	}
	if c, _, err := DecodeContext(m); err != nil || len(c) != MaxContextEntries {
		t.Fatalf("merge at the limit: %d entries, %v", len(c), err)
	}
}
