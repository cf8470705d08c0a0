package actors

import (
	"time"

	"github.com/dynamokv/dynamo/messages"
)

// RequestMetrics is told what a node's coordinators do, for its metrics.
// Its methods are called inside Receive: they must be quick and never
// block.
type RequestMetrics interface {
	// Answered: a client's request was answered. op is get, put or
	// delete; outcome one of the Outcome names; siblings the live values
	// a successful read returned.
	Answered(op, outcome string, took time.Duration, siblings int)
	ReadRepair()
	// ReadHedged: a read's first targets were slower than the hedge, so
	// it asked the rest.
	ReadHedged()
	Forwarded()
}

// Request outcomes, as metrics label them.
const (
	OutcomeOK          = "ok"
	OutcomeNotFound    = "not_found"
	OutcomeBadRequest  = "bad_request"
	OutcomeTooLarge    = "too_large"
	OutcomeUnavailable = "unavailable" // a quorum not reached, nothing stored
	OutcomeUnknown     = "unknown"     // a write that may have been stored
)

type noMetrics struct{}

func (noMetrics) Answered(string, string, time.Duration, int) {}
func (noMetrics) ReadRepair()                                 {}
func (noMetrics) ReadHedged()                                 {}
func (noMetrics) Forwarded()                                  {}

// answered reports a client answer to the metrics.
func (co *Coordinator) answered(r *request, msg any) {
	took := time.Duration(0)
	if r != nil && !r.start.IsZero() {
		took = time.Since(r.start)
	}
	switch m := msg.(type) {
	case *messages.ClientGetReply:
		co.cfg.Metrics.Answered("get", outcomeOf(m.Status, false), took, len(m.Values))
	case *messages.ClientPutReply:
		op := "put"
		if r != nil && r.msg != nil && r.msg.Delete {
			op = "delete"
		}
		co.cfg.Metrics.Answered(op, outcomeOf(m.Status, m.Unknown), took, 0)
	}
}

func outcomeOf(status int, unknown bool) string {
	switch {
	case unknown:
		return OutcomeUnknown
	case status == messages.StatusOK:
		return OutcomeOK
	case status == messages.StatusNotFound:
		return OutcomeNotFound
	case status == messages.StatusBadRequest:
		return OutcomeBadRequest
	case status == messages.StatusTooLarge:
		return OutcomeTooLarge
	}
	return OutcomeUnavailable
}
