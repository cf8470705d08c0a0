// Package exchange is the anti-entropy protocol between two replicas of a
// partition, as a pure state machine: the syncer actor that runs it asks
// what it says to ask, and feeds it the answers and its timers.
//
// Both vnodes, Local and Remote, are asked for their tree roots; when they
// differ, for the children of the differing nodes, level by level, down to
// the differing segments; then for the keys of those segments with their
// item hashes; then, in chunks, for the sets of the keys whose hashes
// differ. Each pair of sets is reconciled (version.Reconcile: the union,
// nothing concurrent dropped) and sent to each side whose set differs from
// the result. Only differing branches, keys and sets travel.
package exchange

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/dynamokv/dynamo/merkle"
	"github.com/dynamokv/dynamo/version"
)

// Side names one of the two replicas.
type Side int

// The sides.
const (
	Local Side = iota
	Remote
)

func (s Side) String() string {
	if s == Local {
		return "local"
	}
	return "remote"
}

// Limits bound what one message carries; zero fields take the defaults.
type Limits struct {
	MaxNodes int // tree nodes per request (replies carry Fanout hashes each); default 1024
	MaxScan  int // stored entries one segment request scans; default 256
	MaxKeys  int // keys per sets request; default 32
}

func (l Limits) withDefaults() Limits {
	if l.MaxNodes <= 0 {
		l.MaxNodes = 1024
	}
	// Small windows: a vnode serves its clients between them, so a
	// repair adds little to their latency.
	if l.MaxScan <= 0 {
		l.MaxScan = 256
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = 32
	}
	return l
}

// Actions the syncer carries out.
type (
	// AskTree asks a side for the children of Nodes of Level; Level 0
	// with no Nodes asks for the root.
	AskTree struct {
		Side  Side
		Level int
		Nodes []int
	}
	// AskSegments asks a side for the keys and item hashes of Segments,
	// scanning after After for at most Limit entries.
	AskSegments struct {
		Side     Side
		Segments []int
		After    []byte
		Limit    int
	}
	// AskSets asks a side for the sets of Keys.
	AskSets struct {
		Side Side
		Keys [][]byte
	}
	// PutSets sends a side the reconciled sets of Keys, to merge.
	PutSets struct {
		Side Side
		Keys [][]byte
		Sets []version.Siblings
	}
	// Done ends the exchange.
	Done struct{ Result Result }
)

// Action is one of the above.
type Action interface{ action() }

func (AskTree) action()     {}
func (AskSegments) action() {}
func (AskSets) action()     {}
func (PutSets) action()     {}
func (Done) action()        {}

// Result says what an exchange found and did.
type Result struct {
	InSync      bool   // the roots were equal
	Segments    int    // differing segments
	Keys        int    // keys whose hashes differed
	RepairedLoc int    // keys whose local set changed
	RepairedRem int    // keys whose remote set changed
	Err         string // why it ended early
}

type phase int

const (
	phaseRoots phase = iota
	phaseTree
	phaseSegments
	phaseSets
	phasePut
	phaseDone
)

// Exchange is one comparison of a partition between two replicas.
type Exchange struct {
	lim    Limits
	shape  merkle.Shape
	phase  phase
	level  int
	nodes  []int // the nodes of level whose children are being compared
	chunk  int   // offset into nodes of the request in flight
	hashes [2][]uint32
	got    [2]bool

	segments []int
	scan     [2]struct {
		keys map[string]uint64
		done bool
	}
	diff   [][]byte // keys whose hashes differ, sorted
	next   int      // offset into diff of the chunk in flight
	sets   [2][]version.Siblings
	puts   int // PutSets awaiting their ack
	result Result
}

// New starts an exchange.
func New(lim Limits) (*Exchange, []Action) {
	e := &Exchange{lim: lim.withDefaults()}
	return e, []Action{AskTree{Side: Local}, AskTree{Side: Remote}}
}

// Result returns what the exchange has found so far.
func (e *Exchange) Result() Result { return e.result }

// Tree takes a side's answer to AskTree, with its tree's shape: folded
// hashes (merkle.Fold).
func (e *Exchange) Tree(side Side, shape merkle.Shape, hashes []uint32) []Action {
	if e.phase != phaseRoots && e.phase != phaseTree {
		return nil
	}
	if e.phase == phaseRoots {
		if e.shape != (merkle.Shape{}) && e.shape != shape {
			return e.fail(fmt.Sprintf("the replicas' trees differ in shape: %d^%d and %d^%d",
				e.shape.Fanout, e.shape.Depth, shape.Fanout, shape.Depth))
		}
		e.shape = shape
	}
	e.hashes[side], e.got[side] = hashes, true
	if !e.got[Local] || !e.got[Remote] {
		return nil
	}
	e.got = [2]bool{}
	if e.phase == phaseRoots {
		if slices.Equal(e.hashes[Local], e.hashes[Remote]) {
			e.result.InSync = true
			return e.finish()
		}
		e.phase, e.level, e.nodes = phaseTree, 0, []int{0}
		return e.askChunk()
	}
	end := min(e.chunk+e.lim.MaxNodes, len(e.nodes))
	differ := merkle.Differing(e.shape, e.nodes[e.chunk:end], e.hashes[Local], e.hashes[Remote])
	e.segments = append(e.segments, differ...) // children of this level's chunk
	e.chunk = end
	if e.chunk < len(e.nodes) {
		return e.askChunk()
	}
	// The level is done: the differing children are the next level.
	e.nodes, e.segments, e.chunk = e.segments, nil, 0
	e.level++
	if e.level < e.shape.Depth {
		if len(e.nodes) == 0 {
			e.result.InSync = true // the roots differed only in a race
			return e.finish()
		}
		return e.askChunk()
	}
	e.segments = e.nodes
	e.result.Segments = len(e.segments)
	e.phase = phaseSegments
	out := make([]Action, 0, 2)
	for _, s := range []Side{Local, Remote} {
		e.scan[s].keys = map[string]uint64{}
		out = append(out, AskSegments{Side: s, Segments: e.segments, Limit: e.lim.MaxScan})
	}
	return out
}

