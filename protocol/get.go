package protocol

import (
	"fmt"
	"time"

	"github.com/dynamokv/dynamo/quorum"
	"github.com/dynamokv/dynamo/version"
)

// Status codes of reads, as HTTP's.
const StatusNotFound = 404

// GetSpec is a read this node coordinates.
type GetSpec struct {
	Targets []Target
	R       int           // answers needed, stand-ins counted
	PR      int           // of them from home nodes; 0 for none
	Timeout time.Duration // the request's timer, to word errors
	// ReapBefore, when not zero, lets the read collect the key's
	// tombstones: all N home nodes answered the same tombstones, each
	// stamped before it (unix nanoseconds).
	ReapBefore int64
	N          int // the partition's home nodes
	// Self is this node: when it is a target it is asked first, as its
	// answer crosses no network.
	Self string
	// AskAll asks every target at once instead of R of them first.
	AskAll bool
	// Digests asks the other home nodes for a hash of what they hold
	// when this node is a home target: see Get.Digest.
	Digests bool
}

// Get is the read protocol. R targets are asked first (this node first
// when it is one); another is asked for each that fails, and the rest all
// at once when the actor's hedge timer fires (Hedge) before they answer.
// The client is answered at R answers (and PR of home nodes). When the
// answers agree and hold no tombstone to collect, the read ends there: the
// targets not asked hold, by the quorums' overlap, nothing the answers
// lack that an acknowledged write left. When they disagree, or hold
// tombstones that may be collected, the rest are asked too, so that every
// stale home replica is repaired and the tombstones' collection can see
// all N; the request then stays open until every target asked answered or
// the timer fired. PR > 0 asks every target at once.
type Get struct {
	spec  GetSpec
	read  *quorum.Read
	home  *quorum.Tally
	order []int // target indices in the order they are asked
	// orderBuf holds order when the targets are few, as they are (N).
	orderBuf [5]int
	asked    int // order[:asked] have been asked
	replied  bool
	done     bool
	digests  digests
}

// NewGet checks that the quorums can be met and starts the read. An error
// is answered as is: nothing was asked.
func NewGet(spec GetSpec) (*Get, []Action, error) {
	if spec.R > len(spec.Targets) {
		return nil, nil, fmt.Errorf("only %d replicas are reachable and R=%d", len(spec.Targets), spec.R)
	}
	if homes := countHomes(spec.Targets); spec.PR > homes {
		return nil, nil, fmt.Errorf("strict quorum not reachable: only %d home replicas are up and PR=%d", homes, spec.PR)
	}
	g := &Get{spec: spec}
	var err error
	if g.read, err = quorum.NewRead(nodes(spec.Targets, false), spec.R); err != nil {
		return nil, nil, err
	}
	if spec.PR > 0 {
		if g.home, err = quorum.NewTally(nodes(spec.Targets, true), spec.PR); err != nil {
			return nil, nil, err
		}
	}
	self := -1
	if spec.Self != "" {
		self = index(spec.Targets, spec.Self)
	}
	g.order = g.orderBuf[:0]
	if self >= 0 {
		g.order = append(g.order, self)
	}
	for i := range spec.Targets {
		if i != self {
			g.order = append(g.order, i)
		}
	}
	first := spec.R
	if spec.AskAll || spec.PR > 0 {
		first = len(spec.Targets)
	}
	g.digests.data = -1
	if spec.Digests && self >= 0 && !spec.Targets[self].StandIn() {
		g.digests.data = self
	}
	return g, g.ask(first), nil
}

func countHomes(ts []Target) int {
	n := 0
	for _, t := range ts {
		if !t.StandIn() {
			n++
		}
	}
	return n
}

// ask asks up to n more targets.
func (g *Get) ask(n int) []Action {
	var out []Action
	for ; n > 0 && g.asked < len(g.order); n-- {
		i := g.order[g.asked]
		out = append(out, Read{Target: g.spec.Targets[i], Digest: g.digestOf(i)})
		g.asked++
	}
	return out
}

// Unasked reports whether some targets have not been asked yet: the actor
// then runs a hedge timer, shorter than the request's.
func (g *Get) Unasked() bool { return !g.done && g.asked < len(g.order) }

// Hedge takes the hedge timer: the targets asked are slow to answer, so
// the rest are asked too.
func (g *Get) Hedge() []Action {
	if g.done {
		return nil
	}
	return g.ask(len(g.order))
}

// Answer takes what a target holds.
func (g *Get) Answer(node string, vs version.Siblings) []Action {
	if g.done || !g.isAsked(node) {
		return nil
	}
	all := g.read.Answer(node, vs)
	var home quorum.Verdict
	if g.home != nil {
		home = g.home.Ack(node)
	}
	return g.decide(all, home)
}

