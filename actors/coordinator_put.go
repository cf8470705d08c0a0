package actors

import (
	"fmt"
	"slices"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/quorum"
	"github.com/dynamokv/dynamo/version"
)

// The put protocol: the coordinator must be a replica of the key, because
// the new version's dot is its own node's counter and only the node's
// vnode knows the counters it used. So the local vnode writes first
// (CoordinatePut), which counts as the first ack; its sibling set then
// goes to the other replicas (ReplicaPut) and the client is answered at W
// acks. A local write that finishes after the request's timer is still
// replicated (replicateLate).

func (co *Coordinator) clientPut(c *actor.Context, m *messages.ClientPut) {
	if !co.admit(c, m.Key, true) {
		return
	}
	if max := co.cfg.MaxValueSize; max > 0 && !m.Delete && len(m.Value) > max {
		co.reject(c, messages.StatusTooLarge, fmt.Sprintf("value of %d bytes is over the limit of %d bytes", len(m.Value), max), true)
		return
	}
	// The context comes from outside: a malformed one (unsorted, a zero
	// or huge counter) would break the clock invariants NextDot and the
	// replicas rely on.
	if err := m.Context.Validate(); err != nil {
		co.reject(c, messages.StatusBadRequest, "malformed context: "+err.Error(), true)
		return
	}
	if m.Delete && len(m.Context) == 0 {
		co.reject(c, messages.StatusBadRequest, "delete needs the context of a read", true)
		return
	}
	p := co.cfg.Ring.PartitionOf(m.Key)
	pref := co.cfg.Ring.PreferenceList(p)
	w, err := quorum.Resolve("W", m.W, co.cfg.WriteQuorum, len(pref))
	if err != nil {
		co.reject(c, messages.StatusBadRequest, err.Error(), true)
		return
	}
	if !slices.Contains(pref, co.cfg.Node) {
		co.forward(c, m, p, pref)
		return
	}
	tally, err := quorum.NewTally(pref, w)
	if err != nil { // Resolve checked the range; kept so a bug answers instead of hanging
		co.reject(c, messages.StatusBadRequest, err.Error(), true)
		return
	}
	co.stats.Puts++
	r := co.begin(c, m.Key, p, pref)
	r.write = tally
	c.Send(VnodePID(co.selfAdr, r.partition), &messages.CoordinatePut{
		ReqID:     r.id,
		Partition: r.partition,
		Key:       m.Key,
		Value:     m.Value,
		Delete:    m.Delete,
		Context:   m.Context,
	})
}

// forward hands a put to a coordinator on a node that replicates the key,
// keeping the client as the sender so the answer goes straight to it.
func (co *Coordinator) forward(c *actor.Context, m *messages.ClientPut, p int, pref []string) {
	if m.Hops > MaxForwardHops {
		co.reject(c, messages.StatusUnavailable, fmt.Sprintf(
			"not a replica of partition %d and the put was forwarded %d times already: do the nodes agree on the ring?",
			p, m.Hops), true)
		return
	}
	target, addr := "", ""
	for _, id := range pref {
		if co.cfg.Down != nil && co.cfg.Down(id) {
			continue
		}
		if a, ok := co.addr(id); ok {
			target, addr = id, a
			break
		}
	}
	if target == "" {
		co.reject(c, messages.StatusUnavailable, fmt.Sprintf(
			"every replica of partition %d (%v) is reported down", p, pref), true)
		return
	}
	fwd := *m // the sender may still hold m: never modify a received message
	fwd.Hops++
	co.stats.Forwarded++
	co.log.Debug().Int("partition", p).Uint64("key_hash", keyHash(m.Key)).Str("peer", target).
		Int("hops", fwd.Hops).Msg("coordinator: put forwarded to a replica")
	c.Engine().SendWithSender(CoordinatorPID(addr, CoordinatorFor(m.Key, co.cfg.Coordinators)), &fwd, c.Sender())
}

