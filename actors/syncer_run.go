package actors

import (
	"slices"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/exchange"
	"github.com/dynamokv/dynamo/messages"
)

// The syncer's shell over package exchange: each action becomes a request
// to the local vnode or the peer's, each answer is fed back, and a step
// that gets no answer in time ends the exchange.

// run sends what the core asks for.
func (s *Syncer) run(c *actor.Context, actions []exchange.Action) {
	r := s.cur
	if r == nil {
		return
	}
	for i, a := range actions {
		if as, ok := a.(exchange.AskSets); ok && as.Side == exchange.Local {
			// The rate limit: a chunk of keys is paid for before it is
			// asked for, by waiting its share of a second.
			rate := s.cfg.KeysPerSecond
			if r.job.handoff {
				rate = s.cfg.HandoffKeysPerSecond
			}
			wait := time.Duration(len(as.Keys)) * time.Second / time.Duration(rate)
			if !r.paid && wait > time.Millisecond {
				r.held = append([]exchange.Action(nil), actions[i:]...)
				gen := s.gen
				engine, self := s.engine, s.self
				time.AfterFunc(wait, func() { engine.Send(self, &syncResume{gen: gen}) })
				return
			}
			r.paid = false
		}
		switch a := a.(type) {
		case exchange.AskTree:
			nodes := make([]uint32, len(a.Nodes))
			for i, n := range a.Nodes {
				nodes[i] = uint32(n)
			}
			s.send(c, a.Side, &messages.TreeRequest{Partition: r.job.partition, Level: a.Level, Nodes: nodes})
		case exchange.AskSegments:
			segs := make([]uint32, len(a.Segments))
			for i, n := range a.Segments {
				segs[i] = uint32(n)
			}
			s.send(c, a.Side, &messages.SegmentRequest{Partition: r.job.partition, Segments: segs, After: a.After, Limit: a.Limit})
		case exchange.AskSets:
			s.send(c, a.Side, &messages.SyncGet{Partition: r.job.partition, Keys: a.Keys})
		case exchange.PutSets:
			r.bytes += setsBytes(a.Sets)
			s.send(c, a.Side, &messages.SyncPut{Partition: r.job.partition, Keys: a.Keys, Sets: a.Sets})
		case exchange.Done:
			s.done(c, a.Result)
			return
		}
	}
	s.armStep()
}

// send gives a request an id, remembers its side and sends it.
func (s *Syncer) send(c *actor.Context, side exchange.Side, msg any) {
	r := s.cur
	s.nextReq++
	id := s.nextReq
	r.reqs[id] = side
	r.messages++
	switch m := msg.(type) {
	case *messages.TreeRequest:
		m.ReqID = id
	case *messages.SegmentRequest:
		m.ReqID = id
	case *messages.SyncGet:
		m.ReqID = id
	case *messages.SyncPut:
		m.ReqID = id
	}
	addr := s.selfAdr
	if side == exchange.Remote {
		addr = r.peerAddr
	}
	c.Send(VnodePID(addr, r.job.partition), msg)
}

func (s *Syncer) armStep() {
	r := s.cur
	if r.timer != nil {
		r.timer.Stop()
	}
	gen := s.gen
	engine, self := s.engine, s.self
	r.timer = time.AfterFunc(s.cfg.StepTimeout, func() { engine.Send(self, &syncStepTimeout{gen: gen}) })
}

// answer feeds a reply to the running exchange.
func (s *Syncer) answer(c *actor.Context, id uint64, errText string, feed func(exchange.Side) []exchange.Action) {
	if s.cur == nil {
		return
	}
	side, ok := s.cur.reqs[id]
	if !ok {
		return // an answer to an exchange that ended
	}
	delete(s.cur.reqs, id)
	s.cur.messages++
	if errText != "" {
		s.run(c, s.cur.core.Failed(side, errText))
		return
	}
	s.run(c, feed(side))
}

func (s *Syncer) done(c *actor.Context, res exchange.Result) {
	r := s.cur
	if r.timer != nil {
		r.timer.Stop()
	}
	s.cur = nil
	rec := ExchangeRecord{Partition: r.job.partition, Peer: r.job.peer, When: r.start, Took: time.Since(r.start),
		Result: res, Messages: r.messages, Bytes: r.bytes, RemotePartial: r.remotePartial}
	s.cfg.View.Exchanges.Add(1)
	s.cfg.View.KeysRepaired.Add(uint64(res.RepairedLoc + res.RepairedRem))
	s.cfg.View.Bytes.Add(uint64(r.bytes))
	ev := s.cfg.Log.Debug()
	if res.Err != "" {
		ev = s.cfg.Log.Warn()
	} else if res.RepairedLoc+res.RepairedRem > 0 {
		ev = s.cfg.Log.Info()
	}
	ev.Uint32("partition", rec.Partition).Str("peer", rec.Peer).Int("keys", res.Keys).
		Int("repaired_here", res.RepairedLoc).Int("repaired_there", res.RepairedRem).Int64("bytes", rec.Bytes).
		Dur("took", rec.Took).Str("err", res.Err).Msg("syncer: exchange ended")
	s.record(c, r.job, rec)
	if res.Err == "" && s.cfg.TombstoneGrace > 0 && s.cfg.Coordinator != nil {
		c.Send(VnodePID(s.selfAdr, rec.Partition), &messages.TombstoneScan{ReqID: uint64(rec.Partition), Partition: rec.Partition,
			Before: s.cfg.Now() - s.cfg.TombstoneGrace.Nanoseconds(), After: s.sweepAt[rec.Partition], Limit: 256})
	}
	s.startNext(c)
}

func (s *Syncer) record(c *actor.Context, j job, rec ExchangeRecord) {
	s.last[rec.Partition] = rec
	snap := make(map[uint32]ExchangeRecord, len(s.last))
	for k, v := range s.last {
		snap[k] = v
	}
	s.cfg.View.p.Store(&snap)
	if w := j.waiter; w != nil {
		w.result.Exchanges = append(w.result.Exchanges, rec)
		w.pending--
		if w.pending == 0 && w.pid != nil {
			if w.handoff {
				c.Send(w.pid, handoffDone(rec.Partition, w.result.Exchanges))
				return
			}
			slices.SortFunc(w.result.Exchanges, func(a, b ExchangeRecord) int { return int(a.Partition) - int(b.Partition) })
			c.Send(w.pid, &w.result)
		}
	}
}

// sweep reads the old tombstones a scan found at R=N, which collects them
// where every home node holds them alike.
func (s *Syncer) sweep(c *actor.Context, m *messages.TombstoneKeys) {
	s.sweepAt[uint32(m.ReqID)] = m.Next
	n := s.cfg.Ring.Load().Replicas()
	for _, k := range m.Keys {
		c.Send(s.cfg.Coordinator(k), &messages.ClientGet{Key: k, R: n})
	}
}

// handoffDone sums a handoff round's exchanges: complete only if every
// home node was compared and already held everything this node holds
// (nothing had to be sent to it).
func handoffDone(p uint32, exs []ExchangeRecord) *HandoffDone {
	d := &HandoffDone{Partition: p, Complete: true}
	for _, e := range exs {
		d.Keys += e.RepairedRem
		if e.Err != "" {
			d.Err = e.Peer + ": " + e.Err
		}
		if e.Err != "" || e.RepairedRem > 0 {
			d.Complete = false
		}
	}
	return d
}
