package actors

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/protocol"
	"github.com/rs/zerolog"
)

// CoordinatorKind is the kind coordinators are spawned as; coordinator i
// has the ID CoordinatorID(i), so its PID is known from an address alone.
const CoordinatorKind = messages.CoordinatorKind

// DefaultCoordinatorTimeout is the wait for replica answers when the
// configuration gives none.
const DefaultCoordinatorTimeout = time.Second

// DefaultReadHedge is how long a read waits for the R replicas it asked
// first before it asks the rest, when the configuration gives no wait.
const DefaultReadHedge = 10 * time.Millisecond

// DefaultForwardWait is how long a forwarded put's target has to take it
// before the next target is tried.
const DefaultForwardWait = 250 * time.Millisecond

// MaxForwardHops bounds forwarding: nodes whose views of who is up
// disagree could otherwise bounce a put between them.
const MaxForwardHops = 2

// Where coordinators live is the protocol's: see package messages.
var (
	CoordinatorID  = messages.CoordinatorID
	CoordinatorPID = messages.CoordinatorPID
	CoordinatorFor = messages.CoordinatorFor
)

// CoordinatorConfig configures a coordinator.
type CoordinatorConfig struct {
	Node string // this node's member ID
	Addr string // this node's peer address
	// Ring is the ring requests are routed by; it changes with the
	// membership.
	Ring                    *cluster.View
	ReadQuorum, WriteQuorum int           // defaults for requests that give R or W as 0
	Timeout                 time.Duration // wait for replica answers; 0 means DefaultCoordinatorTimeout
	// ReadHedge is how long a read waits for the R targets it asks first
	// (this node first when it holds the key) before it asks the others
	// too; asking R instead of N spares a replica's read and two messages
	// on every read. 0 means DefaultReadHedge; a negative value, or one
	// not under Timeout, asks every target at once.
	ReadHedge time.Duration
	// NoDigests reads the versions of every replica a read asks, not
	// only of this node's own (see protocol.GetSpec.Digests).
	NoDigests bool
	Log       zerolog.Logger
	// Suspected, when set, reports the members this node's failure
	// detector suspects: requests go to the first N members of a key's
	// walk that it does not (a sloppy quorum). It is called inside
	// Receive and must not block.
	Suspected func(nodeID string) bool
	// Detector, when set, hears of every target that left a request
	// unanswered until its timer (Unanswered).
	Detector *actor.PID
	// Coordinators is how many coordinators each node runs: a forwarded
	// put goes to CoordinatorFor(key, Coordinators) on its target. 0
	// forwards to coordinator 0, which every node runs.
	Coordinators int
	// ForwardWait is how long a forwarded put's target has to take it;
	// 0 means DefaultForwardWait.
	ForwardWait time.Duration
	// MaxKeySize and MaxValueSize bound what a client may store, in
	// bytes; larger requests are answered 413. 0 means no bound. They are
	// checked here, not only by the HTTP API, so native clients meet the
	// same limits.
	MaxKeySize, MaxValueSize int
	// MaxReplyBytes bounds the values of a read answered to a client on
	// another process, which travels in one frame: a larger answer is
	// refused (413) at once instead of being dropped by the transport and
	// left to time out. Local clients (the HTTP API) have no bound. 0
	// means none.
	MaxReplyBytes int
	// TombstoneGrace is how old a deletion must be before a read that
	// finds it, alone and the same, on every home node collects it
	// (ReplicaReap). It must outlast anything that may still bring an
	// older version of the key: hints, a replica down or partitioned
	// away. 0 never collects tombstones.
	TombstoneGrace time.Duration
	// Now returns unix nanoseconds, to age tombstones; nil means the wall
	// clock.
	Now func() int64
	// Refuse, when set, returns why the node must refuse client requests
	// (503), or "" to serve them: a node whose configuration disagrees
	// with its peers' would place keys where they do not look. It is
	// called inside Receive and must not block.
	Refuse func() string
	// Metrics, when set, is told of every answer, read repair and
	// forwarded put.
	Metrics RequestMetrics
}

// CoordinatorStatsRequest asks a coordinator for its counters; it answers
// *CoordinatorStats. Both are local-only values, not wire messages: ask a
// coordinator on your own engine.
type CoordinatorStatsRequest struct{}

// CoordinatorStats are a coordinator's counters since it started.
type CoordinatorStats struct {
	Open        int    // requests still waiting for replica answers or their timer
	Puts, Gets  uint64 // client requests coordinated here
	Forwarded   uint64 // puts sent on to a target
	Aborted     uint64 // forwarded puts dropped: the origin gave them to another target, or never said
	StandIn     uint64 // puts coordinated as a stand-in: no home node was up
	Hinted      uint64 // replicas sent to stand-ins as hints
	Rejected    uint64 // requests answered 400
	TooLarge    uint64 // requests answered 413
	Unavailable uint64 // requests answered 503
	Late        uint64 // replica answers that arrived after their request ended
	Repairs     uint64 // read-repair writes sent, and late writes replicated
	Reaps       uint64 // keys whose tombstones a read found collectable
	Hedged      uint64 // reads whose first targets were slow, so the rest were asked
}

