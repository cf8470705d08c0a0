package actors

import (
	"math/rand/v2"
	"strings"
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
	Node string
	Addr string // this node's peer address
	Ring *cluster.View
	// Partitions returns the partitions this node holds a vnode for; it
	// changes with the membership. Called inside Receive; must not block.
	Partitions func() []uint32
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
	// HandoffKeysPerSecond is the same bound for handoffs and for filling
	// partitions a node gained; default 10000.
	HandoffKeysPerSecond int
	Limits               exchange.Limits
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
// Fill says the partition was just gained: it is filled at the handoff
// rate.
type RepairRequest struct {
	Partition int
	Fill      bool
}

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
	// RemotePartial: the peer's vnode is itself still being filled, so
	// what it held proves nothing of what the partition holds.
	RemotePartial bool
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
	handoff   bool // a handoff or a gained partition's fill: HandoffKeysPerSecond
}

type repairWaiter struct {
	pid     *actor.PID
	pending int
	result  RepairResult
	handoff bool // answer HandoffDone rather than RepairResult
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
	// remotePartial: the peer's vnode said it is still being filled.
	remotePartial bool
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
	if cfg.HandoffKeysPerSecond <= 0 {
		cfg.HandoffKeysPerSecond = 10000
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
		s.selfAdr = cfg.Addr
		if m, ok := cfg.Ring.Load().Member(cfg.Node); ok && s.selfAdr == "" {
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
		if s.cfg.Round > 0 {
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
	case *HandoffRequest:
		s.handoff(c, m)
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
			if side == exchange.Remote && m.Partial {
				s.cur.remotePartial = true
			}
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
	every := s.cfg.Round / time.Duration(max(1, len(s.cfg.Partitions())))
	d := every*4/5 + time.Duration(rand.Int64N(int64(every*2/5)+1))
	engine, self := s.engine, s.self
	time.AfterFunc(d, func() { engine.Send(self, syncTick{}) })
}

// tick starts the next scheduled exchange, unless one is running.
func (s *Syncer) tick(c *actor.Context) {
	parts := s.cfg.Partitions()
	if s.cur != nil || len(s.queue) > 0 || len(parts) == 0 {
		return
	}
	p := parts[s.turn%len(parts)]
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
	for _, id := range s.cfg.Ring.Load().PreferenceList(int(p)) {
		if id != s.cfg.Node && s.cfg.Up(id) {
			out = append(out, id)
		}
	}
	return out
}

// handoff compares a partition this node no longer owns with each of its
// home nodes; the answer says whether every one held all this node holds.
// A home node that is down leaves the handoff incomplete: the partition
// stays here until it can be checked.
func (s *Syncer) handoff(c *actor.Context, m *HandoffRequest) {
	w := &repairWaiter{pid: c.Sender(), handoff: true}
	var down []string
	for _, id := range s.cfg.Ring.Load().PreferenceList(int(m.Partition)) {
		switch {
		case id == s.cfg.Node:
		case !s.cfg.Up(id):
			down = append(down, id)
		default:
			s.queue = append([]job{{partition: m.Partition, peer: id, waiter: w, handoff: true}}, s.queue...)
			w.pending++
		}
	}
	if len(down) > 0 {
		w.result.Exchanges = append(w.result.Exchanges, ExchangeRecord{Partition: m.Partition, Peer: strings.Join(down, ","),
			Result: exchange.Result{Err: "down: the partition is kept until it can be handed over"}})
	}
	if w.pending == 0 {
		c.Respond(handoffDone(m.Partition, w.result.Exchanges))
		return
	}
	if s.cur == nil {
		s.startNext(c)
	}
}

func (s *Syncer) repair(c *actor.Context, m *RepairRequest) {
	w := &repairWaiter{pid: c.Sender()}
	for _, p := range s.cfg.Partitions() {
		if m.Partition >= 0 && uint32(m.Partition) != p {
			continue
		}
		for _, peer := range s.peers(p) {
			s.queue = append(s.queue, job{partition: p, peer: peer, waiter: w, handoff: m.Fill})
			w.pending++
		}
		if m.Fill {
			// A fill must hear from every other home node: one that is
			// down is reported, so the vnode knows it is not filled yet.
			for _, id := range s.cfg.Ring.Load().PreferenceList(int(p)) {
				if id != s.cfg.Node && !s.cfg.Up(id) {
					w.result.Exchanges = append(w.result.Exchanges, ExchangeRecord{Partition: p, Peer: id, When: time.Now(),
						Result: exchange.Result{Err: "down"}})
				}
			}
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
		m, ok := s.cfg.Ring.Load().Member(j.peer)
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
