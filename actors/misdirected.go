package actors

import (
	"fmt"
	"strings"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// MisdirectedKind and MisdirectedID name a node's answerer of messages
// that found no actor.
const (
	MisdirectedKind = "misdirected"
	MisdirectedID   = "local"
)

// MisdirectedConfig configures a node's answerer of misdirected requests.
type MisdirectedConfig struct {
	Node string
	// Version returns the node's membership version, 0 before it has one
	// (a node still joining). Called inside Receive; must not block.
	Version func() uint64
	// Membership is told of requests from nodes on another membership
	// version (PeerVersion); nil before it runs.
	Membership *actor.PID
}

// Misdirected answers, with an error rather than silence, the requests
// that reach a node for an actor it does not run: a vnode of a partition
// it does not hold (the sender's ring differs from the node's), or a
// coordinator while the node is still starting (a joining node is in the
// members' rings a moment before its actors run) or already stopping.
// The sender hears at once, rather than waiting out its timer; a client
// told that nothing was stored may try another node. It is spawned before
// anything else, and subscribes to the engine's dead letters.
type Misdirected struct{ cfg MisdirectedConfig }

// NewMisdirected returns the producer of a node's misdirected answerer.
func NewMisdirected(cfg MisdirectedConfig) actor.Producer {
	if cfg.Version == nil {
		cfg.Version = func() uint64 { return 0 }
	}
	return func() actor.Receiver { return &Misdirected{cfg: cfg} }
}

// Receive implements actor.Receiver.
func (m *Misdirected) Receive(c *actor.Context) {
	switch ev := c.Message().(type) {
	case actor.Started:
		c.Engine().Subscribe(c.PID())
	case actor.Stopped:
		c.Engine().Unsubscribe(c.PID())
	case actor.DeadLetterEvent:
		m.answer(c, ev)
	}
}

func (m *Misdirected) answer(c *actor.Context, ev actor.DeadLetterEvent) {
	if ev.Sender == nil || ev.Target == nil {
		return
	}
	version := m.cfg.Version()
	var reply any
	ring := uint64(0)
	switch {
	case strings.HasPrefix(ev.Target.ID, VnodeKind+"/"):
		why := fmt.Sprintf("no replica of this partition on %s (membership version %d)", m.cfg.Node, version)
		switch msg := ev.Message.(type) {
		case *messages.ReplicaGet:
			ring = msg.Ring
			reply = &messages.ReplicaGetReply{ReqID: msg.ReqID, Node: m.cfg.Node, Err: why}
		case *messages.ReplicaPut:
			ring = msg.Ring
			if msg.ReqID != 0 {
				reply = &messages.ReplicaPutAck{ReqID: msg.ReqID, Node: m.cfg.Node, Err: why}
			}
		case *messages.TreeRequest:
			reply = &messages.TreeReply{ReqID: msg.ReqID, Node: m.cfg.Node, Err: why}
		case *messages.SegmentRequest:
			reply = &messages.SegmentReply{ReqID: msg.ReqID, Node: m.cfg.Node, Err: why}
		case *messages.SyncGet:
			reply = &messages.SyncSets{ReqID: msg.ReqID, Node: m.cfg.Node, Err: why}
		case *messages.SyncPut:
			reply = &messages.SyncPutAck{ReqID: msg.ReqID, Node: m.cfg.Node, Err: why}
		}
	case strings.HasPrefix(ev.Target.ID, CoordinatorKind+"/"):
		why := fmt.Sprintf("node %s is starting or stopping: its coordinators do not run; nothing was done", m.cfg.Node)
		switch ev.Message.(type) {
		case *messages.ClientPut:
			reply = &messages.ClientPutReply{Status: messages.StatusUnavailable, Err: why}
		case *messages.ClientGet:
			reply = &messages.ClientGetReply{Status: messages.StatusUnavailable, Err: why}
		}
	}
	if reply != nil {
		c.Send(ev.Sender, reply)
	}
	if ring != 0 && ring != version && m.cfg.Membership != nil {
		c.Send(m.cfg.Membership, &PeerVersion{Addr: ev.Sender.Address, Version: ring})
	}
}
