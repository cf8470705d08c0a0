// Package version implements Dynamo-style versioning with dotted version
// vectors.
//
// Every write is named by a Dot (the coordinating node and its per-key
// counter) and carries the causal Context the client read. Keeping the dot
// apart from the context is what lets two clients that write through the
// same coordinator with the same stale context both survive as siblings,
// where a plain version vector would let the second silently replace the
// first.
//
// All values here are immutable by convention: functions return fresh
// slices and never modify their arguments, so versions can be shared
// between goroutines owned by callers without copying.
package version

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// MaxClockEntries bounds the number of entries in a version's clock, as in
// the Dynamo paper, so clocks stay small when many coordinators touch a key.
const MaxClockEntries = 10

// Entry is one node's position in a Clock.
type Entry struct {
	Node    string `msgpack:"n"`
	Counter uint64 `msgpack:"c"`
	// Stamp is the unix time in nanoseconds at which this entry was last
	// advanced; truncation drops the entries that went quiet longest ago.
	Stamp int64 `msgpack:"t"`
}

// Clock is a version vector: entries sorted by Node, at most one per node.
// A missing node has counter zero.
type Clock []Entry

// Order is the causal relation between two clocks.
type Order int8

// Causal relations returned by Clock.Compare.
const (
	Equal Order = iota
	Before
	After
	Concurrent
)

func (o Order) String() string {
	switch o {
	case Equal:
		return "Equal"
	case Before:
		return "Before"
	case After:
		return "After"
	case Concurrent:
		return "Concurrent"
	}
	return "Order(" + strconv.Itoa(int(o)) + ")"
}

// NewClock builds a well-formed clock from entries in any order; duplicate
// nodes are combined with the same rule as Merge.
func NewClock(entries ...Entry) Clock {
	if len(entries) == 0 {
		return nil
	}
	c := slices.Clone(entries)
	slices.SortStableFunc(c, byNode)
	out := c[:1]
	for _, e := range c[1:] {
		if last := &out[len(out)-1]; last.Node == e.Node {
			*last = newer(*last, e)
			continue
		}
		out = append(out, e)
	}
	return slices.Clip(out)
}

func byNode(a, b Entry) int { return strings.Compare(a.Node, b.Node) }

// newer picks the entry that wins a merge: the higher counter, and on equal
// counters the later stamp, so Merge stays commutative and associative.
func newer(a, b Entry) Entry {
	if a.Counter != b.Counter {
		if a.Counter > b.Counter {
			return a
		}
		return b
	}
	if b.Stamp > a.Stamp {
		return b
	}
	return a
}

func (c Clock) find(node string) (int, bool) {
	return slices.BinarySearchFunc(c, node, func(e Entry, n string) int {
		return strings.Compare(e.Node, n)
	})
}

// Get returns node's counter, zero when absent.
func (c Clock) Get(node string) uint64 {
	if i, ok := c.find(node); ok {
		return c[i].Counter
	}
	return 0
}

// Contains reports whether the event d is in the causal past c describes.
func (c Clock) Contains(d Dot) bool {
	return c.Get(d.Node) >= d.Counter
}

// Descends reports whether c >= o pointwise, i.e. c has seen everything o
// has. Both clocks are walked once because they share the same order.
func (c Clock) Descends(o Clock) bool {
	i := 0
	for _, e := range o {
		if e.Counter == 0 {
			continue
		}
		for i < len(c) && c[i].Node < e.Node {
			i++
		}
		if i == len(c) || c[i].Node != e.Node || c[i].Counter < e.Counter {
			return false
		}
	}
	return true
}

// Compare returns how c relates to o causally. Stamps play no part.
func (c Clock) Compare(o Clock) Order {
	ge, le := c.Descends(o), o.Descends(c)
	switch {
	case ge && le:
		return Equal
	case ge:
		return After
	case le:
		return Before
	}
	return Concurrent
}

// Clone returns a copy that shares no memory with c.
func (c Clock) Clone() Clock {
	if c == nil {
		return nil
	}
	return slices.Clone(c)
}

// Merge returns the pointwise maximum of a and b in a new slice.
func Merge(a, b Clock) Clock {
	if len(a)+len(b) == 0 {
		return nil
	}
	out := make(Clock, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch strings.Compare(a[i].Node, b[j].Node) {
		case -1:
			out = append(out, a[i])
			i++
		case 1:
			out = append(out, b[j])
			j++
		default:
			out = append(out, newer(a[i], b[j]))
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// with returns c advanced to include e. c must be owned by the caller: it
// is updated in place when e's node is already present.
func (c Clock) with(e Entry) Clock {
	i, ok := c.find(e.Node)
	if ok {
		c[i] = newer(c[i], e)
		return c
	}
	return slices.Insert(c, i, e)
}

// Truncate keeps at most max entries, dropping those with the oldest Stamp;
// equal stamps keep the smaller node name so every replica drops the same
// entries. The entry of node keep, when present, is never dropped: a
// coordinator truncating its own history would make its next write look
// concurrent with its previous one. Dropping history can only create
// spurious siblings, never lose a write, because dots are never reissued
// (see DotSource): a smaller clock covers less, never more.
func (c Clock) Truncate(max int, keep string) Clock {
	if max < 0 {
		max = 0
	}
	if len(c) <= max {
		return c.Clone()
	}
	if max == 0 {
		return nil
	}
	out := slices.Clone(c)
	slices.SortFunc(out, func(a, b Entry) int {
		if (a.Node == keep) != (b.Node == keep) {
			if a.Node == keep {
				return -1
			}
			return 1
		}
		if a.Stamp != b.Stamp {
			return cmp.Compare(b.Stamp, a.Stamp)
		}
		return strings.Compare(a.Node, b.Node)
	})
	out = slices.Clip(out[:max])
	slices.SortFunc(out, byNode)
	return out
}

// String renders the counters, e.g. "{a:2 b:1}", for messages and tests.
func (c Clock) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range c {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.Node)
		b.WriteByte(':')
		b.WriteString(strconv.FormatUint(e.Counter, 10))
	}
	b.WriteByte('}')
	return b.String()
}

// identical reports whether a and b have the same entries, stamps included.
func (c Clock) identical(o Clock) bool {
	return slices.Equal(c, o)
}

// compareClocks is an arbitrary but fixed total order, used only to break
// ties deterministically.
func compareClocks(a, b Clock) int {
	return slices.CompareFunc(a, b, func(x, y Entry) int {
		if c := strings.Compare(x.Node, y.Node); c != 0 {
			return c
		}
		if c := cmp.Compare(x.Counter, y.Counter); c != 0 {
			return c
		}
		return cmp.Compare(x.Stamp, y.Stamp)
	})
}

// Dot names a single write event: the n-th write coordinated by Node.
type Dot struct {
	Node    string `msgpack:"n"`
	Counter uint64 `msgpack:"c"`
	Stamp   int64  `msgpack:"t"`
}

// IsZero reports whether d names no event.
func (d Dot) IsZero() bool { return d.Node == "" && d.Counter == 0 }

func (d Dot) String() string {
	return d.Node + ":" + strconv.FormatUint(d.Counter, 10)
}

func (d Dot) entry() Entry {
	return Entry(d)
}

// sameEvent compares event identity. The stamp is excluded: it is payload
// of the event, not part of its name.
func (d Dot) sameEvent(o Dot) bool {
	return d.Node == o.Node && d.Counter == o.Counter
}
