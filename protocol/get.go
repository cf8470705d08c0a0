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
}

// Get is the read protocol: every target is asked; the client is answered
// at R answers (and PR of home nodes), but the request stays open until
// every target answered or the timer fired, so that the slower answers are
// compared too and the stale home replicas repaired.
type Get struct {
	spec    GetSpec
	read    *quorum.Read
	home    *quorum.Tally
	replied bool
	done    bool
}

// NewGet checks that the quorums can be met and starts the read. An error
// is answered as is: nothing was asked.
func NewGet(spec GetSpec) (*Get, []Action, error) {
	if spec.R > len(spec.Targets) {
		return nil, nil, fmt.Errorf("only %d replicas are reachable and R=%d", len(spec.Targets), spec.R)
	}
	homes := nodes(spec.Targets, true)
	if spec.PR > len(homes) {
		return nil, nil, fmt.Errorf("strict quorum not reachable: only %d home replicas are up and PR=%d", len(homes), spec.PR)
	}
	g := &Get{spec: spec}
	var err error
	if g.read, err = quorum.NewRead(nodes(spec.Targets, false), spec.R); err != nil {
		return nil, nil, err
	}
	if spec.PR > 0 {
		if g.home, err = quorum.NewTally(homes, spec.PR); err != nil {
			return nil, nil, err
		}
	}
	out := make([]Action, 0, len(spec.Targets))
	for _, t := range spec.Targets {
		out = append(out, Read{Target: t})
	}
	return g, out, nil
}

// Answer takes what a target holds.
func (g *Get) Answer(node string, vs version.Siblings) []Action {
	if g.done {
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
	all := g.read.Fail(node, err)
	var home quorum.Verdict
	if g.home != nil {
		home = g.home.Fail(node, err)
	}
	return g.decide(all, home)
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
	if g.read.Tally().Complete() {
		out = append(out, g.close()...)
	}
	return out
}

// result reconciles the answers so far; the context covers tombstones too,
// so a not-found answer still lets the client overwrite them.
func (g *Get) result() GetReply {
	res := g.read.Result()
	reply := GetReply{Status: StatusOK, Context: res.Context()}
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
	if waiting := g.read.Tally().Waiting(); len(waiting) > 0 {
		out = append(out, Unanswered{Nodes: waiting})
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
