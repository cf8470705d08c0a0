package actors

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/membership"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/store"
	"github.com/rs/zerolog"
	"github.com/vmihailenco/msgpack/v5"
)

// MembershipID names the membership actor on every node (kind PingKind).
const MembershipID = "membership"

// MembershipPID is the membership actor of the node at addr.
func MembershipPID(addr string) *actor.PID {
	return actor.NewPID(addr, PingKind+"/"+MembershipID)
}

// Where a node persists its membership state: a partition no ring has.
const (
	MembershipPartition uint32 = 0xFFFFFFFC
	MembershipKey              = "state"
)

// LoadMembership returns the state persisted in st, if any.
func LoadMembership(st store.Store) (membership.State, bool, error) {
	raw, err := st.Get(MembershipPartition, []byte(MembershipKey))
	if errors.Is(err, store.ErrNotFound) {
		return membership.State{}, false, nil
	}
	if err != nil {
		return membership.State{}, false, fmt.Errorf("read the membership: %w", err)
	}
	var s membership.State
	if err := msgpack.Unmarshal(raw, &s); err != nil {
		return membership.State{}, false, fmt.Errorf("the stored membership is corrupt: %w", err)
	}
	return s, true, nil
}

// SaveMembership persists s in st.
func SaveMembership(st store.Store, s membership.State) error {
	raw, err := msgpack.Marshal(&s)
	if err != nil {
		return err
	}
	b := store.NewBatch()
	b.Put(MembershipPartition, []byte(MembershipKey), raw)
	return st.Apply(b)
}

// MembershipConfig configures a node's membership actor.
type MembershipConfig struct {
	Self, Addr, HTTP string
	Coordinators     int
	State            membership.State // what the node starts with (persisted, joined or bootstrapped)
	Store            store.Store
	Ring             *cluster.View // published on every change
	// Up reports the failure detector's verdict: gossip goes to members
	// that are up. Called inside Receive; must not block.
	Up func(id string) bool
	// Changed, when set, is told of every change of the ring (RingChanged).
	Changed  *actor.PID
	Interval time.Duration // between gossip rounds; default 500ms
	View     *MemberView
	Log      zerolog.Logger
}

// RingChanged is sent, on the local engine, by the membership actor to
// whoever watches the ring (the partition manager) when it changed.
type RingChanged struct{ Version uint64 }

// MemberState is what a node knows of one member.
type MemberState struct {
	membership.Record
	Problem string // why its copy of the membership cannot be merged, when it cannot
	// Heard says the node gossiped with this one since it started, with a
	// membership that merges with its own (always true of the node itself).
	Heard bool
}

// MemberView is the membership actor's published state: immutable
// snapshots swapped atomically, so HTTP handlers and coordinators read
// them without messaging or blocking the actor.
type MemberView struct {
	p     atomic.Pointer[[]MemberState]
	state atomic.Pointer[membership.State]
}

// Members returns the latest snapshot of every record, members and those
// that left; callers must not modify it.
func (v *MemberView) Members() []MemberState {
	if s := v.p.Load(); s != nil {
		return *s
	}
	return nil
}

// State returns the membership state the node holds.
func (v *MemberView) State() membership.State {
	if s := v.state.Load(); s != nil {
		return *s
	}
	return membership.State{}
}

// Problem returns why node id's copy of the membership disagrees with
// this node's, "" when it does not: such a node is not sent work.
func (v *MemberView) Problem(id string) string {
	for _, m := range v.Members() {
		if m.ID == id {
			return m.Problem
		}
	}
	return ""
}

// Problems lists every disagreement found, for errors and status.
func (v *MemberView) Problems() []string {
	var out []string
	for _, m := range v.Members() {
		if m.Problem != "" {
			out = append(out, fmt.Sprintf("member %s: %s", m.ID, m.Problem))
		}
	}
	return out
}

type gossipTick struct{}

