package protocol

import (
	"fmt"
	"time"
)

// The forward protocol. A node that takes a client's write but is not
// among its targets forwards it to the first target, the client still
// its sender. The target does not coordinate it straight away: it first
// asks the forwarding node (Take), which says Go to the first that asks
// and Abort to any later one. So a target that does not take the write
// in time can be replaced by the next without the write ever being
// coordinated twice, which would store it as two versions: a slow target
// that asks after the forwarder moved on is told Abort and drops it.

// SendForward hands the write to a target.
type SendForward struct{ To string }

// Go tells the target that asked that the write is its to coordinate.
type Go struct{ To string }

// Abort tells a target that asked too late that another took the write.
type Abort struct{ To string }

func (SendForward) action() {}
func (Go) action()          {}
func (Abort) action()       {}

// Forward is the forwarder's side: candidates are tried in turn, each
// given until the request's timer (the caller's per-candidate wait) to ask.
type Forward struct {
	candidates []string
	next       int
	wait       time.Duration
}

// NewForward starts a forward to the first candidate; wait only words the
// error when none takes it.
func NewForward(candidates []string, wait time.Duration) (*Forward, []Action, error) {
	if len(candidates) == 0 {
		return nil, nil, fmt.Errorf("no replica is reachable: nothing was stored")
	}
	f := &Forward{candidates: candidates, next: 1, wait: wait}
	return f, []Action{SendForward{To: candidates[0]}}, nil
}

// Take answers a candidate that asks to coordinate: Go, and the forward
// ends. A request that has ended answers every Take with Abort; the
// caller does that for takes that find no open request.
func (f *Forward) Take(from string) []Action {
	return []Action{Go{To: from}, Finish{}}
}

// Expire takes the timer of the candidate tried last: the next one is
// tried, and when none is left the client is told that nothing was
// stored, which holds because no candidate was told Go.
func (f *Forward) Expire() []Action {
	if f.next < len(f.candidates) {
		to := f.candidates[f.next]
		f.next++
		return []Action{SendForward{To: to}}
	}
	return []Action{PutReply{Status: StatusUnavailable, Err: fmt.Sprintf(
		"no replica took the write within %v each (tried %v): nothing was stored", f.wait, f.candidates)}, Finish{}}
}
