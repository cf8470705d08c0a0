package actors

import (
	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// PingKind and PingID name the ping actor every node runs, so a client can
// build its PID from a node's address alone: actor.NewPID(addr, PingPID).
const (
	PingKind = "dynamo"
	PingID   = "ping"
	PingPID  = PingKind + "/" + PingID
)

// Pinger answers messages.Ping with messages.Pong carrying the node's ID.
type Pinger struct {
	node string
}

// NewPinger returns the producer of a node's ping actor.
func NewPinger(node string) actor.Producer {
	return func() actor.Receiver { return &Pinger{node: node} }
}

// Receive implements actor.Receiver.
func (p *Pinger) Receive(c *actor.Context) {
	if m, ok := c.Message().(*messages.Ping); ok {
		c.Respond(&messages.Pong{Seq: m.Seq, Sent: m.Sent, Node: p.node})
	}
}
