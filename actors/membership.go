package actors

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/transport"
	"github.com/rs/zerolog"
)

// MembershipID names the membership actor on every node (kind PingKind).
const MembershipID = "membership"

// MembershipPID is the membership actor of the node at addr.
func MembershipPID(addr string) *actor.PID {
	return actor.NewPID(addr, PingKind+"/"+MembershipID)
}

// MembershipConfig configures a node's membership actor.
type MembershipConfig struct {
	Self     messages.ClusterHello // this node's view; Reply is ignored
	Interval time.Duration         // how often unconfirmed members are greeted
	View     *MemberView           // where the actor publishes what it learns
	Log      zerolog.Logger
}

// MemberState is what a node knows of one member.
type MemberState struct {
	cluster.Member
	HTTP     string
	Agreed   bool   // answered with the same cluster, Q, N and members
	Problem  string // why it disagrees, when it does
	Up       bool   // the transport reaches it (the local node is always up)
	Answered bool
}

// MemberView is the membership actor's published state: an immutable
// snapshot swapped atomically, so HTTP handlers and coordinators read it
// without messaging or blocking the actor.
type MemberView struct {
	p atomic.Pointer[[]MemberState]
}

// Members returns the latest snapshot; callers must not modify it.
func (v *MemberView) Members() []MemberState {
	if s := v.p.Load(); s != nil {
		return *s
	}
	return nil
}

// Problem returns why member id disagrees with this node's configuration,
// "" when it does not (or is unknown): such a member is not sent work.
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

type membershipTick struct{}

// Membership checks that every member runs with the same cluster name,
// Q, N and member list, learns the members' HTTP addresses, and tracks
// which peers the transport reaches.
type Membership struct {
	cfg     MembershipConfig
	members []MemberState
	repeat  *actor.SendRepeater
}

// NewMembership returns the producer of a node's membership actor.
func NewMembership(cfg MembershipConfig) actor.Producer {
	return func() actor.Receiver {
		m := &Membership{cfg: cfg}
		for _, cm := range cfg.Self.Members {
			st := MemberState{Member: cluster.Member{ID: cm.ID, Addr: cm.Addr}, Up: true}
			if cm.ID == cfg.Self.Node {
				st.HTTP, st.Agreed, st.Answered = cfg.Self.HTTP, true, true
			}
			m.members = append(m.members, st)
		}
		return m
	}
}

// Receive implements actor.Receiver.
func (m *Membership) Receive(c *actor.Context) {
	switch msg := c.Message().(type) {
	case actor.Started:
		c.Engine().Subscribe(c.PID())
		r := c.SendRepeat(c.PID(), membershipTick{}, m.cfg.Interval)
		m.repeat = &r
		m.greet(c)
		m.publish()
	case actor.Stopped:
		if m.repeat != nil {
			m.repeat.Stop()
		}
		c.Engine().Unsubscribe(c.PID())
	case membershipTick:
		m.greet(c)
	case *messages.ClusterHello:
		m.hello(c, msg)
	case transport.PeerUp:
		m.setUp(msg.Addr, true)
	case transport.PeerDown:
		m.setUp(msg.Addr, false)
	}
}

// greet sends our hello to every member that has not answered yet.
func (m *Membership) greet(c *actor.Context) {
	for _, st := range m.members {
		if !st.Answered {
			hello := m.cfg.Self
			hello.Reply = false
			c.Send(MembershipPID(st.Addr), &hello)
		}
	}
}

func (m *Membership) hello(c *actor.Context, h *messages.ClusterHello) {
	i := slices.IndexFunc(m.members, func(s MemberState) bool { return s.ID == h.Node })
	if i < 0 {
		m.cfg.Log.Error().Str("peer", h.Node).Msg("greeted by a node that is not a member; ignoring it")
	} else {
		st := &m.members[i]
		problem := CompareHello(m.cfg.Self, *h)
		if problem != st.Problem && problem != "" {
			m.cfg.Log.Error().Str("peer", h.Node).Str("problem", problem).
				Msg("member disagrees with this node's configuration; no data is served with it")
		}
		st.Answered, st.HTTP, st.Problem, st.Agreed, st.Up = true, h.HTTP, problem, problem == "", true
		m.publish()
	}
	if !h.Reply && i >= 0 {
		reply := m.cfg.Self
		reply.Reply = true
		c.Send(MembershipPID(m.members[i].Addr), &reply)
	}
}

func (m *Membership) setUp(addr string, up bool) {
	for i := range m.members {
		if m.members[i].Addr == addr && m.members[i].ID != m.cfg.Self.Node {
			m.members[i].Up = up
			if !up {
				// A restarted member may come back with another configuration.
				m.members[i].Answered = false
			}
		}
	}
	m.publish()
}

func (m *Membership) publish() {
	if m.cfg.View != nil {
		snap := slices.Clone(m.members)
		m.cfg.View.p.Store(&snap)
	}
}

// CompareHello says how other's view differs from self's, or "" when they
// agree on the cluster name, Q, N, the coordinator count and the ordered
// member list.
func CompareHello(self, other messages.ClusterHello) string {
	switch {
	case self.Cluster != other.Cluster:
		return fmt.Sprintf("cluster name %q, this node has %q", other.Cluster, self.Cluster)
	case self.Partitions != other.Partitions:
		return fmt.Sprintf("Q=%d partitions, this node has Q=%d", other.Partitions, self.Partitions)
	case self.Replicas != other.Replicas:
		return fmt.Sprintf("N=%d replicas, this node has N=%d", other.Replicas, self.Replicas)
	case self.Coordinators != other.Coordinators:
		return fmt.Sprintf("%d coordinators, this node has %d", other.Coordinators, self.Coordinators)
	case !slices.Equal(self.Members, other.Members):
		return fmt.Sprintf("members %s, this node has %s", memberList(other.Members), memberList(self.Members))
	}
	return ""
}

func memberList(ms []messages.ClusterMember) string {
	s := "["
	for i, m := range ms {
		if i > 0 {
			s += " "
		}
		s += m.ID + "=" + m.Addr
	}
	return s + "]"
}
