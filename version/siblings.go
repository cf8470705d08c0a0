package version

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
)

// Version is one sibling of a key: the write event Dot, the causal past
// Context the client supplied with it, and the value. Deleted versions are
// tombstones; they take part in causality exactly like values so a delete
// can hide the writes it saw and nothing else.
type Version struct {
	Dot     Dot    `msgpack:"d"`
	Context Clock  `msgpack:"c"`
	Value   []byte `msgpack:"v"`
	Deleted bool   `msgpack:"x"`
	// Also names events beyond Context the writer had seen (see Dots).
	Also Dots `msgpack:"a,omitempty"`
}

// Clock returns Context advanced by the version's own dot: everything this
// version has seen, including itself.
func (v Version) Clock() Clock {
	c := make(Clock, len(v.Context), len(v.Context)+1)
	copy(c, v.Context)
	return c.with(v.Dot.entry())
}

// ObsoletedBy reports whether w makes v redundant: w's writer had seen v,
// or w is the very same event.
func (v Version) ObsoletedBy(w Version) bool {
	return w.sees(v.Dot) || w.Dot.sameEvent(v.Dot)
}

// sees reports whether d is in the causal past of v's writer.
func (v Version) sees(d Dot) bool { return sees(v.Context, v.Also, d) }

// identical reports whether a and b carry exactly the same data.
func identical(a, b Version) bool {
	return a.Dot == b.Dot && a.Deleted == b.Deleted &&
		bytes.Equal(a.Value, b.Value) && a.Context.identical(b.Context) && slices.Equal(a.Also, b.Also)
}

// compareVersions is a total order over version content. Dots are never
// reissued (see DotSource), so two versions sharing a dot are one write;
// should a damaged store or a crafted message still bring two that
// differ, a fixed order keeps every replica converging on the same one.
func compareVersions(a, b Version) int {
	if c := cmp.Compare(a.Dot.Stamp, b.Dot.Stamp); c != 0 {
		return c
	}
	if a.Deleted != b.Deleted {
		if a.Deleted {
			return 1
		}
		return -1
	}
	if c := bytes.Compare(a.Value, b.Value); c != 0 {
		return c
	}
	if c := compareClocks(a.Context, b.Context); c != 0 {
		return c
	}
	return slices.CompareFunc(a.Also, b.Also, byNodeCounter)
}

// byDot is the canonical sibling order; among equal dots the preferred
// version sorts first.
func byDot(a, b Version) int {
	if c := strings.Compare(a.Dot.Node, b.Dot.Node); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Dot.Counter, b.Dot.Counter); c != 0 {
		return c
	}
	return compareVersions(b, a)
}

// Siblings is the set of concurrent versions stored for a key, kept in
// canonical order by Dot.Node then Dot.Counter.
type Siblings []Version

// Add applies the replica rule for an incoming version: existing versions
// obsoleted by v are dropped, and v itself is dropped when an existing
// version already covers it. Adding a version twice changes nothing.
func (s Siblings) Add(v Version) Siblings {
	all := make(Siblings, len(s), len(s)+1)
	copy(all, s)
	return prune(append(all, v))
}

// Reconcile merges the answers of several replicas into one set: the union
// with every obsoleted version removed. The result does not depend on the
// order of the sets or of the versions within them.
func Reconcile(sets ...Siblings) Siblings {
	n := 0
	for _, s := range sets {
		n += len(s)
	}
	if n == 0 {
		return nil
	}
	all := make(Siblings, 0, n)
	for _, s := range sets {
		all = append(all, s...)
	}
	return prune(all)
}

// prune sorts vs in place and keeps the versions no other member
// obsoletes. Judging against the whole union rather than pairwise in
// arrival order is what makes Add and Reconcile order-independent.
func prune(vs Siblings) Siblings {
	slices.SortFunc(vs, byDot)
	n := 0
	for i := range vs {
		if n > 0 && vs[n-1].Dot.sameEvent(vs[i].Dot) {
			continue
		}
		vs[n] = vs[i]
		n++
	}
	vs = vs[:n]

	// Sibling sets are tiny; avoid a heap allocation in the common case.
	var small [16]bool
	var dead []bool
	if n <= len(small) {
		dead = small[:n]
	} else {
		dead = make([]bool, n)
	}
	for i := range vs {
		for j := range vs {
			if i != j && vs[j].sees(vs[i].Dot) {
				dead[i] = true
				break
			}
		}
	}
	out := vs[:0]
	for i, v := range vs {
		if !dead[i] {
			out = append(out, v)
		}
	}
	// Clear the tail so dropped values can be collected.
	clear(vs[len(out):])
	if len(out) == 0 {
		return nil
	}
	return slices.Clip(out)
}

// Context is the merge of every sibling's clock. A GET returns it, and a
// PUT that supplies it replaces all of these siblings.
func (s Siblings) Context() Clock {
	var c Clock
	for _, v := range s {
		c = Merge(c, v.Context).with(v.Dot.entry())
	}
	return c
}

// ContextAlso is what a GET returns beside Context (the siblings'
// clocks merged, c): the single events the siblings' writers had seen
// that c does not cover.
func (s Siblings) ContextAlso(c Clock) Dots {
	var all Dots
	for _, v := range s {
		all = append(all, v.Also...)
	}
	return normalizeAlso(c, all)
}

// Live returns the siblings that are not tombstones.
func (s Siblings) Live() Siblings {
	var out Siblings
	for _, v := range s {
		if !v.Deleted {
			out = append(out, v)
		}
	}
	return out
}

// Equal reports whether s and o hold the same versions, in any order.
func (s Siblings) Equal(o Siblings) bool {
	if len(s) != len(o) {
		return false
	}
	a, b := s, o
	// Sets are kept in canonical order, so only a set built by hand needs
	// a sorted copy: every read compares its answers, and most are one
	// version each.
	if !slices.IsSortedFunc(a, byDot) {
		a = slices.Clone(s)
		slices.SortFunc(a, byDot)
	}
	if !slices.IsSortedFunc(b, byDot) {
		b = slices.Clone(o)
		slices.SortFunc(b, byDot)
	}
	for i := range a {
		if !identical(a[i], b[i]) {
			return false
		}
	}
	return true
}
