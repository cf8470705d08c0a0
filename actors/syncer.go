package actors

import (
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/exchange"
	"github.com/dynamokv/dynamo/merkle"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/version"
	"github.com/rs/zerolog"
)

// SyncerKind and SyncerID name a node's Merkle syncer.
const (
	SyncerKind = "syncer"
	SyncerID   = "local"
)

// SyncerPID is the Merkle syncer of the node at addr.
func SyncerPID(addr string) *actor.PID { return actor.NewPID(addr, SyncerKind+"/"+SyncerID) }

// SyncerConfig configures a node's Merkle syncer.
type SyncerConfig struct {
	Node       string
	Ring       *cluster.Ring
	Partitions []uint32 // the partitions this node holds a vnode for
	// Up reports whether a peer is up (the failure detector's verdict):
	// only those are compared with. Called inside Receive; must not block.
	Up func(id string) bool
	// Round is the time in which every local partition is compared once
	// with one of its other replicas, the exchanges spread evenly over it
	// and jittered; default 10s, negative for none (repairs on demand only).
	Round time.Duration
	// StepTimeout ends an exchange whose peer stops answering; default 5s.
	StepTimeout time.Duration
	// KeysPerSecond bounds the keys whose sets are compared and sent, so
	// that a large repair leaves the foreground its latency; default 1000.
	KeysPerSecond int
	Limits        exchange.Limits
	// TombstoneGrace, when positive, makes each exchange end with a sweep
	// of the partition for tombstones older than it, read at R=N through
	// Coordinator so that they are collected where every home node holds
	// them alike.
	TombstoneGrace time.Duration
	Coordinator    func(key []byte) *actor.PID
	Now            func() int64
	View           *SyncView
	Log            zerolog.Logger
}

// RepairRequest asks the syncer, on the local engine, to compare
// Partition (-1 for every local one) with every other replica that is up,
// now; it answers *RepairResult once every exchange has ended.
type RepairRequest struct{ Partition int }

// RepairResult answers RepairRequest.
type RepairResult struct{ Exchanges []ExchangeRecord }

// ExchangeRecord is one exchange, as /status shows the last of each
// partition.
type ExchangeRecord struct {
	Partition uint32
	Peer      string
	When      time.Time
	Took      time.Duration
	exchange.Result
	Messages int
	Bytes    int64
}

// SyncView is the syncer's published state.
type SyncView struct {
	p                              atomic.Pointer[map[uint32]ExchangeRecord]
	Exchanges, KeysRepaired, Bytes atomic.Uint64
}

// Last returns the last exchange of every partition.
func (v *SyncView) Last() map[uint32]ExchangeRecord {
	if m := v.p.Load(); m != nil {
		return *m
	}
	return nil
}

type syncTick struct{}
type syncStepTimeout struct{ gen uint64 }
type syncResume struct{ gen uint64 }

// job is one exchange to run, and who waits for it.
type job struct {
	partition uint32
	peer      string
	waiter    *repairWaiter
}

type repairWaiter struct {
	pid     *actor.PID
	pending int
	result  RepairResult
}

// running is the exchange under way.
type running struct {
	job      job
	peerAddr string
	core     *exchange.Exchange
	reqs     map[uint64]exchange.Side
	start    time.Time
	messages int
	bytes    int64
	held     []exchange.Action // actions held back by the rate limit
	paid     bool              // the held actions have waited their turn
	timer    *time.Timer
}

// Syncer runs anti-entropy for a node: one exchange at a time, each the
// pure core of package exchange executed against the local vnode and the
// peer's.
type Syncer struct {
	cfg     SyncerConfig
	selfAdr string
	queue   []job
	cur     *running
	gen     uint64 // names the running exchange in timer messages
	nextReq uint64
	turn    int            // the next partition of the schedule
	peerOf  map[uint32]int // rotates the peer each partition is compared with
	// sweepAt is where each partition's tombstone sweep goes on: each
	// exchange sweeps one window, so sweeps cost little and cover the
	// partition over the rounds.
	sweepAt map[uint32][]byte
	last    map[uint32]ExchangeRecord
	engine  *actor.Engine
	self    *actor.PID
}

// NewSyncer returns the producer of a node's Merkle syncer.
func NewSyncer(cfg SyncerConfig) actor.Producer {
	if cfg.Round == 0 {
		cfg.Round = 10 * time.Second
	}
	if cfg.StepTimeout <= 0 {
		cfg.StepTimeout = 5 * time.Second
	}
	if cfg.KeysPerSecond <= 0 {
		cfg.KeysPerSecond = 1000
	}
	if cfg.Now == nil {
		cfg.Now = func() int64 { return time.Now().UnixNano() }
	}
	if cfg.Up == nil {
		cfg.Up = func(string) bool { return true }
	}
	if cfg.View == nil {
		cfg.View = &SyncView{}
	}
	cfg.Log = cfg.Log.With().Str("node", cfg.Node).Str("component", "syncer").Logger()
	return func() actor.Receiver {
		s := &Syncer{cfg: cfg, peerOf: map[uint32]int{}, last: map[uint32]ExchangeRecord{}, sweepAt: map[uint32][]byte{},
			nextReq: rand.Uint64N(1 << 62)}
		if m, ok := cfg.Ring.Member(cfg.Node); ok {
			s.selfAdr = m.Addr
		}
		return s
	}
}

