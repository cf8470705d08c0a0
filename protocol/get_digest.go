package protocol

import (
	"slices"

	"github.com/dynamokv/dynamo/version"
)

// Digest reads. When this node is a home target of a read it is asked for
// the versions it holds (the data), and the other home nodes only for a
// hash of theirs (Read.Digest), the hash their Merkle trees hold for the
// key (0 for none). A digest that matches the data's hash counts as the
// data's versions: the replicas agree, and only the hash crossed the
// network. One that does not match is asked again for its versions, as
// are the digests waiting when the data fails: a disagreement costs one
// more round trip, and then reads, reconciles and repairs as before.
// Stand-ins (hint buffers) are always asked for their versions.

type digests struct {
	data    int // the target asked for the data; -1: no digests
	in      bool
	failed  bool
	hash    uint64
	set     version.Siblings
	waiting []digestWait // digests that came before the data
	full    []string     // nodes asked again for their versions
}

type digestWait struct {
	node string
	hash uint64
}

// digestOf reports whether target i is to be asked for a digest.
func (g *Get) digestOf(i int) bool {
	d := &g.digests
	if d.data < 0 || d.failed || i == d.data || g.spec.Targets[i].StandIn() {
		return false
	}
	return !d.askedFull(g.spec.Targets[i].Node)
}

func (d *digests) askedFull(node string) bool { return slices.Contains(d.full, node) }

// answered reports whether node's digest came and waits for the data.
func (d *digests) answered(node string) bool {
	return slices.ContainsFunc(d.waiting, func(w digestWait) bool { return w.node == node })
}

// AnswerHashed takes what a home node's vnode holds with its hash (as a
// digest would give it). The data's answer settles the digests waiting
// for it.
func (g *Get) AnswerHashed(node string, vs version.Siblings, hash uint64) []Action {
	d := &g.digests
	if g.done || !g.isAsked(node) || d.data < 0 || g.spec.Targets[d.data].Node != node || d.in {
		return g.Answer(node, vs)
	}
	d.in, d.hash, d.set = true, hash, vs
	out := g.Answer(node, vs)
	waiting := d.waiting
	d.waiting = nil
	for _, w := range waiting {
		out = append(out, g.Digest(w.node, w.hash)...)
	}
	return out
}

// Digest takes a home node's hash of what it holds, asked by Read.Digest.
func (g *Get) Digest(node string, hash uint64) []Action {
	d := &g.digests
	if g.done || !g.isAsked(node) || d.data < 0 || d.askedFull(node) || g.read.Tally().Answered(node) || d.answered(node) {
		return nil
	}
	switch {
	case d.in && hash == d.hash:
		return g.Answer(node, d.set)
	case !d.in && !d.failed:
		d.waiting = append(d.waiting, digestWait{node: node, hash: hash})
		return nil
	default:
		return []Action{g.askFull(node)}
	}
}

func (g *Get) askFull(node string) Action {
	g.digests.full = append(g.digests.full, node)
	return Read{Target: g.spec.Targets[index(g.spec.Targets, node)]}
}

// dataFailed takes the failure of node: when it is the data's target,
// the digests waiting for it are asked again for their versions, and no
// more digests are asked.
func (g *Get) dataFailed(node string) []Action {
	d := &g.digests
	if d.data < 0 || d.in || d.failed || g.spec.Targets[d.data].Node != node {
		return nil
	}
	d.failed = true
	var out []Action
	for _, w := range d.waiting {
		out = append(out, g.askFull(w.node))
	}
	d.waiting = nil
	return out
}