// Fail takes a target's failure to answer.
func (g *Get) Fail(node, err string) []Action {
	if g.done {
		return nil
	}
	if !g.isAsked(node) || g.read.Tally().Answered(node) {
		return nil
	}
	// Digests waiting for the failed data are asked again in full.
	again := g.dataFailed(node)
	all := g.read.Fail(node, err)
	var home quorum.Verdict
	if g.home != nil {
		home = g.home.Fail(node, err)
	}
	// Another target takes the failed one's place.
	return append(append(again, g.ask(1)...), g.decide(all, home)...)
}

// isAsked reports whether node is a target asked so far; answers from
// others change nothing.
func (g *Get) isAsked(node string) bool {
	for _, i := range g.order[:g.asked] {
		if g.spec.Targets[i].Node == node {
			return true
		}
	}
	return false
}

// askedAnswered reports whether every target asked so far has answered.
func (g *Get) askedAnswered() bool {
	for _, i := range g.order[:g.asked] {
		if !g.read.Tally().Answered(g.spec.Targets[i].Node) {
			return false
		}
	}
	return true
}

// needsRest reports whether the answers so far call for asking the
// targets not asked: they disagree, so a replica not asked may be stale
// too, or they hold tombstones whose collection needs every home node's
// answer.
func (g *Get) needsRest() bool {
	final, stale := g.read.Repairs()
	if len(stale) > 0 {
		return true
	}
	if g.spec.ReapBefore != 0 {
		for _, v := range final {
			if v.Deleted {
				return true
			}
		}
	}
	return false
}

func (g *Get) decide(all, home quorum.Verdict) []Action {
	var out []Action
	if !g.replied {
		switch {
		case all == quorum.Failed || home == quorum.Failed:
			why := g.read.Tally().FailureError()
			if home == quorum.Failed {
				why = "strict " + g.home.FailureError()
			}
			out = append(out, GetReply{Status: StatusUnavailable, Err: why})
			g.replied = true
		case g.read.Tally().Verdict() == quorum.Reached && (g.home == nil || g.home.Verdict() == quorum.Reached):
			out = append(out, g.result())
			g.replied = true
		}
	}
	if !g.askedAnswered() {
		return out
	}
	if g.asked < len(g.order) && g.replied && g.needsRest() {
		return append(out, g.ask(len(g.order))...)
	}
	if g.replied || g.read.Tally().Complete() {
		out = append(out, g.close()...)
	}
	return out
}

// result reconciles the answers so far; the context covers tombstones too,
// so a not-found answer still lets the client overwrite them.
func (g *Get) result() GetReply {
	res := g.read.Result()
	ctx := res.Context()
	reply := GetReply{Status: StatusOK, Context: ctx, Also: res.ContextAlso(ctx)}
	for _, v := range res.Live() {
		reply.Values = append(reply.Values, v.Value)
	}
	if len(reply.Values) == 0 {
		reply.Status = StatusNotFound
	}
	return reply
}

// Expire takes the request's timer.
func (g *Get) Expire() []Action {
	if g.done {
		return nil
	}
	var out []Action
	if !g.replied {
		why := g.read.Tally().TimeoutError(g.spec.Timeout)
		if g.home != nil && g.read.Tally().Verdict() == quorum.Reached {
			why = fmt.Sprintf("strict quorum not reached: %d of %d home replicas answered within %s",
				g.home.Acks(), g.home.Need(), g.spec.Timeout)
		}
		out = append(out, GetReply{Status: StatusUnavailable, Err: why})
		g.replied = true
	}
	var silent []string
	for _, i := range g.order[:g.asked] {
		if n := g.spec.Targets[i].Node; !g.read.Tally().Answered(n) && !g.digests.answered(n) {
			silent = append(silent, n)
		}
	}
	if len(silent) > 0 {
		out = append(out, Unanswered{Nodes: silent})
	}
	return append(out, g.close()...)
}

// close ends the read: stale home replicas are repaired (stand-ins hold
// hints, which need no repair), and tombstones found alone and old on
// every home node are collected.
func (g *Get) close() []Action {
	g.done = true
	final, stale := g.read.Repairs()
	var out []Action
	for _, id := range stale {
		if i := index(g.spec.Targets, id); i >= 0 && !g.spec.Targets[i].StandIn() {
			out = append(out, Repair{Node: id, Versions: final})
		}
	}
	if len(stale) == 0 && g.spec.ReapBefore != 0 && len(nodes(g.spec.Targets, true)) == g.spec.N && !g.standIns() {
		if tombs := g.read.Reapable(g.spec.ReapBefore); tombs != nil {
			r := Reap{Nodes: nodes(g.spec.Targets, false)}
			for _, v := range tombs {
				r.Dots = append(r.Dots, v.Dot)
			}
			out = append(out, r)
		}
	}
	return append(out, Finish{})
}

func (g *Get) standIns() bool {
	for _, t := range g.spec.Targets {
		if t.StandIn() {
			return true
		}
	}
	return false
}
