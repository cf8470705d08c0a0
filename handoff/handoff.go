// Package handoff is the partition manager's rule for moving partitions
// when the ring changes, as pure functions: which partitions a node must
// start and which it must hand over, and, round by round, what to do with
// a partition on its way out. The actor that runs it (actors.Partitions)
// owns the vnodes, the syncer that runs the rounds and the timers.
//
// A handoff goes in rounds: each compares the partition with every one of
// its new home nodes and sends them what they lack. A round that had to
// send nothing means they held all this node held a moment ago; the
// vnode then stops taking writes, and a second such round proves they
// hold everything it ever acknowledged, so the partition may go.
package handoff

import "slices"

// Plan returns the partitions a node must start (owned, with no vnode and
// not being dropped) and those it must hand over (with a vnode, not
// owned), each sorted.
func Plan(owned, held []uint32, dropping func(uint32) bool) (start, handOver []uint32) {
	for _, p := range owned {
		if !slices.Contains(held, p) && !dropping(p) {
			start = append(start, p)
		}
	}
	for _, p := range held {
		if !slices.Contains(owned, p) {
			handOver = append(handOver, p)
		}
	}
	slices.Sort(start)
	slices.Sort(handOver)
	return start, handOver
}

// Step is what to do after a round.
type Step int

// Steps.
const (
	// Wait for the next tick: the round failed (a home node down or
	// silent), so asking again at once would only fail again.
	Wait Step = iota
	// Again: the round sent keys; run the next at once.
	Again
	// Retire the vnode (refuse writes from now on) and run one more round.
	Retire
	// Drop the partition: a round after the vnode retired sent nothing.
	Drop
)

func (s Step) String() string {
	return [...]string{"wait", "again", "retire", "drop"}[s]
}

// State is one partition on its way out.
type State struct {
	Rounds  int
	Keys    int // keys sent so far
	Retired bool
	Err     string // the last round's error
}

// Round takes a round's outcome: complete says every home node was
// compared and nothing had to be sent; keys were sent; err says why the
// round ended early, "" if it did not.
func (s *State) Round(complete bool, keys int, err string) Step {
	s.Rounds++
	s.Keys += keys
	s.Err = err
	switch {
	case !complete && err != "":
		return Wait
	case !complete:
		return Again
	case !s.Retired:
		s.Retired = true
		return Retire
	}
	return Drop
}
