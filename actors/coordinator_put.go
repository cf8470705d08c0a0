package actors

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/protocol"
	"github.com/dynamokv/dynamo/quorum"
	"github.com/dynamokv/dynamo/version"
)

// The put protocol (protocol.Put): the coordinator must be one of the
// key's targets, because the new version's dot is its own node's counter:
// its vnode, or as a stand-in its hint buffer, writes first
// (CoordinatePut); the set it then holds goes to the other targets
// (ReplicaPut to home nodes, HintPut to stand-ins), and the client is
// answered at W acknowledgements. A node that is not a target forwards
// the put (protocol.Forward); the target asks it before coordinating
// (PutTake), so that a write is never coordinated twice.

func (co *Coordinator) clientPut(c *actor.Context, m *messages.ClientPut) {
	if !co.admit(c, m.Key, true) {
		return
	}
	if max := co.cfg.MaxValueSize; max > 0 && !m.Delete && len(m.Value) > max {
		co.reject(c, messages.StatusTooLarge, fmt.Sprintf("value of %d bytes is over the limit of %d bytes", len(m.Value), max), true)
		return
	}
	// The context comes from outside: a malformed one (unsorted, a zero
	// or huge counter) would break the clock invariants dots and the
	// replicas rely on.
	if err := errors.Join(m.Context.Validate(), m.Also.Validate()); err != nil {
		co.reject(c, messages.StatusBadRequest, "malformed context: "+err.Error(), true)
		return
	}
	if m.Delete && len(m.Context) == 0 && len(m.Also) == 0 {
		co.reject(c, messages.StatusBadRequest, "delete needs the context of a read", true)
		return
	}
	p := co.cfg.Ring.Load().PartitionOf(m.Key)
	n := len(co.cfg.Ring.Load().PreferenceList(p))
	if _, err := quorum.Resolve("W", m.W, co.cfg.WriteQuorum, n); err != nil {
		co.reject(c, messages.StatusBadRequest, err.Error(), true)
		return
	}
	if m.PW < 0 || m.PW > n {
		co.reject(c, messages.StatusBadRequest, fmt.Sprintf("PW=%d out of range 0..%d (N=%d)", m.PW, n, n), true)
		return
	}
	targets := co.targets(p)
	i := indexOf(targets, co.cfg.Node)
	switch {
	case m.ID != 0 && i < 0:
		co.reforward(c, m, p, targets)
	case m.ID != 0:
		co.awaitGo(c, m)
	case i >= 0 && (!targets[i].StandIn() || targets[0].StandIn()):
		// A home node coordinates; a stand-in only when no home node is
		// up, since its dots and its cautious reply contexts are a cost.
		co.coordinatePut(c, c.Sender(), m, p, targets)
	default:
		co.forward(c, m, p, targets)
	}
}

func indexOf(ts []protocol.Target, node string) int {
	for i, t := range ts {
		if t.Node == node {
			return i
		}
	}
	return -1
}

// coordinatePut starts the put core for a write this node coordinates.
func (co *Coordinator) coordinatePut(c *actor.Context, client *actor.PID, m *messages.ClientPut, p int, targets []protocol.Target) {
	n := len(co.cfg.Ring.Load().PreferenceList(p))
	w, _ := quorum.Resolve("W", m.W, co.cfg.WriteQuorum, n) // checked on arrival
	put, actions, err := protocol.NewPut(protocol.PutSpec{Self: co.cfg.Node, Targets: targets, W: w, PW: m.PW, Timeout: co.cfg.Timeout})
	if err != nil {
		co.stats.Unavailable++
		if client != nil {
			reply := &messages.ClientPutReply{Status: messages.StatusUnavailable, Err: err.Error()}
			co.answered(&request{msg: m}, reply)
			c.Engine().Send(client, co.stamp(reply))
		}
		return
	}
	co.stats.Puts++
	r := co.begin(c, client, m.Key, p, false)
	r.put, r.msg = put, m
	co.run(c, r, actions)
}

// writeLocal asks this node's vnode, or its hint buffer as a stand-in, to
// make and store the version.
func (co *Coordinator) writeLocal(c *actor.Context, r *request, a protocol.WriteLocal) {
	msg := &messages.CoordinatePut{ReqID: r.id, Partition: r.partition, Key: r.key, Value: r.msg.Value,
		Delete: r.msg.Delete, Context: r.msg.Context, Also: r.msg.Also, Home: a.Home}
	if a.Home == "" {
		c.Send(co.vnodePID(co.selfAdr, r.partition), msg)
		return
	}
	co.stats.StandIn++
	c.Send(HintsPID(co.selfAdr), msg)
}

