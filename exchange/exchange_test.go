package exchange

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dynamokv/dynamo/merkle"
	"github.com/dynamokv/dynamo/version"
)

// replica is a vnode as the exchange sees it: its sets and its tree.
type replica struct {
	sets map[string]version.Siblings
	tree *merkle.Tree
}

var shape = merkle.DefaultShape

func newReplica(t testing.TB) *replica {
	tr, err := merkle.New(shape, 4)
	if err != nil {
		t.Fatal(err)
	}
	return &replica{sets: map[string]version.Siblings{}, tree: tr}
}

func (r *replica) itemHash(k string, s version.Siblings) uint64 {
	if len(s) == 0 {
		return 0
	}
	raw, _ := s.MarshalBinary()
	return merkle.ItemHash([]byte(k), raw)
}

func (r *replica) put(k string, vs version.Siblings) {
	old := r.sets[k]
	next := old
	for _, v := range vs {
		next = next.Add(v)
	}
	r.tree.Update(r.tree.Segment([]byte(k)), r.itemHash(k, old)^r.itemHash(k, next))
	r.sets[k] = next
}

func (r *replica) sortedKeys() []string {
	var ks []string
	for k := range r.sets {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// run drives an exchange between two replicas to its end, as the syncer
// does, and counts the messages and the bytes of sets and hashes sent.
func run(t testing.TB, local, remote *replica, lim Limits) (Result, int, int) {
	t.Helper()
	sides := [2]*replica{local, remote}
	e, queue := New(lim)
	messages, bytesSent := 0, 0
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 1_000_000 {
			t.Fatal("exchange does not end")
		}
		a := queue[0]
		queue = queue[1:]
		messages++
		switch a := a.(type) {
		case AskTree:
			r := sides[a.Side]
			var hs []uint32
			if a.Level == 0 && len(a.Nodes) == 0 {
				hs = []uint32{merkle.Fold(r.tree.Root())}
			} else {
				hs = merkle.FoldAll(r.tree.Children(a.Level, a.Nodes))
			}
			bytesSent += 4 * len(hs)
			queue = append(queue, e.Tree(a.Side, shape, hs)...)
		case AskSegments:
			r := sides[a.Side]
			want := map[int]bool{}
			for _, s := range a.Segments {
				want[s] = true
			}
			var keys [][]byte
			var hashes []uint64
			var next []byte
			scanned := 0
			for _, k := range r.sortedKeys() {
				if a.After != nil && k <= string(a.After) {
					continue
				}
				scanned++
				if want[r.tree.Segment([]byte(k))] {
					keys = append(keys, []byte(k))
					hashes = append(hashes, r.itemHash(k, r.sets[k]))
				}
				if scanned == a.Limit { // as the store's Scan: the last key, to go on from
					next = []byte(k)
					break
				}
			}
			for _, k := range keys {
				bytesSent += len(k) + 8
			}
			queue = append(queue, e.Segments(a.Side, keys, hashes, next)...)
		case AskSets:
			var sets []version.Siblings
			for _, k := range a.Keys {
				s := sides[a.Side].sets[string(k)]
				raw, _ := s.MarshalBinary()
				bytesSent += len(k) + len(raw)
				sets = append(sets, s)
			}
			queue = append(queue, e.Sets(a.Side, sets)...)
		case PutSets:
			for i, k := range a.Keys {
				raw, _ := a.Sets[i].MarshalBinary()
				bytesSent += len(k) + len(raw)
				sides[a.Side].put(string(k), a.Sets[i])
			}
			queue = append(queue, e.Put(a.Side, "")...)
		case Done:
			return a.Result, messages, bytesSent
		}
	}
	t.Fatal("exchange ended without Done")
	return Result{}, 0, 0
}

func ver(node string, c uint64, val string) version.Version {
	return version.Version{Dot: version.Dot{Node: node, Counter: c, Stamp: int64(c)}, Value: []byte(val)}
}

var value100 = string(make([]byte, 100))

func fill(r *replica, n int) {
	for i := 0; i < n; i++ {
		r.put(fmt.Sprintf("key-%06d", i), version.Siblings{ver("a", uint64(i+1), value100)})
	}
}

func sameContents(t *testing.T, a, b *replica) {
	t.Helper()
	if a.tree.Root() != b.tree.Root() {
		t.Fatalf("roots differ: %x %x", a.tree.Root(), b.tree.Root())
	}
	if len(a.sets) != len(b.sets) {
		t.Fatalf("%d keys against %d", len(a.sets), len(b.sets))
	}
	for k, s := range a.sets {
		if !s.Equal(b.sets[k]) {
			t.Fatalf("key %s: %v against %v", k, s, b.sets[k])
		}
	}
}

func TestInSyncIsTwoRoots(t *testing.T) {
	a, b := newReplica(t), newReplica(t)
	fill(a, 500)
	fill(b, 500)
	res, msgs, _ := run(t, a, b, Limits{})
	if !res.InSync || msgs != 3 { // two roots and Done
		t.Fatalf("result %+v after %d messages; want in sync after the roots", res, msgs)
	}
}

// Each kind of divergence is repaired both ways, and nothing concurrent is
// dropped: a key written on both sides ends with both versions.
func TestDivergenceRepaired(t *testing.T) {
	a, b := newReplica(t), newReplica(t)
	fill(a, 300)
	fill(b, 300)
	a.put("only-local", version.Siblings{ver("a", 1000, "l")})
	b.put("only-remote", version.Siblings{ver("b", 1, "r")})
	a.put("key-000007", version.Siblings{ver("a", 1001, "newer")}) // concurrent with b's below
	b.put("key-000007", version.Siblings{ver("b", 2, "other")})
	b.put("key-000009", version.Siblings{{Dot: version.Dot{Node: "b", Counter: 3}, Context: version.Clock{{Node: "a", Counter: 10}}, Deleted: true}})
	res, _, _ := run(t, a, b, Limits{MaxNodes: 3, MaxScan: 50, MaxKeys: 2})
	if res.Err != "" || res.InSync || res.Keys != 4 {
		t.Fatalf("result %+v; want 4 differing keys", res)
	}
	sameContents(t, a, b)
	if got := a.sets["key-000007"]; len(got) != 3 { // the old a:8 and the two concurrent ones
		t.Fatalf("key-000007 holds %v", got)
	}
	if got := a.sets["key-000009"]; len(got) != 1 || !got[0].Deleted {
		t.Fatalf("the tombstone did not win: %v", got)
	}
}

// d differing keys among n: after one exchange the replicas agree, and
// for a few differences far less travels than the whole partition.
func TestDifferencesAmongMany(t *testing.T) {
	const n = 100000
	for _, d := range []int{1, 100, 10000} {
		t.Run(fmt.Sprint(d), func(t *testing.T) {
			a, b := newReplica(t), newReplica(t)
			fill(a, n)
			fill(b, n)
			r := rand.New(rand.NewPCG(uint64(d), 7))
			for _, i := range r.Perm(n)[:d] {
				a.put(fmt.Sprintf("key-%06d", i), version.Siblings{ver("z", uint64(i+1), value100)})
			}
			res, msgs, sent := run(t, a, b, Limits{MaxScan: 5000, MaxKeys: 128})
			if res.Keys != d || res.RepairedRem != d || res.RepairedLoc != 0 {
				t.Fatalf("result %+v; want %d keys repaired on the remote side", res, d)
			}
			sameContents(t, a, b)
			whole := 0
			for k, s := range a.sets {
				raw, _ := s.MarshalBinary()
				whole += len(k) + len(raw)
			}
			t.Logf("d=%d: %d messages, %d bytes; the whole partition is %d bytes (%.2f%%)", d, msgs, sent, whole, 100*float64(sent)/float64(whole))
			if d == 100 && sent*100 >= whole {
				t.Fatalf("d=100 sent %d bytes, not under 1%% of %d", sent, whole)
			}
		})
	}
}

func TestFailuresEndTheExchange(t *testing.T) {
	e, _ := New(Limits{})
	e.Tree(Local, shape, []uint32{1})
	out := e.Tree(Remote, merkle.Shape{Fanout: 4, Depth: 2}, []uint32{2})
	if d, ok := out[0].(Done); !ok || d.Result.Err == "" {
		t.Fatalf("shapes differ: %v", out)
	}
	e, _ = New(Limits{})
	if d := e.Expire()[0].(Done); d.Result.Err != "a replica stopped answering" {
		t.Fatalf("expire: %+v", d)
	}
	if len(e.Expire()) != 0 {
		t.Fatal("a second end")
	}
}