// Receive implements actor.Receiver.
func (s *Syncer) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Initialized:
		s.engine, s.self = c.Engine(), c.PID()
	case actor.Started:
		if s.cfg.Round > 0 && len(s.cfg.Partitions) > 0 {
			s.scheduleTick()
		}
	case actor.Stopped:
		if s.cur != nil && s.cur.timer != nil {
			s.cur.timer.Stop()
		}
	case syncTick:
		s.tick(c)
		s.scheduleTick()
	case *RepairRequest:
		s.repair(c, m)
	case *syncStepTimeout:
		if s.cur != nil && m.gen == s.gen {
			s.run(c, s.cur.core.Expire())
		}
	case *syncResume:
		if s.cur != nil && m.gen == s.gen {
			held := s.cur.held
			s.cur.held, s.cur.paid = nil, true
			s.run(c, held)
		}
	case *messages.TreeReply:
		s.answer(c, m.ReqID, m.Err, func(side exchange.Side) []exchange.Action {
			s.cur.bytes += int64(4 * len(m.Hashes))
			return s.cur.core.Tree(side, merkle.Shape{Fanout: m.Fanout, Depth: m.Depth}, m.Hashes)
		})
	case *messages.SegmentReply:
		s.answer(c, m.ReqID, m.Err, func(side exchange.Side) []exchange.Action {
			for _, k := range m.Keys {
				s.cur.bytes += int64(len(k) + 8)
			}
			return s.cur.core.Segments(side, m.Keys, m.Hashes, m.Next)
		})
	case *messages.SyncSets:
		s.answer(c, m.ReqID, m.Err, func(side exchange.Side) []exchange.Action {
			s.cur.bytes += setsBytes(m.Sets)
			return s.cur.core.Sets(side, m.Sets)
		})
	case *messages.SyncPutAck:
		s.answer(c, m.ReqID, "", func(side exchange.Side) []exchange.Action {
			return s.cur.core.Put(side, m.Err)
		})
	case *messages.TombstoneKeys:
		s.sweep(c, m)
	case *messages.ClientGetReply:
		// The answer of a tombstone sweep's read: the coordinator did the work.
	}
}

// scheduleTick spreads a round's exchanges over the round, jittered by a
// fifth either way, so that the nodes' exchanges do not fall together.
func (s *Syncer) scheduleTick() {
	every := s.cfg.Round / time.Duration(len(s.cfg.Partitions))
	d := every*4/5 + time.Duration(rand.Int64N(int64(every*2/5)+1))
	engine, self := s.engine, s.self
	time.AfterFunc(d, func() { engine.Send(self, syncTick{}) })
}

// tick starts the next scheduled exchange, unless one is running.
func (s *Syncer) tick(c *actor.Context) {
	if s.cur != nil || len(s.queue) > 0 {
		return
	}
	p := s.cfg.Partitions[s.turn%len(s.cfg.Partitions)]
	s.turn++
	peers := s.peers(p)
	if len(peers) == 0 {
		return
	}
	i := s.peerOf[p]
	s.peerOf[p] = i + 1
	s.queue = append(s.queue, job{partition: p, peer: peers[i%len(peers)]})
	s.startNext(c)
}

// peers returns the other home nodes of p that are up.
func (s *Syncer) peers(p uint32) []string {
	var out []string
	for _, id := range s.cfg.Ring.PreferenceList(int(p)) {
		if id != s.cfg.Node && s.cfg.Up(id) {
			out = append(out, id)
		}
	}
	return out
}

func (s *Syncer) repair(c *actor.Context, m *RepairRequest) {
	w := &repairWaiter{pid: c.Sender()}
	for _, p := range s.cfg.Partitions {
		if m.Partition >= 0 && uint32(m.Partition) != p {
			continue
		}
		for _, peer := range s.peers(p) {
			s.queue = append(s.queue, job{partition: p, peer: peer, waiter: w})
			w.pending++
		}
	}
	if w.pending == 0 {
		c.Respond(&w.result)
		return
	}
	if s.cur == nil {
		s.startNext(c)
	}
}

func (s *Syncer) startNext(c *actor.Context) {
	for s.cur == nil && len(s.queue) > 0 {
		j := s.queue[0]
		s.queue = s.queue[1:]
		m, ok := s.cfg.Ring.Member(j.peer)
		if !ok {
			s.record(c, j, ExchangeRecord{Partition: j.partition, Peer: j.peer, When: time.Now(),
				Result: exchange.Result{Err: "not a member"}})
			continue
		}
		core, actions := exchange.New(s.cfg.Limits)
		s.gen++
		s.cur = &running{job: j, peerAddr: m.Addr, core: core, reqs: map[uint64]exchange.Side{}, start: time.Now()}
		s.run(c, actions)
	}
}

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
			wait := time.Duration(len(as.Keys)) * time.Second / time.Duration(s.cfg.KeysPerSecond)
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
		Result: res, Messages: r.messages, Bytes: r.bytes}
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
			slices.SortFunc(w.result.Exchanges, func(a, b ExchangeRecord) int { return int(a.Partition) - int(b.Partition) })
			c.Send(w.pid, &w.result)
		}
	}
}

// sweep reads the old tombstones a scan found at R=N, which collects them
// where every home node holds them alike.
func (s *Syncer) sweep(c *actor.Context, m *messages.TombstoneKeys) {
	s.sweepAt[uint32(m.ReqID)] = m.Next
	n := s.cfg.Ring.Replicas()
	for _, k := range m.Keys {
		c.Send(s.cfg.Coordinator(k), &messages.ClientGet{Key: k, R: n})
	}
}

// setsBytes estimates what sets weigh on the wire.
func setsBytes(sets []version.Siblings) int64 {
	var n int64
	for _, s := range sets {
		for _, v := range s {
			n += int64(48 + len(v.Dot.Node) + len(v.Value) + 24*len(v.Context))
		}
	}
	return n
}