// replicate sends the coordinating replica's set to another target.
func (co *Coordinator) replicate(c *actor.Context, r *request, a protocol.Replicate) {
	addr, ok := co.addr(a.Target.Node)
	if !ok {
		co.run(c, r, r.put.Ack(a.Target.Node, "not a member of the ring"))
		return
	}
	id := r.id
	if a.NoAck {
		id = 0
		co.stats.Repairs++
	}
	if a.Target.StandIn() {
		co.stats.Hinted++
		c.Send(HintsPID(addr), &messages.HintPut{ReqID: id, Home: a.Target.Home, Partition: r.partition, Key: r.key, Versions: a.Versions})
		return
	}
	c.Send(co.vnodePID(addr, r.partition), &messages.ReplicaPut{ReqID: id, Partition: r.partition, Key: r.key, Versions: a.Versions, Ring: co.cfg.Ring.Version()})
}

func (co *Coordinator) putReply(c *actor.Context, r *request, a protocol.PutReply) {
	switch a.Status {
	case messages.StatusTooLarge:
		co.stats.TooLarge++
	case messages.StatusUnavailable:
		co.stats.Unavailable++
		if e := co.debug(r); e != nil {
			e.Str("err", a.Err).Bool("unknown", a.Unknown).Msg("coordinator: put unavailable")
		}
	}
	co.reply(c, r, &messages.ClientPutReply{Status: a.Status, Err: a.Err, Context: a.Context, Also: a.Also, Unknown: a.Unknown})
}

func (co *Coordinator) coordinatePutDone(c *actor.Context, m *messages.CoordinatePutDone) {
	r := co.open[m.ReqID]
	if r == nil || r.put == nil {
		co.stats.Late++
		co.replicateLate(c, m)
		return
	}
	co.run(c, r, r.put.Local(protocol.LocalResult{Set: replicaSet(m), Reply: m.Reply, ReplyAlso: m.ReplyAlso, Err: m.Err,
		Status: m.Status, MaybeStored: m.MaybeStored}))
}

func (co *Coordinator) replicaPutAck(c *actor.Context, m *messages.ReplicaPutAck) {
	r := co.lookup(m.ReqID, m.Node)
	if r == nil {
		return
	}
	if r.put == nil {
		co.warn(r).Str("peer", m.Node).Msg("coordinator: ReplicaPutAck for a get ignored")
		return
	}
	if m.Err != "" {
		co.debug(r).Str("peer", m.Node).Str("err", m.Err).Msg("coordinator: replica write failed")
	}
	co.run(c, r, r.put.Ack(m.Node, m.Err))
}

// replicaSet is what the other targets are sent: the coordinating
// replica's whole set, so that a replica never holds a node's later dot
// without the earlier ones still alive, which the contexts of its reads
// would claim. A vnode that does not report its set sends the new version
// alone.
func replicaSet(m *messages.CoordinatePutDone) version.Siblings {
	if len(m.Set) == 0 && m.Err == "" {
		return version.Siblings{m.Version}
	}
	return m.Set
}

// replicateLate handles the local write's answer to a put that has ended
// without it, past even the last wait: it was stored, and left there it
// would sit on one replica only. It goes to the home nodes as read repair
// goes (ReqID 0, no answer awaited).
func (co *Coordinator) replicateLate(c *actor.Context, m *messages.CoordinatePutDone) {
	if m.Err != "" || len(m.Key) == 0 {
		return
	}
	p := co.cfg.Ring.Load().PartitionOf(m.Key)
	if uint32(p) != m.Partition {
		return // not from a vnode of this ring; nothing to trust
	}
	repair := &messages.ReplicaPut{Partition: m.Partition, Key: m.Key, Versions: replicaSet(m), Ring: co.cfg.Ring.Version()}
	for _, id := range co.cfg.Ring.Load().PreferenceList(p) {
		if id == co.cfg.Node {
			continue
		}
		if addr, ok := co.addr(id); ok {
			c.Send(co.vnodePID(addr, m.Partition), repair)
			co.stats.Repairs++
		}
	}
	co.log.Debug().Uint64("req", m.ReqID).Uint32("partition", m.Partition).Uint64("key_hash", keyHash(m.Key)).
		Msg("coordinator: late local write sent to the home nodes")
}

