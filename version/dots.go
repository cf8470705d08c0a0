package version

import (
	"slices"
	"sync/atomic"
)

// DotSource names the writes one node process coordinates. Its name is
// fixed for the life of the process and must be new at every start (the
// member ID and a random incarnation): a node restarted on a store rolled
// back to an earlier copy (power loss without fsync, a restored backup, a
// VM snapshot) no longer knows every dot it issued, and a reissued dot
// looks to the other replicas like a write they already hold, so they
// would keep one of the two and drop the other. Within one process the
// counter only grows, whatever the key's stored history says, so no dot
// is ever issued twice, also for a key whose history was truncated or
// lost locally.
//
// A DotSource is safe for concurrent use; one serves every vnode of a node.
type DotSource struct {
	node string
	last atomic.Uint64
}

// NewDotSource returns a source of dots named node.
func NewDotSource(node string) *DotSource { return &DotSource{node: node} }

// Node returns the name the source's dots carry.
func (s *DotSource) Node() string { return s.node }

// Next returns a new dot: its counter exceeds every counter s issued and
// every counter of s's name in local (the key's stored siblings) or ctx
// (the client's context). Clocks then keep growing per key even if a
// client's context names this incarnation with a counter s never issued.
func (s *DotSource) Next(local Siblings, ctx Clock, now int64) Dot {
	return s.next(local, ctx, nil, now)
}

func (s *DotSource) next(local Siblings, ctx Clock, also Dots, now int64) Dot {
	floor := max(maxCounter(s.node, local, ctx), also.maxOf(s.node))
	for {
		last := s.last.Load()
		next := max(last, floor) + 1
		if s.last.CompareAndSwap(last, next) {
			return Dot{Node: s.node, Counter: next, Stamp: now}
		}
	}
}

// maxCounter is the highest counter of node that local or ctx knows.
func maxCounter(node string, local Siblings, ctx Clock) uint64 {
	m := ctx.Get(node)
	for _, v := range local {
		if v.Dot.Node == node && v.Dot.Counter > m {
			m = v.Dot.Counter
		}
		m = max(m, v.Context.Get(node), v.Also.maxOf(node))
	}
	return m
}

// NewVersion builds the version a coordinating node stores for a PUT or
// DELETE with context ctx (and the single events also beyond it, see
// Dots) over local, the key's stored siblings. The
// context's stamps come from outside, so they are not trusted: an entry
// the local siblings know takes their stamp, any other is clamped to now
// (a stamp in the future would keep an entry from ever being truncated).
// The context is then truncated to maxEntries-1 entries, never dropping
// this node's own, so the version's Clock has at most maxEntries;
// maxEntries <= 0 means MaxClockEntries. value is retained, not copied;
// tombstones carry none.
func (s *DotSource) NewVersion(local Siblings, ctx Clock, also Dots, value []byte, deleted bool, now int64, maxEntries int) Version {
	if maxEntries <= 0 {
		maxEntries = MaxClockEntries
	}
	if deleted {
		value = nil
	}
	c := trustedStamps(ctx, local, now).Truncate(maxEntries-1, s.node)
	return Version{
		Dot:     s.next(local, ctx, also, now),
		Context: c,
		Value:   value,
		Deleted: deleted,
		Also:    normalizeAlso(c, also),
	}
}

// trustedStamps returns ctx with each stamp replaced by what local knows of
// the same entry, or clamped to now.
func trustedStamps(ctx Clock, local Siblings, now int64) Clock {
	if len(ctx) == 0 {
		return nil
	}
	out := ctx.Clone()
	for i := range out {
		e := &out[i]
		if st, ok := localStamp(local, e.Node, e.Counter); ok {
			e.Stamp = st
		} else if e.Stamp > now {
			e.Stamp = now
		}
	}
	return out
}

// localStamp finds the stamp local's versions record for counter c of node.
func localStamp(local Siblings, node string, c uint64) (int64, bool) {
	for _, v := range local {
		if v.Dot.Node == node && v.Dot.Counter == c {
			return v.Dot.Stamp, true
		}
		if i, ok := v.Context.find(node); ok && v.Context[i].Counter == c {
			return v.Context[i].Stamp, true
		}
	}
	return 0, false
}

// ReplyContext is the context the writer of v gets back, v having been
// written over before (the key's siblings as the coordinating vnode held
// them): a clock and the single events beyond it (see Dots). A clock
// covering v's dot covers every earlier dot of v's node too, so it is v's
// whole clock only when before holds no version of v's node that the
// writer did not see. Otherwise it is the writer's context, with v's dot
// named alone: the writer's next write replaces v, as a read-modify-write
// loop expects, and keeps the versions it never saw as siblings rather
// than discarding them. before must hold every live version the source
// issued for the key, which is true of the vnode that stores them as long
// as it has not lost its copy of the key.
func ReplyContext(v Version, before Siblings) (Clock, Dots) {
	seen := v.Context.Get(v.Dot.Node)
	for _, b := range before {
		if b.Dot.Node == v.Dot.Node && b.Dot.Counter > seen && !b.Dot.sameEvent(v.Dot) && !v.sees(b.Dot) {
			return OwnReplyContext(v)
		}
	}
	c := v.Clock()
	return c, normalizeAlso(c, v.Also)
}

// OwnReplyContext is the reply context that covers v and the writer's own
// context alone, whatever else the key holds: v's dot is named by itself,
// not by the clock. A node that cannot vouch for the key's other versions
// (a stand-in's hint buffer, a vnode that lost its copy) answers with it.
func OwnReplyContext(v Version) (Clock, Dots) {
	return v.Context.Clone(), normalizeAlso(v.Context, append(slices.Clone(v.Also), v.Dot))
}
