package actors

import (
	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/protocol"
)

// The coordinator's shell over the protocol cores: each action a core
// returns becomes a message, a reply or the end of the request.

// run executes what a core decided.
func (co *Coordinator) run(c *actor.Context, r *request, actions []protocol.Action) {
	for _, a := range actions {
		switch a := a.(type) {
		case protocol.WriteLocal:
			co.writeLocal(c, r, a)
		case protocol.Replicate:
			co.replicate(c, r, a)
		case protocol.Read:
			co.read(c, r, a)
		case protocol.Repair:
			if addr, ok := co.addr(a.Node); ok {
				c.Send(co.vnodePID(addr, r.partition), &messages.ReplicaPut{Partition: r.partition, Key: r.key, Versions: a.Versions, Ring: co.cfg.Ring.Version()})
				co.stats.Repairs++
				co.cfg.Metrics.ReadRepair()
			}
		case protocol.Reap:
			msg := &messages.ReplicaReap{Partition: r.partition, Key: r.key, Dots: a.Dots}
			for _, id := range a.Nodes {
				if addr, ok := co.addr(id); ok {
					c.Send(co.vnodePID(addr, r.partition), msg)
				}
			}
			co.stats.Reaps++
		case protocol.PutReply:
			co.putReply(c, r, a)
		case protocol.GetReply:
			co.getReply(c, r, a)
		case protocol.Unanswered:
			if co.cfg.Detector != nil {
				for _, id := range a.Nodes {
					c.Send(co.cfg.Detector, &Unanswered{Node: id})
				}
			}
			if e := co.debug(r); e != nil {
				e.Strs("waiting", a.Nodes).Msg("coordinator: request ended without every target's answer")
			}
		case protocol.SendForward:
			co.sendForward(c, r, a.To)
		case protocol.Go:
			if addr := a.To; addr != "" {
				c.Send(CoordinatorPID(addr, CoordinatorFor(r.key, co.cfg.Coordinators)), &messages.PutGo{ID: r.id})
			}
		case protocol.Finish:
			co.finish(r)
		}
	}
}

// finish ends a request: later answers to it count as late.
func (co *Coordinator) finish(r *request) {
	r.timer.Stop()
	switch {
	case r.fwd != nil:
		delete(co.forwards, r.id)
	case r.waitingGo:
		delete(co.taking, r.id)
	default:
		delete(co.open, r.id)
	}
}

// reply answers r's client.
func (co *Coordinator) reply(c *actor.Context, r *request, msg any) {
	if r.client != nil {
		co.answered(r, msg)
		c.Engine().Send(r.client, co.stamp(msg))
	}
}

// stamp sets the ring version on a client's answer.
func (co *Coordinator) stamp(msg any) any {
	switch m := msg.(type) {
	case *messages.ClientGetReply:
		m.Ring = co.cfg.Ring.Version()
	case *messages.ClientPutReply:
		m.Ring = co.cfg.Ring.Version()
	}
	return msg
}