// forward hands a put to a coordinator of its first target, trying the
// next when one does not take it in time (protocol.Forward).
func (co *Coordinator) forward(c *actor.Context, m *messages.ClientPut, p int, targets []protocol.Target) {
	if m.Hops > MaxForwardHops {
		co.reject(c, messages.StatusUnavailable, fmt.Sprintf(
			"not a target of partition %d and the put was forwarded %d times already: do the nodes agree on the ring?",
			p, m.Hops), true)
		return
	}
	var cands []string
	for _, t := range targets {
		cands = append(cands, t.Node)
	}
	f, actions, err := protocol.NewForward(cands, co.cfg.ForwardWait)
	if err != nil {
		co.reject(c, messages.StatusUnavailable, fmt.Sprintf("partition %d: %v", p, err), true)
		return
	}
	fwd := *m // the sender may still hold m: never modify a received message
	fwd.ID, fwd.Origin = rand.Uint64()|1, co.selfAdr
	r := &request{id: fwd.ID, client: c.Sender(), key: m.Key, partition: uint32(p), fwd: f, msg: &fwd}
	co.forwards[r.id] = r
	co.run(c, r, actions)
}

func (co *Coordinator) sendForward(c *actor.Context, r *request, to string) {
	if addr, ok := co.addr(to); ok {
		fwd := *r.msg
		fwd.Hops++
		co.stats.Forwarded++
		co.cfg.Metrics.Forwarded()
		co.log.Debug().Uint32("partition", r.partition).Uint64("key_hash", keyHash(r.key)).Str("peer", to).
			Msg("coordinator: put forwarded to a target")
		c.Engine().SendWithSender(CoordinatorPID(addr, CoordinatorFor(r.key, co.cfg.Coordinators)), &fwd, r.client)
	}
	co.arm(c, r, timerForward, co.cfg.ForwardWait)
}

// reforward passes on a forwarded put that reached a node which is not
// among its targets either (the nodes' views of who is up differ); the
// origin stays the one to ask. Past the hop bound it is dropped, and the
// origin tries its next target or answers.
func (co *Coordinator) reforward(c *actor.Context, m *messages.ClientPut, p int, targets []protocol.Target) {
	if m.Hops > MaxForwardHops || len(targets) == 0 {
		co.log.Debug().Uint64("write", m.ID).Int("hops", m.Hops).Uint32("partition", uint32(p)).
			Msg("coordinator: forwarded put dropped: no target here")
		return
	}
	addr, ok := co.addr(targets[0].Node)
	if !ok {
		return
	}
	fwd := *m
	fwd.Hops++
	c.Engine().SendWithSender(CoordinatorPID(addr, CoordinatorFor(m.Key, co.cfg.Coordinators)), &fwd, c.Sender())
}

// awaitGo parks a forwarded put and asks its origin whether to take it.
func (co *Coordinator) awaitGo(c *actor.Context, m *messages.ClientPut) {
	if _, dup := co.taking[m.ID]; dup {
		return // a duplicated frame
	}
	r := &request{id: m.ID, client: c.Sender(), key: m.Key, msg: m, waitingGo: true}
	co.taking[m.ID] = r
	c.Send(CoordinatorPID(m.Origin, CoordinatorFor(m.Key, co.cfg.Coordinators)),
		&messages.PutTake{ID: m.ID, Node: co.cfg.Node, Addr: co.selfAdr})
	co.arm(c, r, timerTake, 4*co.cfg.ForwardWait)
}

// putTake answers a target asking for a put this node forwarded: the
// first asker gets it; any other, or one for a write no longer tracked,
// is told to drop it.
func (co *Coordinator) putTake(c *actor.Context, m *messages.PutTake) {
	if r := co.forwards[m.ID]; r != nil {
		co.run(c, r, r.fwd.Take(m.Addr))
		return
	}
	c.Send(c.Sender(), &messages.PutAbort{ID: m.ID})
}

// putGo starts coordinating a forwarded put the origin gave this node.
func (co *Coordinator) putGo(c *actor.Context, m *messages.PutGo) {
	r := co.taking[m.ID]
	if r == nil {
		return
	}
	co.finish(r)
	p := co.cfg.Ring.Load().PartitionOf(r.key)
	targets := co.targets(p)
	if indexOf(targets, co.cfg.Node) < 0 {
		// Since it asked, this node lost its place among the targets (a
		// peer it suspected came back). The origin will give the write to
		// nobody else, and nothing was stored: say so.
		co.stats.Unavailable++
		co.reply(c, r, &messages.ClientPutReply{Status: messages.StatusUnavailable,
			Err: "the targets changed while the forwarded write was handed over: nothing was stored"})
		return
	}
	fwd := *r.msg
	fwd.ID, fwd.Origin = 0, ""
	co.coordinatePut(c, r.client, &fwd, p, targets)
}

func (co *Coordinator) putAbort(m *messages.PutAbort) {
	if r := co.taking[m.ID]; r != nil {
		co.stats.Aborted++
		co.finish(r)
	}
}
