package version

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/dynamokv/dynamo/internal/mpbuf"
)

// Dots names single events beyond a clock: the "also seen" of a context.
//
// A clock that covers a node's counter k covers every earlier counter of
// that node too. So when a key holds versions of the coordinating node
// that a writer did not see, the reply to its put cannot cover the new
// version with its clock without covering those as well, and its next
// write would silently discard them. The reply names the new version
// alone instead: its clock is the writer's context, and Dots holds the
// new version's dot. The writer's next write then replaces its own
// previous one and keeps the others as siblings, as it must. Without
// this, a writer that writes a contended key with its put's reply
// contexts keeps each of its own writes as a sibling until a read.
//
// Dots are kept sorted by node and counter, without repeats and without
// stamps (an event is named by node and counter), at most MaxAlso of
// them. Dropping one only keeps one sibling more; it never drops a write.
type Dots []Dot

// MaxAlso bounds the dots a context names beyond its clock; a context
// that would name more keeps the newest.
const MaxAlso = 8

// sees reports whether the causal past of clock c and dots also holds d.
func sees(c Clock, also Dots, d Dot) bool {
	if c.Contains(d) {
		return true
	}
	for _, a := range also {
		if a.sameEvent(d) {
			return true
		}
	}
	return false
}

// normalizeAlso returns the dots of also that c does not cover, in
// canonical order, without stamps, the newest MaxAlso when there are
// more. It does not modify also.
func normalizeAlso(c Clock, also Dots) Dots {
	var out Dots
	for _, d := range also {
		if d.Node == "" || d.Counter == 0 || c.Contains(d) {
			continue
		}
		out = append(out, Dot{Node: d.Node, Counter: d.Counter})
	}
	if len(out) == 0 {
		return nil
	}
	slices.SortFunc(out, byNodeCounter)
	out = slices.CompactFunc(out, Dot.sameEvent)
	if len(out) > MaxAlso {
		slices.SortFunc(out, func(a, b Dot) int { return cmp.Compare(b.Counter, a.Counter) })
		out = out[:MaxAlso]
		slices.SortFunc(out, byNodeCounter)
	}
	return slices.Clip(out)
}

func byNodeCounter(a, b Dot) int {
	if c := strings.Compare(a.Node, b.Node); c != 0 {
		return c
	}
	return cmp.Compare(a.Counter, b.Counter)
}

// maxOf is the highest counter of node among ds; 0 for none.
func (ds Dots) maxOf(node string) uint64 {
	var m uint64
	for _, d := range ds {
		if d.Node == node {
			m = max(m, d.Counter)
		}
	}
	return m
}

// Validate checks dots that came from outside (a client's context): at
// most MaxAlso, each naming a node and a counter in 1..MaxCounter, in
// canonical order without repeats.
func (ds Dots) Validate() error {
	if len(ds) > MaxAlso {
		return fmt.Errorf("%d single events beyond the clock > %d", len(ds), MaxAlso)
	}
	for i, d := range ds {
		if err := checkEvent("event", d.Node, d.Counter); err != nil {
			return err
		}
		if i > 0 && byNodeCounter(ds[i-1], d) >= 0 {
			return fmt.Errorf("event %s after %s: %w", d, ds[i-1], ErrClockUnsorted)
		}
	}
	return nil
}

// AppendMsgpack appends the dots' encoding to dst: an array of triples,
// nil as nil.
func (ds Dots) AppendMsgpack(dst []byte) []byte {
	if ds == nil {
		return mpbuf.AppendNil(dst)
	}
	dst = mpbuf.AppendArrayLen(dst, len(ds))
	for _, d := range ds {
		dst = appendTriple(dst, d.Node, d.Counter, d.Stamp)
	}
	return dst
}

// DecodeFrom reads dots from r; their order is checked by Validate where
// they come from outside.
func (ds *Dots) DecodeFrom(r *mpbuf.Reader) error {
	n, err := r.ArrayLen()
	if err != nil {
		return err
	}
	if n < 0 {
		*ds = nil
		return nil
	}
	out := make(Dots, 0, min(n, maxPrealloc))
	for i := 0; i < n; i++ {
		node, counter, stamp, err := readTriple(r)
		if err != nil {
			return err
		}
		out = append(out, Dot{Node: node, Counter: counter, Stamp: stamp})
	}
	*ds = out
	return nil
}
