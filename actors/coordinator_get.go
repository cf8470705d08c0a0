package actors

import (
	"fmt"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/protocol"
	"github.com/dynamokv/dynamo/quorum"
)

// The get protocol (protocol.Get): any node may coordinate a read. R
// targets are asked first (home nodes' vnodes, stand-ins' hint buffers;
// this node's own first), the others when one fails, when the first are
// slower than the hedge, or when their answers disagree; the client is
// answered at R answers, and stale home nodes among those that answered
// are repaired.

func (co *Coordinator) clientGet(c *actor.Context, m *messages.ClientGet) {
	if !co.admit(c, m.Key, false) {
		return
	}
	p := co.cfg.Ring.Load().PartitionOf(m.Key)
	n := len(co.cfg.Ring.Load().PreferenceList(p))
	r, err := quorum.Resolve("R", m.R, co.cfg.ReadQuorum, n)
	if err != nil {
		co.reject(c, messages.StatusBadRequest, err.Error(), false)
		return
	}
	if m.PR < 0 || m.PR > n {
		co.reject(c, messages.StatusBadRequest, fmt.Sprintf("PR=%d out of range 0..%d (N=%d)", m.PR, n, n), false)
		return
	}
	spec := protocol.GetSpec{Targets: co.targets(p), R: r, PR: m.PR, Timeout: co.cfg.Timeout, N: n,
		Self: co.cfg.Node, AskAll: co.cfg.ReadHedge < 0, Digests: !co.cfg.NoDigests}
	if co.cfg.TombstoneGrace > 0 {
		spec.ReapBefore = co.cfg.Now() - co.cfg.TombstoneGrace.Nanoseconds()
	}
	get, actions, err := protocol.NewGet(spec)
	if err != nil {
		co.reject(c, messages.StatusUnavailable, err.Error(), false)
		return
	}
	co.stats.Gets++
	req := co.begin(c, c.Sender(), m.Key, p, get.Unasked())
	req.get = get
	co.run(c, req, actions)
}

// read asks one target for what it holds.
func (co *Coordinator) read(c *actor.Context, r *request, a protocol.Read) {
	addr, ok := co.addr(a.Target.Node)
	if !ok {
		co.run(c, r, r.get.Fail(a.Target.Node, "not a member of the ring"))
		return
	}
	if a.Target.StandIn() {
		c.Send(HintsPID(addr), &messages.HintGet{ReqID: r.id, Home: a.Target.Home, Partition: r.partition, Key: r.key})
		return
	}
	c.Send(co.vnodePID(addr, r.partition), &messages.ReplicaGet{ReqID: r.id, Partition: r.partition, Key: r.key, Ring: co.cfg.Ring.Version(),
		Digest: a.Digest})
}

func (co *Coordinator) replicaGetReply(c *actor.Context, m *messages.ReplicaGetReply) {
	r := co.lookup(m.ReqID, m.Node)
	if r == nil {
		return
	}
	if r.get == nil {
		co.warn(r).Str("peer", m.Node).Msg("coordinator: ReplicaGetReply for a put ignored")
		return
	}
	if m.Err != "" {
		co.debug(r).Str("peer", m.Node).Str("err", m.Err).Msg("coordinator: replica read failed")
		co.run(c, r, r.get.Fail(m.Node, m.Err))
		return
	}
	if m.Partial {
		// New to the partition and not filled yet: what it lacks is not
		// evidence that the key is absent.
		co.run(c, r, r.get.Fail(m.Node, "new to the partition, still being filled"))
		return
	}
	if m.Digest {
		co.run(c, r, r.get.Digest(m.Node, m.Hash))
		return
	}
	co.run(c, r, r.get.AnswerHashed(m.Node, m.Versions, m.Hash))
}

// getReply answers the client, refusing (413) an answer that cannot
// travel in one frame to a client on another process.
func (co *Coordinator) getReply(c *actor.Context, r *request, a protocol.GetReply) {
	reply := &messages.ClientGetReply{Status: a.Status, Err: a.Err, Values: a.Values, Context: a.Context, Also: a.Also}
	if a.Status == messages.StatusUnavailable {
		co.stats.Unavailable++
		co.debug(r).Str("err", a.Err).Msg("coordinator: get unavailable")
	}
	if n := replyBytes(reply); co.cfg.MaxReplyBytes > 0 && n > co.cfg.MaxReplyBytes && r.client != nil &&
		r.client.Address != c.Engine().Address() {
		co.stats.TooLarge++
		reply = &messages.ClientGetReply{Status: messages.StatusTooLarge, Err: fmt.Sprintf(
			"the key's %d siblings take %d bytes, over the %d a reply over the peer transport may carry: "+
				"read it over HTTP and write with its context to resolve them", len(reply.Values), n, co.cfg.MaxReplyBytes)}
	}
	co.reply(c, r, reply)
}

// replyBytes estimates the encoded size of a read's answer.
func replyBytes(m *messages.ClientGetReply) int {
	n := 64
	for _, v := range m.Values {
		n += len(v) + 5
	}
	for _, e := range m.Context {
		n += len(e.Node) + 24
	}
	for _, d := range m.Also {
		n += len(d.Node) + 24
	}
	return n
}
