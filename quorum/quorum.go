// Package quorum holds the counting rules of Dynamo-style requests: how
// many replicas must answer, when a request has succeeded, when it can no
// longer succeed, and, for reads, which replicas need read repair.
//
// It is plain deterministic code with no engine, clock or logging, so the
// coordinator actor stays a thin shell: it feeds answers in and acts on
// the verdicts that come out. Durations appear only to word messages.
package quorum

import (
	"errors"
	"fmt"
	"time"
)

// ErrOutOfRange is wrapped by Resolve and the constructors when a quorum
// size cannot be met by the replica set.
var ErrOutOfRange = errors.New("quorum out of range")

// Resolve turns a requested quorum size into the one to use: zero means
// def, the node's default, and the result must lie in 1..n. name ("R" or
// "W") only words the error.
func Resolve(name string, requested, def, n int) (int, error) {
	q := requested
	if q == 0 {
		q = def
	}
	if q < 1 || q > n {
		if requested == 0 {
			return 0, fmt.Errorf("default %s=%d out of range 1..%d (N=%d): %w", name, q, n, n, ErrOutOfRange)
		}
		return 0, fmt.Errorf("%s=%d out of range 1..%d (N=%d): %w", name, q, n, n, ErrOutOfRange)
	}
	return q, nil
}

// Verdict is what an input to a tally decided. A tally returns Reached or
// Failed exactly once, at the input that decided it, and Pending for every
// other input, so a caller that answers its client on a non-Pending verdict
// answers exactly once.
type Verdict int8

// Verdicts.
const (
	Pending Verdict = iota // not decided by this input
	Reached                // the quorum was reached by this input
	Failed                 // the quorum became impossible, or timed out, at this input
)

func (v Verdict) String() string {
	switch v {
	case Pending:
		return "Pending"
	case Reached:
		return "Reached"
	case Failed:
		return "Failed"
	}
	return fmt.Sprintf("Verdict(%d)", int8(v))
}

type state int8

const (
	waiting state = iota
	answered
	failed
)

// Tally counts the answers of a fixed replica set against a quorum. Each
// replica counts once: duplicated answers, which lossy networks deliver,
// and answers from replicas outside the set change nothing.
type Tally struct {
	replicas []string
	need     int
	state    []state
	oks      int
	fails    int
	verdict  Verdict // Pending until decided, then the decision
	errFrom  string  // the first failed replica and its reason
	errText  string
}

// NewTally returns a tally needing need answers from replicas. The slice
// is kept, not copied, and must not change afterwards.
func NewTally(replicas []string, need int) (*Tally, error) {
	if len(replicas) == 0 {
		return nil, fmt.Errorf("tally: no replicas: %w", ErrOutOfRange)
	}
	if need < 1 || need > len(replicas) {
		return nil, fmt.Errorf("tally: need %d of %d replicas: %w", need, len(replicas), ErrOutOfRange)
	}
	return &Tally{replicas: replicas, need: need, state: make([]state, len(replicas))}, nil
}

func (t *Tally) index(replica string) int {
	for i, r := range t.replicas {
		if r == replica {
			return i
		}
	}
	return -1
}

// Has reports whether replica is in the tally's replica set.
func (t *Tally) Has(replica string) bool { return t.index(replica) >= 0 }

// Answered reports whether replica has answered, successfully or not.
func (t *Tally) Answered(replica string) bool {
	i := t.index(replica)
	return i >= 0 && t.state[i] != waiting
}

// Ack records a successful answer from replica.
func (t *Tally) Ack(replica string) Verdict {
	i := t.index(replica)
	if i < 0 || t.state[i] != waiting {
		return Pending
	}
	t.state[i] = answered
	t.oks++
	if t.verdict == Pending && t.oks >= t.need {
		t.verdict = Reached
		return Reached
	}
	return Pending
}

// Fail records a failed answer from replica; reason says why.
func (t *Tally) Fail(replica, reason string) Verdict {
	i := t.index(replica)
	if i < 0 || t.state[i] != waiting {
		return Pending
	}
	t.state[i] = failed
	t.fails++
	if t.errFrom == "" {
		t.errFrom, t.errText = replica, reason
	}
	// Decide as soon as the replicas still waiting cannot make up the
	// difference: waiting for the timeout would only delay the same answer.
	if t.verdict == Pending && len(t.replicas)-t.fails < t.need {
		t.verdict = Failed
		return Failed
	}
	return Pending
}

// Timeout records that the wait has ended. It fails the tally unless it
// was decided already.
func (t *Tally) Timeout() Verdict {
	if t.verdict != Pending {
		return Pending
	}
	t.verdict = Failed
	return Failed
}

// Verdict returns the decision so far: Pending, Reached or Failed.
func (t *Tally) Verdict() Verdict { return t.verdict }

// Complete reports whether every replica has answered.
func (t *Tally) Complete() bool { return t.oks+t.fails == len(t.replicas) }

// Acks returns the number of successful answers.
func (t *Tally) Acks() int { return t.oks }

// Failures returns the number of failed answers.
func (t *Tally) Failures() int { return t.fails }

// Need returns the quorum size.
func (t *Tally) Need() int { return t.need }

// Replicas returns the replica set, which must not be modified.
func (t *Tally) Replicas() []string { return t.replicas }

// Waiting returns the replicas that have not answered, in replica order.
func (t *Tally) Waiting() []string {
	var out []string
	for i, s := range t.state {
		if s == waiting {
			out = append(out, t.replicas[i])
		}
	}
	return out
}

// TimeoutError words a timeout: how many of the needed answers came within
// the wait. Replicas that answered with an error are not counted.
func (t *Tally) TimeoutError(within time.Duration) string {
	return fmt.Sprintf("quorum not reached: %d of %d replicas answered within %s", t.oks, t.need, within)
}

// FailureError words a quorum made impossible by failed answers, with the
// first failure's reason.
func (t *Tally) FailureError() string {
	return fmt.Sprintf("quorum not reached: %d of %d replicas failed and %d of them are needed; first failure, %s: %s",
		t.fails, len(t.replicas), t.need, t.errFrom, t.errText)
}
