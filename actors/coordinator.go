package actors

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/cespare/xxhash/v2"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/quorum"
	"github.com/dynamokv/dynamo/version"
	"github.com/rs/zerolog"
)

// CoordinatorKind is the kind coordinators are spawned as; coordinator i
// has the ID CoordinatorID(i), so its PID is known from an address alone.
const CoordinatorKind = "coord"

// DefaultCoordinatorTimeout is the wait for replica answers when the
// configuration gives none.
const DefaultCoordinatorTimeout = time.Second

// MaxForwardHops bounds forwarding: a put that reaches a node outside the
// key's preference list after more forwards than this is refused, since
// only nodes that disagree about the ring could bounce it that long.
const MaxForwardHops = 2

// CoordinatorID returns the actor ID (actor.WithID) of coordinator i.
func CoordinatorID(i int) string { return strconv.Itoa(i) }

// CoordinatorPID returns the PID of coordinator i on the node at addr.
func CoordinatorPID(addr string, i int) *actor.PID {
	return actor.NewPID(addr, CoordinatorKind+"/"+CoordinatorID(i))
}

// CoordinatorFor picks which of a node's n coordinators handles key. Any
// choice is correct; hashing spreads keys over them while one key always
// meets the same coordinator, so its requests are handled in order.
func CoordinatorFor(key []byte, n int) int {
	if n <= 1 {
		return 0
	}
	return int(xxhash.Sum64(key) % uint64(n))
}

// CoordinatorConfig configures a coordinator.
type CoordinatorConfig struct {
	Node                    string // this node's member ID
	Ring                    *cluster.Ring
	ReadQuorum, WriteQuorum int           // defaults for requests that give R or W as 0
	Timeout                 time.Duration // wait for replica answers; 0 means DefaultCoordinatorTimeout
	Log                     zerolog.Logger
	// Down, when set, reports peers known to be down, so a forwarded put
	// skips them. It is called inside Receive and must not block.
	Down func(nodeID string) bool
	// Coordinators is how many coordinators each node runs: a forwarded
	// put goes to CoordinatorFor(key, Coordinators) on its target. 0
	// forwards to coordinator 0, which every node runs.
	Coordinators int
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
	// finds it, alone and the same, on every replica collects it
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
}

// CoordinatorStatsRequest asks a coordinator for its counters; it answers
// *CoordinatorStats. Both are local-only values, not wire messages: ask a
// coordinator on your own engine.
type CoordinatorStatsRequest struct{}

// CoordinatorStats are a coordinator's counters since it started.
type CoordinatorStats struct {
	Open        int    // requests still waiting for replica answers or their timer
	Puts, Gets  uint64 // client requests coordinated here
	Forwarded   uint64 // puts sent on to a node in the key's preference list
	Rejected    uint64 // requests answered 400
	TooLarge    uint64 // requests answered 413
	Unavailable uint64 // requests answered 503
	Late        uint64 // replica answers that arrived after their request ended
	Repairs     uint64 // read-repair writes sent, and late writes replicated
	Reaps       uint64 // keys whose tombstones a read found collectable
}

// Coordinator runs client puts and gets as protocols over the vnodes of a
// key's preference list. All its waits are state in its request table,
// ended by answers or by a timer message it sends itself, so it never
// blocks and one slow replica delays no other request.
type Coordinator struct {
	cfg     CoordinatorConfig
	log     zerolog.Logger
	selfAdr string // this node's address in the ring ("" if not a member)
	engine  *actor.Engine
	self    *actor.PID
	nextID  uint64
	open    map[uint64]*request
	stats   CoordinatorStats
}

// request is one client request in flight. Exactly one of write and read
// is set.
type request struct {
	id        uint64
	client    *actor.PID // nil: nobody to answer
	key       []byte
	partition uint32
	replicas  []string // the preference list, shared with the ring
	timer     *time.Timer

	write        *quorum.Tally
	replyContext version.Clock // the client's next context, from the local vnode
	sent         bool          // the local vnode's set was sent to the other replicas

	read *quorum.Read
}

// timeoutMsg is the timer message a coordinator sends itself. It never
// leaves the process, so it is not registered for the wire.
type timeoutMsg struct{ id uint64 }

