package version

import (
	"testing"
)

// replica is the state one storage node keeps for a single key.
type replica struct {
	node string
	sibs Siblings
	dots *DotSource
}

// put is what a coordinating replica does for a client PUT or DELETE.
func (r *replica) put(ctx Clock, value string, deleted bool, now int64) Version {
	if r.dots == nil {
		r.dots = NewDotSource(r.node)
	}
	v := r.dots.NewVersion(r.sibs, ctx, nil, []byte(value), deleted, now, MaxClockEntries)
	r.sibs = r.sibs.Add(v)
	return v
}

func (r *replica) receive(vs ...Version) {
	for _, v := range vs {
		r.sibs = r.sibs.Add(v)
	}
}

func values(s Siblings) []string {
	var out []string
	for _, v := range s.Live() {
		out = append(out, string(v.Value))
	}
	return out
}

func TestScenarioSameCoordinatorConcurrentWrites(t *testing.T) {
	a := &replica{node: "a"}
	a.put(nil, "v0", false, 1)
	ctx := a.sibs.Context() // both clients read v0

	// Alice and Bob both write with the context they read, through the
	// same coordinator. A plain version vector would let Bob's write
	// silently replace Alice's; with dots both survive.
	a.put(ctx, "alice", false, 2)
	a.put(ctx, "bob", false, 3)

	got := values(a.sibs)
	if len(got) != 2 || got[0] != "alice" || got[1] != "bob" {
		t.Fatalf("siblings = %q, want [alice bob]", got)
	}

	// A reader sees both and writes back a resolution with the merged
	// context; that replaces both siblings.
	a.put(a.sibs.Context(), "merged", false, 4)
	if got := values(a.sibs); len(got) != 1 || got[0] != "merged" {
		t.Fatalf("after resolution = %q, want [merged]", got)
	}
}

func TestScenarioStaleReplicaCatchesUp(t *testing.T) {
	a, b, c := &replica{node: "a"}, &replica{node: "b"}, &replica{node: "c"}
	v1 := a.put(nil, "one", false, 1)
	b.receive(v1)
	c.receive(v1) // c then misses the next writes

	v2 := a.put(a.sibs.Context(), "two", false, 2)
	b.receive(v2)
	v3 := b.put(b.sibs.Context(), "three", false, 3)
	a.receive(v3)

	// Read repair or hinted handoff delivers the newer versions to c,
	// which must drop its old value rather than keep it as a sibling.
	c.receive(v3, v2)
	if got := values(c.sibs); len(got) != 1 || got[0] != "three" {
		t.Fatalf("stale replica = %q, want [three]", got)
	}
	if !c.sibs.Equal(a.sibs) || !c.sibs.Equal(b.sibs) {
		t.Fatalf("replicas disagree: %s %s %s", dots(a.sibs), dots(b.sibs), dots(c.sibs))
	}

	// A read coordinator that hears from c before repair gets the same
	// answer from Reconcile.
	if got := Reconcile(Siblings{v1}, a.sibs); !got.Equal(a.sibs) {
		t.Fatalf("Reconcile = %s", dots(got))
	}
}

func TestScenarioDeleteHidesValue(t *testing.T) {
	a, b := &replica{node: "a"}, &replica{node: "b"}
	v1 := a.put(nil, "hello", false, 1)
	b.receive(v1)

	// A delete that saw the value is a tombstone that hides it.
	del := b.put(b.sibs.Context(), "", true, 2)
	a.receive(del)
	for _, r := range []*replica{a, b} {
		if len(r.sibs) != 1 || !r.sibs[0].Deleted || len(r.sibs.Live()) != 0 {
			t.Fatalf("replica %s = %s, want one tombstone", r.node, dots(r.sibs))
		}
	}

	// A write concurrent with the delete (it did not see it) survives...
	conc := a.put(Siblings{v1}.Context(), "again", false, 3)
	if got := values(a.sibs); len(got) != 1 || got[0] != "again" || len(a.sibs) != 2 {
		t.Fatalf("concurrent write = %q (%s)", got, dots(a.sibs))
	}
	// ...and a later write that saw the tombstone replaces it entirely.
	b.receive(conc)
	b.put(b.sibs.Context(), "final", false, 4)
	if got := values(b.sibs); len(got) != 1 || got[0] != "final" || len(b.sibs) != 1 {
		t.Fatalf("after write = %q (%s)", got, dots(b.sibs))
	}
}

func TestScenarioContextSurvivesClient(t *testing.T) {
	a := &replica{node: "a"}
	a.put(nil, "x", false, 1)
	a.put(nil, "y", false, 2) // blind write: a sibling
	token := EncodeContext(a.sibs.Context(), nil)

	// The client holds only the opaque token between GET and PUT.
	ctx, _, err := DecodeContext(token)
	if err != nil {
		t.Fatal(err)
	}
	a.put(ctx, "z", false, 3)
	if got := values(a.sibs); len(got) != 1 || got[0] != "z" {
		t.Fatalf("after put with token = %q", got)
	}
}