func (co *Coordinator) coordinatePutDone(c *actor.Context, m *messages.CoordinatePutDone) {
	r := co.lookup(m.ReqID, m.Node)
	if r == nil {
		co.replicateLate(c, m)
		return
	}
	if r.write == nil || r.sent {
		co.warn(r).Str("peer", m.Node).Msg("coordinator: unexpected CoordinatePutDone ignored")
		return
	}
	if m.Err != "" {
		// The write failed before any other replica was asked: answer now
		// rather than wait for acks that cannot come. Unless the store
		// failed mid-write, nothing was stored, a definite failure the
		// client may rely on.
		if r.write.Verdict() == quorum.Pending {
			switch {
			case m.Status == messages.StatusTooLarge:
				co.stats.TooLarge++
				co.debug(r).Str("err", m.Err).Msg("coordinator: put refused as too large")
				co.reply(c, r, &messages.ClientPutReply{Status: messages.StatusTooLarge, Err: m.Err})
			case m.MaybeStored:
				co.unavailable(c, r, "write failed on the coordinating replica: "+m.Err)
			default:
				co.stats.Unavailable++
				why := "write failed on the coordinating replica, nothing was stored: " + m.Err
				co.debug(r).Str("err", why).Msg("coordinator: request unavailable")
				co.reply(c, r, &messages.ClientPutReply{Status: messages.StatusUnavailable, Err: why})
			}
		}
		co.finish(r)
		return
	}
	r.replyContext, r.sent = m.Reply, true
	verdict := r.write.Ack(co.cfg.Node)
	put := &messages.ReplicaPut{
		ReqID:     r.id,
		Partition: r.partition,
		Key:       r.key,
		Versions:  replicaSet(m),
	}
	for _, id := range r.replicas {
		if id == co.cfg.Node {
			continue
		}
		addr, ok := co.addr(id)
		if !ok {
			co.decidePut(c, r, r.write.Fail(id, "not a member of the ring"))
			continue
		}
		// One message value for every replica: receivers only read it.
		c.Send(VnodePID(addr, r.partition), put)
	}
	co.decidePut(c, r, verdict)
	if r.write.Complete() {
		co.finish(r)
	}
}

// replicaSet is what the replicas are sent: the coordinating vnode's whole
// set, so that a replica never holds a node's later dot without the
// earlier ones still alive, which the contexts of its reads would claim.
// A vnode that does not report its set sends the new version alone.
func replicaSet(m *messages.CoordinatePutDone) version.Siblings {
	if len(m.Set) == 0 {
		return version.Siblings{m.Version}
	}
	return m.Set
}

// replicateLate handles the local vnode's answer to a put that has already
// ended: its timer fired first and the client was told 503. The vnode did
// store the write, and left there it would sit on one replica only, shown
// by some reads and not others. It is sent to the other replicas as read
// repair sends (ReqID 0, no answer awaited): a 503 leaves the outcome
// open, and this settles it as written everywhere.
func (co *Coordinator) replicateLate(c *actor.Context, m *messages.CoordinatePutDone) {
	if m.Err != "" || len(m.Key) == 0 {
		return
	}
	p := co.cfg.Ring.PartitionOf(m.Key)
	if uint32(p) != m.Partition {
		return // not from a vnode of this ring; nothing to trust
	}
	repair := &messages.ReplicaPut{Partition: m.Partition, Key: m.Key, Versions: replicaSet(m)}
	var peers []string
	for _, id := range co.cfg.Ring.PreferenceList(p) {
		if id == co.cfg.Node {
			continue
		}
		if addr, ok := co.addr(id); ok {
			c.Send(VnodePID(addr, m.Partition), repair)
			co.stats.Repairs++
			peers = append(peers, id)
		}
	}
	co.log.Debug().Uint64("req", m.ReqID).Uint32("partition", m.Partition).Uint64("key_hash", keyHash(m.Key)).
		Strs("peers", peers).Msg("coordinator: late local write sent to the other replicas")
}

func (co *Coordinator) replicaPutAck(c *actor.Context, m *messages.ReplicaPutAck) {
	r := co.lookup(m.ReqID, m.Node)
	if r == nil {
		return
	}
	if r.write == nil {
		co.warn(r).Str("peer", m.Node).Msg("coordinator: ReplicaPutAck for a get ignored")
		return
	}
	var verdict quorum.Verdict
	if m.Err != "" {
		co.debug(r).Str("peer", m.Node).Str("err", m.Err).Msg("coordinator: replica write failed")
		verdict = r.write.Fail(m.Node, m.Err)
	} else {
		verdict = r.write.Ack(m.Node)
	}
	co.decidePut(c, r, verdict)
	if r.write.Complete() {
		co.finish(r)
	}
}

// decidePut answers the client when the tally has just decided.
func (co *Coordinator) decidePut(c *actor.Context, r *request, v quorum.Verdict) {
	switch v {
	case quorum.Reached:
		co.reply(c, r, &messages.ClientPutReply{Status: messages.StatusOK, Context: r.replyContext})
	case quorum.Failed:
		co.unavailable(c, r, r.write.FailureError())
	}
}