// Membership keeps the node's copy of the membership: it gossips it,
// merges what it is sent, takes operators' changes, persists every change
// and publishes the ring it implies.
type Membership struct {
	cfg      MembershipConfig
	state    membership.State
	problems map[string]string
	heard    map[string]bool
	repeat   *actor.SendRepeater
	// caughtUp is when the node last gossiped with each peer it heard a
	// request of another version from, so a burst of such requests makes
	// one exchange, not one per request.
	caughtUp map[string]time.Time
}

// NewMembership returns the producer of a node's membership actor.
func NewMembership(cfg MembershipConfig) actor.Producer {
	if cfg.Interval <= 0 {
		cfg.Interval = 500 * time.Millisecond
	}
	if cfg.Up == nil {
		cfg.Up = func(string) bool { return true }
	}
	if cfg.View == nil {
		cfg.View = &MemberView{}
	}
	return func() actor.Receiver {
		m := &Membership{cfg: cfg, state: cfg.State, problems: map[string]string{}, heard: map[string]bool{cfg.Self: true}, caughtUp: map[string]time.Time{}}
		if cfg.HTTP != "" {
			m.state = m.state.SetHTTP(cfg.Self, cfg.HTTP)
		}
		m.publish()
		return m
	}
}

// Receive implements actor.Receiver.
func (m *Membership) Receive(c *actor.Context) {
	switch msg := c.Message().(type) {
	case actor.Started:
		r := c.SendRepeat(c.PID(), gossipTick{}, m.cfg.Interval)
		m.repeat = &r
		m.gossip(c)
	case actor.Stopped:
		if m.repeat != nil {
			m.repeat.Stop()
		}
	case gossipTick:
		m.gossip(c)
	case *messages.Gossip:
		m.received(c, msg)
	case *messages.JoinRequest:
		m.join(c, msg)
	case *messages.LeaveRequest:
		m.leave(c, msg)
	case *PeerVersion:
		m.catchUp(c, msg)
	}
}

// catchUp gossips at once with a node whose request carried another
// membership version: push-pull, so whichever of the two is behind
// catches up within a round trip rather than at the next random round.
func (m *Membership) catchUp(c *actor.Context, pv *PeerVersion) {
	if pv.Version == m.state.Version || pv.Addr == "" || pv.Addr == m.cfg.Addr {
		return
	}
	now := time.Now()
	if now.Sub(m.caughtUp[pv.Addr]) < m.cfg.Interval/2 {
		return
	}
	if len(m.caughtUp) > 4096 {
		clear(m.caughtUp) // bounded whatever senders claim
	}
	m.caughtUp[pv.Addr] = now
	c.Send(MembershipPID(pv.Addr), m.message(false))
}

// gossip sends the state to a random member that is up.
func (m *Membership) gossip(c *actor.Context) {
	var peers []membership.Record
	for _, r := range m.state.Members() {
		if r.ID != m.cfg.Self && m.cfg.Up(r.ID) {
			peers = append(peers, r)
		}
	}
	if len(peers) == 0 {
		return
	}
	p := peers[rand.IntN(len(peers))]
	c.Send(MembershipPID(p.Addr), m.message(false))
}

func (m *Membership) message(reply bool) *messages.Gossip {
	return &messages.Gossip{Node: m.cfg.Self, State: m.state, Coordinators: m.cfg.Coordinators, HTTP: m.cfg.HTTP, Reply: reply}
}