// Coordinator runs client puts and gets: the decisions are the pure cores
// of package protocol; the actor routes a request, executes the actions
// the cores return, and feeds them answers and timer messages. It never
// blocks: every wait is an entry of its request table.
type Coordinator struct {
	cfg     CoordinatorConfig
	log     zerolog.Logger
	selfAdr string // this node's address in the ring ("" if not a member)
	engine  *actor.Engine
	self    *actor.PID
	nextID  uint64
	open    map[uint64]*request
	// forwards are puts this node forwarded, by write ID, until a target
	// takes one; taking are forwarded puts this node waits to be given.
	forwards map[uint64]*request
	taking   map[uint64]*request
	stats    CoordinatorStats
	// vnodes are the vnode PIDs requests went to, so that each request
	// does not build its targets' PIDs anew.
	vnodes map[vnodeAt]*actor.PID
}

// request is one client request in flight: a put, a get, a put this node
// forwarded (fwd) or a forwarded put it waits to be given (waitingGo).
type request struct {
	id        uint64 // the request table's key; the write ID of forwards
	client    *actor.PID
	key       []byte
	partition uint32
	timer     *time.Timer
	msg       *messages.ClientPut // the write, for puts
	start     time.Time           // when it began, for its latency

	put       *protocol.Put
	get       *protocol.Get
	fwd       *protocol.Forward
	waitingGo bool
}

// timeoutMsg is the timer message a coordinator sends itself. It never
// leaves the process, so it is not registered for the wire.
type timeoutMsg struct {
	id   uint64
	kind timerKind
}

type timerKind int8

const (
	timerRequest timerKind = iota
	timerHedge
	timerForward
	timerTake
)

// NewCoordinator returns the producer of a coordinator.
func NewCoordinator(cfg CoordinatorConfig) actor.Producer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultCoordinatorTimeout
	}
	if cfg.ReadHedge == 0 {
		cfg.ReadHedge = DefaultReadHedge
	}
	if cfg.ReadHedge >= cfg.Timeout {
		cfg.ReadHedge = -1
	}
	if cfg.ForwardWait <= 0 {
		cfg.ForwardWait = DefaultForwardWait
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	if cfg.Now == nil {
		cfg.Now = func() int64 { return time.Now().UnixNano() }
	}
	if cfg.Suspected == nil {
		cfg.Suspected = func(string) bool { return false }
	}
	log := cfg.Log.With().Str("node", cfg.Node).Logger()
	return func() actor.Receiver {
		// Request ids start at a random point so that answers still in
		// flight from before a restart cannot match the new requests:
		// answers carry nothing else that ties them to a request.
		co := &Coordinator{cfg: cfg, log: log, open: map[uint64]*request{}, nextID: rand.Uint64N(1 << 62),
			forwards: map[uint64]*request{}, taking: map[uint64]*request{}}
		co.selfAdr = cfg.Addr
		if m, ok := cfg.Ring.Load().Member(cfg.Node); ok && co.selfAdr == "" {
			co.selfAdr = m.Addr
		}
		return co
	}
}

// Receive implements actor.Receiver.
func (co *Coordinator) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case *messages.ClientPut:
		co.clientPut(c, m)
	case *messages.CoordinatePutDone:
		co.coordinatePutDone(c, m)
	case *messages.ReplicaPutAck:
		co.replicaPutAck(c, m)
	case *messages.ClientGet:
		co.clientGet(c, m)
	case *messages.ReplicaGetReply:
		co.replicaGetReply(c, m)
	case *messages.PutTake:
		co.putTake(c, m)
	case *messages.PutGo:
		co.putGo(c, m)
	case *messages.PutAbort:
		co.putAbort(m)
	case *timeoutMsg:
		co.timeout(c, m)
	case *CoordinatorStatsRequest:
		s := co.stats
		s.Open = len(co.open) + len(co.forwards) + len(co.taking)
		c.Respond(&s)
	case actor.Initialized:
		co.engine, co.self = c.Engine(), c.PID()
	case actor.Started:
	case actor.Stopped:
		for _, table := range []map[uint64]*request{co.open, co.forwards, co.taking} {
			for id, r := range table {
				r.timer.Stop()
				delete(table, id)
			}
		}
	default:
		co.log.Warn().Str("message", messages.NameOf(m)).Str("peer", peer(c)).Msg("coordinator: unexpected message dropped")
	}
}

// targets returns the first N members of partition p's walk that this
// node does not suspect; it never suspects itself.
func (co *Coordinator) targets(p int) []protocol.Target {
	return protocol.Targets(co.cfg.Ring.Load().Walk(p), co.cfg.Ring.Load().Replicas(), func(id string) bool {
		return id != co.cfg.Node && co.cfg.Suspected(id)
	})
}

