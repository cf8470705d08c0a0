package quorum

import "github.com/dynamokv/dynamo/version"

// Read tallies the answers to a quorum read and keeps each replica's
// sibling set, to reconcile them and to find the replicas that need read
// repair.
type Read struct {
	t       *Tally
	answers []version.Siblings // by replica index; nil until answered
	// result is Result's reconciliation, kept until the next answer: a
	// read asks for it to answer, to repair and to decide whether to ask
	// further.
	result version.Siblings
	cached bool
}

// NewRead returns a read tally needing r answers from replicas. The slice
// is kept, not copied, and must not change afterwards.
func NewRead(replicas []string, r int) (*Read, error) {
	t, err := NewTally(replicas, r)
	if err != nil {
		return nil, err
	}
	return &Read{t: t, answers: make([]version.Siblings, len(replicas))}, nil
}

// Tally returns the counts behind the read, for its verdict and messages.
func (r *Read) Tally() *Tally { return r.t }

// Answer records the versions replica holds; none means it holds nothing.
func (r *Read) Answer(replica string, vs version.Siblings) Verdict {
	i := r.t.index(replica)
	if i < 0 || r.t.state[i] != waiting {
		return Pending
	}
	r.answers[i] = vs
	r.cached = false
	return r.t.Ack(replica)
}

// Fail records that replica could not answer; reason says why.
func (r *Read) Fail(replica, reason string) Verdict { return r.t.Fail(replica, reason) }

// Timeout records that the wait has ended; see Tally.Timeout.
func (r *Read) Timeout() Verdict { return r.t.Timeout() }

// Result reconciles every answer so far: the versions no other answer
// obsoletes, tombstones included.
// The slice is shared by later calls until the next answer: callers must
// not modify it.
func (r *Read) Result() version.Siblings {
	if r.cached {
		return r.result
	}
	var small [4]version.Siblings
	sets := small[:0]
	for i, s := range r.t.state {
		if s == answered {
			sets = append(sets, r.answers[i])
		}
	}
	r.result, r.cached = reconcile(sets), true
	return r.result
}

// reconcile is version.Reconcile with a shortcut for the common read,
// whose answers are all the same single version: that version is the
// reconciliation. (A larger set is reconciled in full, which also prunes
// one that came unpruned.)
func reconcile(sets []version.Siblings) version.Siblings {
	if len(sets) == 0 || len(sets[0]) != 1 {
		return version.Reconcile(sets...)
	}
	for _, s := range sets[1:] {
		if !s.Equal(sets[0]) {
			return version.Reconcile(sets...)
		}
	}
	return sets[0]
}

// Repairs returns the reconciliation of every answer so far and the
// replicas, in replica order, whose answer differs from it: stale, missing
// the key, or lacking a sibling. Each should be sent final. Replicas that
// failed or never answered are not listed: nothing is known about them,
// and anti-entropy, not a read, is what reaches them.
func (r *Read) Repairs() (final version.Siblings, stale []string) {
	final = r.Result()
	for i, s := range r.t.state {
		if s == answered && !r.answers[i].Equal(final) {
			stale = append(stale, r.t.replicas[i])
		}
	}
	return final, stale
}

// Reapable returns the tombstones a read may collect: every replica
// answered, all with the same set, and that set holds tombstones only,
// each stamped before cutoff (unix nanoseconds). Otherwise it returns nil.
// Only then does no replica of the set hold a version the deletion did
// not see; cutoff leaves a grace for writes still travelling (hints, late
// replicas) that would otherwise bring a deleted value back.
func (r *Read) Reapable(cutoff int64) version.Siblings {
	if r.t.oks != len(r.t.replicas) || len(r.answers) == 0 {
		return nil
	}
	first := r.answers[0]
	if len(first) == 0 {
		return nil
	}
	for _, v := range first {
		if !v.Deleted || v.Dot.Stamp >= cutoff {
			return nil
		}
	}
	for _, s := range r.answers[1:] {
		if !s.Equal(first) {
			return nil
		}
	}
	return first
}
