package actors

import (
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/detector"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/transport"
	"github.com/rs/zerolog"
)

// DetectorKind and DetectorID name a node's failure detector actor.
const (
	DetectorKind = "detector"
	DetectorID   = "local"
)

// DetectorConfig configures a node's failure detector actor.
type DetectorConfig struct {
	Self string        // this node's member ID, never judged
	Ring *cluster.View // the members are those of the current ring
	// Links reports what the transport knows of each peer address: up,
	// last heard, why down. It is called inside Receive and must not
	// block (transport.TCP.Stats does not).
	Links func() []transport.PeerStats
	// Tick is how often verdicts are computed; Default 100ms. Ping is how
	// often every member is pinged, which keeps a connection to it (and
	// its heartbeats) alive, and redials a peer that was down; default
	// 500ms.
	Tick, Ping time.Duration
	Rule       detector.Config
	View       *PeerView // where verdicts are published
	Now        func() time.Time
	Log        zerolog.Logger
}

// Unanswered is sent, on the local engine only, by a coordinator to its
// node's detector when a peer left a request unanswered until its timer.
type Unanswered struct{ Node string }

// PeerView is the detector's published verdicts: an immutable snapshot
// swapped atomically, so coordinators and HTTP handlers read it without
// messaging the actor. Before the first verdict every peer is up.
type PeerView struct {
	p atomic.Pointer[map[string]detector.Peer]
}

// Suspected reports whether this node's detector suspects member id.
func (v *PeerView) Suspected(id string) bool {
	if m := v.p.Load(); m != nil {
		return (*m)[id].Suspected
	}
	return false
}

// Peer returns the verdict on member id.
func (v *PeerView) Peer(id string) (detector.Peer, bool) {
	if m := v.p.Load(); m != nil {
		p, ok := (*m)[id]
		return p, ok
	}
	return detector.Peer{}, false
}

// Peers returns every verdict.
func (v *PeerView) Peers() map[string]detector.Peer {
	if m := v.p.Load(); m != nil {
		return *m
	}
	return nil
}

type detectorTick struct{}
type detectorPing struct{}

// Detector is the shell of package detector: it feeds the pure core the
// transport's link states and the coordinators' unanswered requests,
// publishes the verdicts and logs each turn.
type Detector struct {
	cfg     DetectorConfig
	core    *detector.Detector
	byAddr  map[string]string
	version uint64 // of the ring byAddr was built from
	ticks   []actor.SendRepeater
}

// members maps the current ring's peer addresses to member IDs.
func (d *Detector) members() map[string]string {
	if d.byAddr != nil && d.cfg.Ring.Version() == d.version {
		return d.byAddr
	}
	d.version = d.cfg.Ring.Version()
	d.byAddr = map[string]string{}
	if r := d.cfg.Ring.Load(); r != nil {
		for _, m := range r.Members() {
			if m.ID != d.cfg.Self {
				d.byAddr[m.Addr] = m.ID
			}
		}
	}
	return d.byAddr
}

// NewDetector returns the producer of a node's failure detector actor.
func NewDetector(cfg DetectorConfig) actor.Producer {
	if cfg.Tick <= 0 {
		cfg.Tick = 100 * time.Millisecond
	}
	if cfg.Ping <= 0 {
		cfg.Ping = 500 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return func() actor.Receiver {
		return &Detector{cfg: cfg, core: detector.New(cfg.Rule)}
	}
}

// Receive implements actor.Receiver.
func (d *Detector) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Started:
		d.ticks = append(d.ticks, c.SendRepeat(c.PID(), detectorTick{}, d.cfg.Tick),
			c.SendRepeat(c.PID(), detectorPing{}, d.cfg.Ping))
		d.ping(c)
	case actor.Stopped:
		for _, t := range d.ticks {
			t.Stop()
		}
	case detectorTick:
		d.tick()
	case detectorPing:
		d.ping(c)
	case *Unanswered:
		if m.Node != d.cfg.Self {
			d.core.Unanswered(m.Node, d.cfg.Now())
		}
	case *messages.Pong:
		// The ping's only purpose was to keep the connection up.
	}
}

func (d *Detector) ping(c *actor.Context) {
	for addr := range d.members() {
		c.Send(actor.NewPID(addr, PingPID), &messages.Ping{})
	}
}

func (d *Detector) tick() {
	if d.cfg.Links != nil {
		for _, l := range d.cfg.Links() {
			if id, ok := d.members()[l.Addr]; ok {
				d.core.Link(id, l.Up, l.LastHeard, l.Reason)
			}
		}
	}
	for _, ch := range d.core.Tick(d.cfg.Now()) {
		if ch.Suspected {
			d.cfg.Log.Warn().Str("peer", ch.Peer).Str("why", ch.Why).Msg("peer suspected")
		} else {
			d.cfg.Log.Info().Str("peer", ch.Peer).Msg("peer cleared")
		}
	}
	snap := map[string]detector.Peer{}
	for _, p := range d.core.Peers() {
		snap[p.ID] = p
	}
	d.cfg.View.p.Store(&snap)
}