// NewCoordinator returns the producer of a coordinator.
func NewCoordinator(cfg CoordinatorConfig) actor.Producer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultCoordinatorTimeout
	}
	if cfg.Now == nil {
		cfg.Now = func() int64 { return time.Now().UnixNano() }
	}
	log := cfg.Log.With().Str("node", cfg.Node).Logger()
	return func() actor.Receiver {
		// Request ids start at a random point so that answers still in
		// flight from before a restart cannot match the new requests:
		// answers carry nothing else that ties them to a request.
		co := &Coordinator{cfg: cfg, log: log, open: make(map[uint64]*request), nextID: rand.Uint64N(1 << 62)}
		if m, ok := cfg.Ring.Member(cfg.Node); ok {
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
	case *timeoutMsg:
		co.timeout(c, m.id)
	case *CoordinatorStatsRequest:
		s := co.stats
		s.Open = len(co.open)
		c.Respond(&s)
	case actor.Initialized:
		co.engine, co.self = c.Engine(), c.PID()
	case actor.Started:
	case actor.Stopped:
		for id, r := range co.open {
			r.timer.Stop()
			delete(co.open, id)
		}
	default:
		co.log.Warn().Str("message", messages.NameOf(m)).Str("peer", peer(c)).Msg("coordinator: unexpected message dropped")
	}
}

// begin registers a request and starts its timer.
func (co *Coordinator) begin(c *actor.Context, key []byte, p int, replicas []string) *request {
	co.nextID++
	if co.nextID == 0 { // zero is the id of read repair, which expects no answer
		co.nextID++
	}
	id := co.nextID
	r := &request{
		id:        id,
		client:    c.Sender(),
		key:       key,
		partition: uint32(p),
		replicas:  replicas,
	}
	engine, self := co.engine, co.self
	if engine == nil { // Initialized always comes first; this guards hand-built tests
		engine, self = c.Engine(), c.PID()
	}
	r.timer = time.AfterFunc(co.cfg.Timeout, func() { engine.Send(self, &timeoutMsg{id: id}) })
	co.open[id] = r
	return r
}

// finish ends a request: later answers to it count as late.
func (co *Coordinator) finish(r *request) {
	r.timer.Stop()
	delete(co.open, r.id)
}

// lookup finds the open request an answer belongs to; an answer to an
// ended request is counted as late, and dropped unless it reports a write
// (see replicateLate).
func (co *Coordinator) lookup(id uint64, from string) *request {
	r := co.open[id]
	if r == nil {
		co.stats.Late++
		co.log.Debug().Uint64("req", id).Str("peer", from).Msg("coordinator: late answer ignored")
	}
	return r
}

func (co *Coordinator) timeout(c *actor.Context, id uint64) {
	r := co.open[id]
	if r == nil {
		return // finished before its timer fired
	}
	switch {
	case r.write != nil:
		if r.write.Timeout() == quorum.Failed {
			co.unavailable(c, r, r.write.TimeoutError(co.cfg.Timeout))
		}
		if e := co.debug(r); e != nil {
			e.Strs("waiting", r.write.Waiting()).Msg("coordinator: put ended without every replica's ack")
		}
		co.finish(r)
	case r.read != nil:
		if r.read.Timeout() == quorum.Failed {
			co.unavailable(c, r, r.read.Tally().TimeoutError(co.cfg.Timeout))
		}
		co.closeGet(c, r)
	}
}

// addr returns the peer address of member id; a member missing from the
// ring can only come from a preference list of another ring, which the
// caller reports as a failed replica.
func (co *Coordinator) addr(id string) (string, bool) {
	m, ok := co.cfg.Ring.Member(id)
	return m.Addr, ok
}

// reply answers r's client. The tallies decide at most once, so no client
// is answered twice.
func (co *Coordinator) reply(c *actor.Context, r *request, msg any) {
	if r.client != nil {
		c.Engine().Send(r.client, msg)
	}
}

// unavailable answers a request whose quorum was not reached. For a
// write that is an unknown outcome: the local vnode was asked to store it
// before any other replica, and has stored it or may still.
func (co *Coordinator) unavailable(c *actor.Context, r *request, why string) {
	co.stats.Unavailable++
	co.debug(r).Str("err", why).Msg("coordinator: request unavailable")
	if r.write != nil {
		co.reply(c, r, &messages.ClientPutReply{Status: messages.StatusUnavailable, Unknown: true,
			Err: "outcome unknown, the write may have been applied: " + why})
	} else {
		co.reply(c, r, &messages.ClientGetReply{Status: messages.StatusUnavailable, Err: why})
	}
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
	if c.Sender() != nil {
		c.Respond(msg)
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
