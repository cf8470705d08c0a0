package transport

import (
	"strings"
	"time"

	"github.com/anthdm/hollywood/actor"
)

// Idle peers. Every address a node sends to gets a peer and a writer;
// clients are replied to at ephemeral ports and go away, so a peer that
// stays down with nothing sent to it for PeerIdleTimeout is removed: its
// writer exits and a later Send creates a fresh peer. Until then a down
// peer is redialled with the usual backoff, which is how a returning peer
// is noticed. Up peers are never removed: a connection costs little and
// members keep theirs.

// idleClock is the writer's record of since when its down peer has been
// quiet: down, with no Send seen.
type idleClock struct{ since time.Time }

// up ends the quiet period: the peer is reachable again.
func (c *idleClock) up() { c.since = time.Time{} }

// down starts a quiet period when the peer goes down; a failed redial while
// already down continues it. Sends made while the peer was up do not count.
func (c *idleClock) down(p *peer) {
	if c.since.IsZero() {
		c.since = time.Now()
		p.used.Store(false)
	}
}

// rest waits out the backoff before the next dial and doubles it. It
// returns false when the writer must exit: the transport stopped, or the
// peer stayed quiet for PeerIdleTimeout and was removed. The wait is cut at
// the idle deadline, so no dial is made past it; a Send seen by then
// restarts the quiet period and the wait goes on. The Send's time is known
// only to the wait step, so removal may come up to one backoff late.
func (p *peer) rest(backoff *time.Duration, idle *idleClock) bool {
	t := p.t
	wait := *backoff
	*backoff = min(2*wait, t.cfg.BackoffMax)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if p.used.Swap(false) {
			idle.since = time.Now()
		}
		left := t.cfg.PeerIdleTimeout - time.Since(idle.since)
		if left <= 0 {
			if t.remove(p) {
				t.log.Info().Str("peer", p.addr).Msg("idle peer removed")
				return false
			}
			// A Send got in first (or Stop, seen below): quiet again from now.
			idle.since = time.Now()
			left = t.cfg.PeerIdleTimeout
		}
		if wait <= 0 {
			return true
		}
		d := min(wait, left)
		timer.Reset(d)
		select {
		case <-timer.C:
		case <-t.ctx.Done():
			return false
		}
		wait -= d
	}
}

// remove takes p, a quiet down peer, out of the peer set and closes it,
// and reports whether p is out. A concurrent Send is not lost: Send sets
// used before taking p.mu and remove checks it under p.mu, so either
// remove sees the Send and keeps p, or the Send finds p closed and looks
// again, creating a fresh peer. After Stop it keeps p, which Stats still
// reports, and its writer exits on the cancelled context.
func (t *TCP) remove(p *peer) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	set := t.peerSet()
	if t.stopped {
		return false
	}
	if set.byAddr[p.addr] != p {
		return true // already removed
	}
	p.mu.Lock()
	if p.used.Load() || p.state != stateDown {
		p.mu.Unlock()
		return false
	}
	p.state = stateClosed
	p.mu.Unlock()
	m := make(map[string]*peer, len(set.byAddr))
	for a, q := range set.byAddr {
		if q != p {
			m[a] = q
		}
	}
	// The caller is p's writer, outside serve: p.sent is final. Its drops
	// are already in the transport's counters.
	t.peers.Store(&peerSet{byAddr: m, gone: set.gone + p.sent.Load()})
	return true
}

// eventStreamKind is the kind hollywood spawns its event stream with.
const eventStreamKind = "eventstream"

// deliverable reports whether an inbound frame for target may be handed to
// the engine. NewEngine calls Start before it spawns the event stream, and
// stores the stream's PID without synchronisation; SendLocal reads that PID
// to broadcast a dead letter when the target is missing. So a frame for a
// missing actor must not be delivered until the engine is known complete.
// A frame for a registered actor is safe (SendLocal does not touch the
// stream) and is that proof: every actor but the event stream is spawned
// after NewEngine returned, and the registry's lock orders that spawn, so
// the PID's store, before our lookup. Until then frames for missing actors
// are discarded, which loses nothing but their DeadLetterEvent; they are
// counted as received, like the dead letters they would have been. This
// needs nothing from the node; the check costs one atomic load once ready.
func (t *TCP) deliverable(e *actor.Engine, target *actor.PID) bool {
	if t.ready.Load() {
		return true
	}
	kind, id, ok := strings.Cut(target.ID, "/")
	if !ok || kind == eventStreamKind || e.Registry.GetPID(kind, id) == nil {
		return false
	}
	t.ready.Store(true)
	return true
}