// begin registers a request of client under a new id and starts its
// timer, or the hedge timer (which starts the request's when it fires).
func (co *Coordinator) begin(c *actor.Context, client *actor.PID, key []byte, p int, hedge bool) *request {
	co.nextID++
	if co.nextID == 0 { // zero is the id of read repair, which expects no answer
		co.nextID++
	}
	r := &request{id: co.nextID, client: client, key: key, partition: uint32(p), start: time.Now()}
	co.open[r.id] = r
	if hedge {
		co.arm(c, r, timerHedge, co.cfg.ReadHedge)
	} else {
		co.arm(c, r, timerRequest, co.cfg.Timeout)
	}
	return r
}

// arm (re)starts r's timer.
func (co *Coordinator) arm(c *actor.Context, r *request, kind timerKind, d time.Duration) {
	engine, self := co.engine, co.self
	if engine == nil { // Initialized always comes first; this guards hand-built tests
		engine, self = c.Engine(), c.PID()
	}
	if r.timer != nil {
		r.timer.Stop()
	}
	id := r.id
	r.timer = time.AfterFunc(d, func() { engine.Send(self, &timeoutMsg{id: id, kind: kind}) })
}

// lookup finds the open request an answer belongs to; an answer to an
// ended request is counted as late.
func (co *Coordinator) lookup(id uint64, from string) *request {
	r := co.open[id]
	if r == nil {
		co.stats.Late++
		co.log.Debug().Uint64("req", id).Str("peer", from).Msg("coordinator: late answer ignored")
	}
	return r
}

func (co *Coordinator) timeout(c *actor.Context, m *timeoutMsg) {
	switch m.kind {
	case timerForward:
		if r := co.forwards[m.id]; r != nil {
			co.run(c, r, r.fwd.Expire())
		}
	case timerTake:
		if r := co.taking[m.id]; r != nil {
			delete(co.taking, m.id)
			co.stats.Aborted++
			co.log.Debug().Uint64("write", m.id).Msg("coordinator: forwarded put never given; dropped")
		}
	case timerHedge:
		if r := co.open[m.id]; r != nil && r.get != nil {
			co.arm(c, r, timerRequest, co.cfg.Timeout-co.cfg.ReadHedge)
			co.stats.Hedged++
			co.cfg.Metrics.ReadHedged()
			co.run(c, r, r.get.Hedge())
		}
	default:
		r := co.open[m.id]
		if r == nil {
			return // finished before its timer fired
		}
		if r.put != nil {
			co.run(c, r, r.put.Expire())
			if co.open[r.id] == r {
				// The local write has not answered: it may still, and is
				// then sent on; this is the last wait for it.
				co.arm(c, r, timerRequest, 10*co.cfg.Timeout)
			}
			return
		}
		co.run(c, r, r.get.Expire())
	}
}

// addr returns the peer address of member id.
func (co *Coordinator) addr(id string) (string, bool) {
	m, ok := co.cfg.Ring.Load().Member(id)
	return m.Addr, ok
}

// reject answers a request that is refused before any replica is asked.
func (co *Coordinator) reject(c *actor.Context, status int, why string, put bool) {
	switch status {
	case messages.StatusBadRequest:
		co.stats.Rejected++
	case messages.StatusTooLarge:
		co.stats.TooLarge++
	default:
		co.stats.Unavailable++
	}
	co.log.Debug().Int("status", status).Str("err", why).Str("peer", peer(c)).Msg("coordinator: request refused")
	var msg any = &messages.ClientGetReply{Status: status, Err: why}
	if put {
		msg = &messages.ClientPutReply{Status: status, Err: why}
	}
	co.answered(nil, msg)
	if c.Sender() != nil {
		c.Respond(co.stamp(msg))
	}
}

// admit runs the checks every client request passes before any replica
// is asked, whether it came through the HTTP API or natively. It answers
// the refusal itself and reports whether the request may go on.
func (co *Coordinator) admit(c *actor.Context, key []byte, put bool) bool {
	if len(key) == 0 {
		co.reject(c, messages.StatusBadRequest, "empty key", put)
		return false
	}
	if max := co.cfg.MaxKeySize; max > 0 && len(key) > max {
		co.reject(c, messages.StatusTooLarge, fmt.Sprintf("key of %d bytes is over the limit of %d", len(key), max), put)
		return false
	}
	if co.cfg.Refuse != nil {
		if why := co.cfg.Refuse(); why != "" {
			co.reject(c, messages.StatusUnavailable, "refusing requests: "+why, put)
			return false
		}
	}
	return true
}

// debug and warn start a log event about r. The request's fields are only
// computed when the level is enabled, so quiet logs cost nothing per
// request.
func (co *Coordinator) debug(r *request) *zerolog.Event { return withRequest(co.log.Debug(), r) }

func (co *Coordinator) warn(r *request) *zerolog.Event { return withRequest(co.log.Warn(), r) }

func withRequest(e *zerolog.Event, r *request) *zerolog.Event {
	if e == nil {
		return nil
	}
	return e.Uint64("req", r.id).Uint32("partition", r.partition).Uint64("key_hash", keyHash(r.key))
}