func (e *Exchange) askChunk() []Action {
	end := min(e.chunk+e.lim.MaxNodes, len(e.nodes))
	nodes := e.nodes[e.chunk:end]
	return []Action{AskTree{Side: Local, Level: e.level, Nodes: nodes}, AskTree{Side: Remote, Level: e.level, Nodes: nodes}}
}

// Segments takes one window of a side's scan: the keys of the differing
// segments it met, their item hashes, and where to go on (nil: done).
func (e *Exchange) Segments(side Side, keys [][]byte, hashes []uint64, next []byte) []Action {
	if e.phase != phaseSegments || e.scan[side].done {
		return nil
	}
	for i, k := range keys {
		if i < len(hashes) {
			e.scan[side].keys[string(k)] = hashes[i]
		}
	}
	if len(next) > 0 {
		return []Action{AskSegments{Side: side, Segments: e.segments, After: next, Limit: e.lim.MaxScan}}
	}
	e.scan[side].done = true
	if !e.scan[Local].done || !e.scan[Remote].done {
		return nil
	}
	seen := map[string]bool{}
	for _, s := range []Side{Local, Remote} {
		for k := range e.scan[s].keys {
			if !seen[k] && e.scan[Local].keys[k] != e.scan[Remote].keys[k] {
				e.diff = append(e.diff, []byte(k))
			}
			seen[k] = true
		}
	}
	slices.SortFunc(e.diff, bytes.Compare)
	e.scan = [2]struct {
		keys map[string]uint64
		done bool
	}{}
	e.result.Keys = len(e.diff)
	e.phase = phaseSets
	return e.askSets()
}

func (e *Exchange) askSets() []Action {
	if e.next >= len(e.diff) {
		return e.finish()
	}
	end := min(e.next+e.lim.MaxKeys, len(e.diff))
	keys := e.diff[e.next:end]
	e.got = [2]bool{}
	return []Action{AskSets{Side: Local, Keys: keys}, AskSets{Side: Remote, Keys: keys}}
}

// Sets takes a side's sets of the chunk asked for.
func (e *Exchange) Sets(side Side, sets []version.Siblings) []Action {
	if e.phase != phaseSets || e.got[side] {
		return nil
	}
	end := min(e.next+e.lim.MaxKeys, len(e.diff))
	if len(sets) != end-e.next {
		return e.fail(fmt.Sprintf("the %s side sent %d sets for %d keys", side, len(sets), end-e.next))
	}
	e.sets[side], e.got[side] = sets, true
	if !e.got[Local] || !e.got[Remote] {
		return nil
	}
	keys := e.diff[e.next:end]
	var out []Action
	var put [2]PutSets
	for i, k := range keys {
		final := version.Reconcile(e.sets[Local][i], e.sets[Remote][i])
		for _, s := range []Side{Local, Remote} {
			if !e.sets[s][i].Equal(final) {
				put[s].Side = s
				put[s].Keys = append(put[s].Keys, k)
				put[s].Sets = append(put[s].Sets, final)
			}
		}
	}
	e.result.RepairedLoc += len(put[Local].Keys)
	e.result.RepairedRem += len(put[Remote].Keys)
	e.next = end
	e.puts = 0
	for _, p := range put {
		if len(p.Keys) > 0 {
			out = append(out, p)
			e.puts++
		}
	}
	if e.puts == 0 {
		return e.askSets()
	}
	e.phase = phasePut
	return out
}

// Put takes a side's acknowledgement of PutSets; err is "" on success.
func (e *Exchange) Put(side Side, err string) []Action {
	if e.phase != phasePut {
		return nil
	}
	if err != "" {
		return e.fail(fmt.Sprintf("the %s side could not merge: %s", side, err))
	}
	e.puts--
	if e.puts > 0 {
		return nil
	}
	e.phase = phaseSets
	return e.askSets()
}

// Failed takes a side's error answer.
func (e *Exchange) Failed(side Side, err string) []Action {
	return e.fail(fmt.Sprintf("the %s side failed: %s", side, err))
}

// Expire takes the timer of the step in flight: a side stopped answering.
func (e *Exchange) Expire() []Action {
	return e.fail("a replica stopped answering")
}

func (e *Exchange) fail(why string) []Action {
	if e.phase == phaseDone {
		return nil
	}
	e.result.Err = why
	return e.finish()
}

func (e *Exchange) finish() []Action {
	e.phase = phaseDone
	return []Action{Done{Result: e.result}}
}
