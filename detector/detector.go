// Package detector decides which peers a node suspects of having failed,
// as Dynamo does (§4.8.3): locally, from what this node sees, with no
// agreement between nodes. A temporary failure changes where requests go
// (a sloppy quorum's stand-ins, hinted handoff), never the membership.
//
// It is a pure state machine: the caller feeds it what the transport saw
// (is the connection to the peer up, when did the peer last speak) and
// what its own requests saw (a request the peer left unanswered), and asks
// for verdicts at a time it passes in. No clock, no I/O, no goroutine.
//
// The rule, chosen over phi accrual for being predictable and easy to
// check against the requirements it serves:
//
//   - a peer whose connection is down (refused, reset, closed, a dial that
//     failed) is suspected at once: the transport has proof;
//   - a peer whose connection is up but from which nothing was heard for
//     Silence (the peer writes a heartbeat every quarter of it) is
//     suspected: hung, paused or black-holed peers still accept
//     connections, so only their silence shows;
//   - a peer that left a request unanswered is suspected for a probation,
//     doubled each time it fails again right after one and reset once it
//     stays clear: its heartbeats may flow while its actors cannot keep
//     up, and a coordinator that kept sending to it would wait out every
//     request;
//   - otherwise it is up. A peer never reported is up: nodes start
//     optimistic, and the first dial settles it within milliseconds.
//
// Silence is the trade-off: it must exceed the heartbeat interval by more
// than any scheduling delay a loaded machine adds (a saturated 2-core
// machine delays a heartbeat by milliseconds, not a second), and stay short
// enough that a hung peer is suspected within 1.5 s with the caller's tick.
package detector

import (
	"fmt"
	"slices"
	"time"
)

// Config bounds the rule; zero fields take the defaults.
type Config struct {
	// Silence: a peer unheard this long is suspected. Default 1s.
	Silence time.Duration
	// Probation is how long an unanswered request makes a peer suspected
	// at first; it doubles, up to MaxProbation, while the peer keeps
	// failing. Defaults 1s and 30s.
	Probation, MaxProbation time.Duration
}

func (c Config) withDefaults() Config {
	if c.Silence <= 0 {
		c.Silence = time.Second
	}
	if c.Probation <= 0 {
		c.Probation = time.Second
	}
	if c.MaxProbation < c.Probation {
		c.MaxProbation = max(30*time.Second, c.Probation)
	}
	return c
}

// Detector holds what this node knows of each peer.
type Detector struct {
	cfg   Config
	peers map[string]*peer
}

type peer struct {
	linkUp   bool
	reported bool // the transport has said something about it
	reason   string
	heard    time.Time

	until     time.Time     // request suspicion lasts until then
	probation time.Duration // the next probation

	suspected  bool
	why        string
	since      time.Time
	suspicions uint64
}

// New returns a detector with no peers.
func New(cfg Config) *Detector {
	return &Detector{cfg: cfg.withDefaults(), peers: map[string]*peer{}}
}

func (d *Detector) peer(id string) *peer {
	p, ok := d.peers[id]
	if !ok {
		p = &peer{linkUp: true, probation: d.cfg.Probation}
		d.peers[id] = p
	}
	return p
}

// Link records what the transport reports of peer id: whether its
// connection is up, when the peer was last heard on it (zero if never) and
// why it went down.
func (d *Detector) Link(id string, up bool, heard time.Time, reason string) {
	p := d.peer(id)
	p.reported, p.linkUp, p.reason = true, up, reason
	if heard.After(p.heard) {
		p.heard = heard
	}
}

// Unanswered records that a request sent to peer id got no answer in time.
// Requests still in flight when a probation starts end unanswered too, so
// one within a probation does not lengthen it.
func (d *Detector) Unanswered(id string, now time.Time) {
	p := d.peer(id)
	if now.Before(p.until) {
		return
	}
	// Failing again soon after a probation ended: the next one is longer.
	if !p.until.IsZero() && now.Sub(p.until) < p.probation {
		p.probation = min(2*p.probation, d.cfg.MaxProbation)
	} else {
		p.probation = d.cfg.Probation
	}
	p.until = now.Add(p.probation)
}

// Change is a peer's verdict turning.
type Change struct {
	Peer      string
	Suspected bool
	Why       string // why it is suspected; "" when cleared
}

// Tick computes every peer's verdict at now and returns those that turned.
func (d *Detector) Tick(now time.Time) []Change {
	var out []Change
	for _, id := range d.ids() {
		p := d.peers[id]
		why := d.judge(p, now)
		if suspected := why != ""; suspected != p.suspected {
			p.since = now
			if suspected {
				p.suspicions++
			}
			out = append(out, Change{Peer: id, Suspected: suspected, Why: why})
		}
		p.suspected, p.why = why != "", why
	}
	return out
}

func (d *Detector) judge(p *peer, now time.Time) string {
	switch {
	case p.reported && !p.linkUp:
		if p.reason == "" {
			return "connection down"
		}
		return "connection down: " + p.reason
	case p.reported && !p.heard.IsZero() && now.Sub(p.heard) > d.cfg.Silence:
		return fmt.Sprintf("silent: nothing heard for %v", now.Sub(p.heard).Round(time.Millisecond))
	case now.Before(p.until):
		return fmt.Sprintf("requests unanswered: on probation for %v", p.probation)
	}
	return ""
}

// Suspected reports the verdict of the last Tick for peer id.
func (d *Detector) Suspected(id string) bool {
	p, ok := d.peers[id]
	return ok && p.suspected
}

// Peer is the verdict on one peer, for status pages and metrics.
type Peer struct {
	ID         string
	Suspected  bool
	Why        string
	Since      time.Time // when the verdict last turned (zero: never)
	LastHeard  time.Time
	Suspicions uint64 // times it turned suspected
}

// Peers returns every peer's verdict as of the last Tick, sorted by ID.
func (d *Detector) Peers() []Peer {
	out := make([]Peer, 0, len(d.peers))
	for _, id := range d.ids() {
		p := d.peers[id]
		out = append(out, Peer{ID: id, Suspected: p.suspected, Why: p.why, Since: p.since,
			LastHeard: p.heard, Suspicions: p.suspicions})
	}
	return out
}

func (d *Detector) ids() []string {
	ids := make([]string, 0, len(d.peers))
	for id := range d.peers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