func (m *Membership) received(c *actor.Context, g *messages.Gossip) {
	problem := ""
	merged, err := membership.Merge(m.state, g.State)
	switch {
	case err != nil:
		problem = err.Error()
	case g.Coordinators != m.cfg.Coordinators:
		problem = fmt.Sprintf("%d coordinators, this node has %d", g.Coordinators, m.cfg.Coordinators)
	}
	if problem != m.problems[g.Node] {
		if problem != "" {
			m.cfg.Log.Error().Str("peer", g.Node).Str("problem", problem).
				Msg("member disagrees with this node's configuration; no data is served with it")
		}
		m.problems[g.Node] = problem
		m.publish()
	}
	if problem != "" {
		return
	}
	if !m.heard[g.Node] {
		if _, ok := m.state.Record(g.Node); ok || len(m.heard) < 4096 {
			m.heard[g.Node] = true
			m.publish()
		}
	}
	if g.HTTP != "" {
		merged = merged.SetHTTP(g.Node, g.HTTP)
	}
	m.adopt(c, merged)
	if !g.Reply && !merged.Equal(g.State) {
		c.Respond(m.message(true))
	}
}

// adopt makes s the node's state if it changed anything, persisting it
// and publishing its ring.
func (m *Membership) adopt(c *actor.Context, s membership.State) bool {
	if s.Equal(m.state) {
		return false
	}
	ring, err := s.Ring()
	if err != nil {
		m.cfg.Log.Error().Err(err).Uint64("version", s.Version).Msg("membership: a state without a ring ignored")
		return false
	}
	old := m.state.Version
	m.state = s
	if err := SaveMembership(m.cfg.Store, s); err != nil {
		m.cfg.Log.Error().Err(err).Msg("membership: not persisted")
	}
	if s.Version != old {
		m.cfg.Log.Info().Uint64("version", s.Version).Int("members", len(s.Members())).Msg("membership changed")
		m.cfg.Ring.Store(ring, s.Version)
		if m.cfg.Changed != nil {
			c.Send(m.cfg.Changed, &RingChanged{Version: s.Version})
		}
	}
	m.publish()
	return true
}

func (m *Membership) join(c *actor.Context, r *messages.JoinRequest) {
	fail := func(why string) {
		m.cfg.Log.Warn().Str("peer", r.ID).Str("why", why).Msg("membership: join refused")
		c.Respond(&messages.JoinReply{Err: why})
	}
	want := membership.State{Cluster: r.Cluster, Partitions: r.Partitions, Replicas: r.Replicas}
	if err := membership.Compatible(m.state, want); err != nil {
		fail("the joining node has " + err.Error())
		return
	}
	if r.Coordinators != m.cfg.Coordinators {
		fail(fmt.Sprintf("the joining node runs %d coordinators, the cluster %d", r.Coordinators, m.cfg.Coordinators))
		return
	}
	if rec, ok := m.state.Record(r.ID); ok && rec.Member() && rec.Addr == r.Addr {
		c.Respond(&messages.JoinReply{State: m.state}) // a repeated request: already in
		return
	}
	s, err := m.state.Join(r.ID, r.Addr, r.HTTP)
	if err != nil {
		fail(err.Error())
		return
	}
	m.adopt(c, s)
	c.Respond(&messages.JoinReply{State: m.state})
	m.gossip(c)
}

func (m *Membership) leave(c *actor.Context, r *messages.LeaveRequest) {
	s, err := m.state.Leave(r.ID, r.Remove)
	if err != nil {
		c.Respond(&messages.LeaveReply{Err: err.Error()})
		return
	}
	m.adopt(c, s)
	c.Respond(&messages.LeaveReply{State: m.state})
	m.gossip(c)
}

func (m *Membership) publish() {
	var snap []MemberState
	for _, r := range m.state.Records {
		snap = append(snap, MemberState{Record: r, Problem: m.problems[r.ID], Heard: m.heard[r.ID]})
	}
	// Nodes outside the state that gossiped an incompatible one are
	// reported too.
	for id, p := range m.problems {
		if _, ok := m.state.Record(id); !ok && p != "" {
			snap = append(snap, MemberState{Record: membership.Record{ID: id}, Problem: p})
		}
	}
	slices.SortFunc(snap, func(a, b MemberState) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	m.cfg.View.p.Store(&snap)
	st := m.state
	m.cfg.View.state.Store(&st)
}
