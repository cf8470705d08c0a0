package merkle

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

type item struct{ key, set string }

func build(t *testing.T, items []item) *Tree {
	t.Helper()
	tr, err := New(Shape{Fanout: 4, Depth: 3}, 6)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		tr.Update(tr.Segment([]byte(it.key)), ItemHash([]byte(it.key), []byte(it.set)))
	}
	return tr
}

// diff runs the level-by-level comparison between two trees and returns
// the differing segments, as an exchange would find them.
func diff(a, b *Tree) []int {
	if a.Root() == b.Root() {
		return nil
	}
	nodes := []int{0}
	for l := 0; l < a.shape.Depth && len(nodes) > 0; l++ {
		nodes = Differing(a.shape, nodes, FoldAll(a.Children(l, nodes)), FoldAll(b.Children(l, nodes)))
	}
	return nodes
}

func randomItems(r *rand.Rand, n int) []item {
	out := make([]item, n)
	for i := range out {
		out[i] = item{key: fmt.Sprintf("k%d-%d", i, r.IntN(1000)), set: fmt.Sprintf("set%d", r.IntN(50))}
	}
	return out
}

// Equal contents give equal trees whatever the order of the writes.
func TestEqualContentsEqualRoots(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		items := randomItems(r, 1+r.IntN(200))
		a := build(t, items)
		shuffled := slices.Clone(items)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		b := build(t, shuffled)
		if a.Root() != b.Root() || len(diff(a, b)) != 0 {
			t.Fatalf("round %d: roots %x and %x for the same items", round, a.Root(), b.Root())
		}
	}
}

// Any one differing key (another set, missing, extra) changes the root,
// and the exchange finds its segment.
func TestOneDifferenceIsFound(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 300; round++ {
		items := randomItems(r, 1+r.IntN(200))
		a := build(t, items)
		other := slices.Clone(items)
		i := r.IntN(len(other))
		changed := other[i].key
		switch r.IntN(3) {
		case 0:
			other[i].set += "-newer"
		case 1:
			other = slices.Delete(other, i, i+1)
		default:
			changed = fmt.Sprintf("extra-%d", round)
			other = append(other, item{key: changed, set: "x"})
		}
		b := build(t, other)
		if a.Root() == b.Root() {
			t.Fatalf("round %d: a differing key left the root unchanged", round)
		}
		segs := diff(a, b)
		if want := a.Segment([]byte(changed)); !slices.Equal(segs, []int{want}) {
			t.Fatalf("round %d: differing segments %v, want [%d]", round, segs, want)
		}
	}
}

// An update is hash(old) ^ hash(new): writing a key and writing it back
// returns the tree to where it was; removing every key empties it.
func TestUpdatesUndo(t *testing.T) {
	tr := build(t, nil)
	k := []byte("key")
	v1, v2 := ItemHash(k, []byte("v1")), ItemHash(k, []byte("v2"))
	seg := tr.Segment(k)
	tr.Update(seg, v1)
	before := tr.Root()
	tr.Update(seg, v1^v2)
	if tr.Root() == before {
		t.Fatal("overwrite left the root unchanged")
	}
	tr.Update(seg, v2^v1)
	if tr.Root() != before {
		t.Fatal("writing back did not restore the root")
	}
	tr.Update(seg, v1)
	if tr.Root() != 0 {
		t.Fatalf("root %x after removing the only key", tr.Root())
	}
	if ItemHash(k, nil) != 0 {
		t.Fatal("a key holding nothing contributes")
	}
}

func TestShapeAndSegments(t *testing.T) {
	if _, err := New(Shape{Fanout: 1, Depth: 3}, 6); err == nil {
		t.Fatal("fanout 1 accepted")
	}
	tr, err := New(DefaultShape, 6)
	if err != nil {
		t.Fatal(err)
	}
	if DefaultShape.Segments() != 32768 || DefaultShape.Width(2) != 1024 {
		t.Fatalf("default shape %d segments", DefaultShape.Segments())
	}
	seen := map[int]bool{}
	for i := 0; i < 100000; i++ {
		s := tr.Segment([]byte(fmt.Sprint(i)))
		if s < 0 || s >= DefaultShape.Segments() {
			t.Fatalf("segment %d out of range", s)
		}
		seen[s] = true
	}
	if len(seen) < DefaultShape.Segments()*9/10 {
		t.Fatalf("100000 keys fell in %d of %d segments", len(seen), DefaultShape.Segments())
	}
}

func BenchmarkUpdate(b *testing.B) {
	tr, _ := New(DefaultShape, 6)
	key, set := []byte("key-000000000001"), make([]byte, 160)
	b.ReportAllocs()
	for b.Loop() {
		tr.Update(tr.Segment(key), ItemHash(key, set)^ItemHash(key, set[:150]))
	}
}
