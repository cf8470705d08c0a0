package actors

import (
	"fmt"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/quorum"
)

// The get protocol: any node may coordinate a read. Every replica is
// asked; the client is answered at R answers, but the request stays open
// until all N answered or the timer fired, so that the slower replicas'
// answers can still be compared and the stale ones repaired.

func (co *Coordinator) clientGet(c *actor.Context, m *messages.ClientGet) {
	if !co.admit(c, m.Key, false) {
		return
	}
	p := co.cfg.Ring.PartitionOf(m.Key)
	pref := co.cfg.Ring.PreferenceList(p)
	n, err := quorum.Resolve("R", m.R, co.cfg.ReadQuorum, len(pref))
	if err != nil {
		co.reject(c, messages.StatusBadRequest, err.Error(), false)
		return
	}
	read, err := quorum.NewRead(pref, n)
	if err != nil { // Resolve checked the range; kept so a bug answers instead of hanging
		co.reject(c, messages.StatusBadRequest, err.Error(), false)
		return
	}
	co.stats.Gets++
	r := co.begin(c, m.Key, p, pref)
	r.read = read
	get := &messages.ReplicaGet{ReqID: r.id, Partition: r.partition, Key: m.Key}
	for _, id := range pref {
		addr, ok := co.addr(id)
		if !ok {
			co.decideGet(c, r, read.Fail(id, "not a member of the ring"))
			continue
		}
		c.Send(VnodePID(addr, r.partition), get)
	}
	if read.Tally().Complete() {
		co.closeGet(c, r)
	}
}

func (co *Coordinator) replicaGetReply(c *actor.Context, m *messages.ReplicaGetReply) {
	r := co.lookup(m.ReqID, m.Node)
	if r == nil {
		return
	}
	if r.read == nil {
		co.warn(r).Str("peer", m.Node).Msg("coordinator: ReplicaGetReply for a put ignored")
		return
	}
	var verdict quorum.Verdict
	if m.Err != "" {
		co.debug(r).Str("peer", m.Node).Str("err", m.Err).Msg("coordinator: replica read failed")
		verdict = r.read.Fail(m.Node, m.Err)
	} else {
		verdict = r.read.Answer(m.Node, m.Versions)
	}
	co.decideGet(c, r, verdict)
	if r.read.Tally().Complete() {
		co.closeGet(c, r)
	}
}

// decideGet answers the client when the tally has just decided. The
// answer reconciles the answers so far; the context covers tombstones
// too, so a not-found answer still lets the client overwrite them.
func (co *Coordinator) decideGet(c *actor.Context, r *request, v quorum.Verdict) {
	switch v {
	case quorum.Reached:
		res := r.read.Result()
		reply := &messages.ClientGetReply{Status: messages.StatusOK, Context: res.Context()}
		for _, ver := range res.Live() {
			reply.Values = append(reply.Values, ver.Value)
		}
		if len(reply.Values) == 0 {
			reply.Status = messages.StatusNotFound
		}
		if n := replyBytes(reply); co.cfg.MaxReplyBytes > 0 && n > co.cfg.MaxReplyBytes && r.client != nil &&
			r.client.Address != c.Engine().Address() {
			co.stats.TooLarge++
			reply = &messages.ClientGetReply{Status: messages.StatusTooLarge, Err: fmt.Sprintf(
				"the key's %d siblings take %d bytes, over the %d a reply over the peer transport may carry: "+
					"read it over HTTP and write with its context to resolve them", len(reply.Values), n, co.cfg.MaxReplyBytes)}
		}
		co.reply(c, r, reply)
	case quorum.Failed:
		co.unavailable(c, r, r.read.Tally().FailureError())
	}
}

// closeGet ends a read and sends the reconciled versions to every replica
// whose answer differed from them. Repairs expect no answer (ReqID 0).
func (co *Coordinator) closeGet(c *actor.Context, r *request) {
	co.finish(r)
	final, stale := r.read.Repairs()
	if len(stale) == 0 {
		co.reap(c, r)
		return
	}
	repair := &messages.ReplicaPut{Partition: r.partition, Key: r.key, Versions: final}
	for _, id := range stale {
		if addr, ok := co.addr(id); ok {
			c.Send(VnodePID(addr, r.partition), repair)
			co.stats.Repairs++
		}
	}
	co.debug(r).Strs("peers", stale).Int("versions", len(final)).Msg("coordinator: read repair sent")
}

// reap asks every replica to delete the key when the read found it
// deleted, the same on all of them, for longer than the grace. Without it
// deleted keys would stay in the store for good as tombstones.
func (co *Coordinator) reap(c *actor.Context, r *request) {
	if co.cfg.TombstoneGrace <= 0 {
		return
	}
	tombs := r.read.Reapable(co.cfg.Now() - co.cfg.TombstoneGrace.Nanoseconds())
	if tombs == nil {
		return
	}
	msg := &messages.ReplicaReap{Partition: r.partition, Key: r.key}
	for _, v := range tombs {
		msg.Dots = append(msg.Dots, v.Dot)
	}
	for _, id := range r.replicas {
		if addr, ok := co.addr(id); ok {
			c.Send(VnodePID(addr, r.partition), msg)
		}
	}
	co.stats.Reaps++
	co.debug(r).Int("tombstones", len(tombs)).Msg("coordinator: tombstones collected")
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
	return n
}
