package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/reply"
	"github.com/dynamokv/dynamo/transport"
	"github.com/dynamokv/dynamo/version"
	"github.com/rs/zerolog"
)

// maxFrame is the native transport's frame limit, the nodes' default. A
// frame over it would be dropped at the sender without a word, so larger
// requests are refused before sending.
const maxFrame = 4 << 20

// frameOverhead is room for a frame's PIDs, tags and small fields.
const frameOverhead = 512

// native sends client messages to coordinator actors over a transport of
// its own. The client is not an actor: each request registers a one-shot
// reply box in the engine and waits on it from the caller's goroutine.
type native struct {
	tr           *transport.TCP
	engine       *actor.Engine
	events       *actor.PID
	coordinators int
	seen         func(ring uint64) // told each answer's membership version

	mu    sync.Mutex
	peers map[string]*peerState
	// downs counts the peers that are down, so that every request does
	// not take mu to learn that none is.
	downs atomic.Int32
}

// peerState is what the transport's events said of one node address.
// changed is closed, and replaced, on every event that changes it.
type peerState struct {
	down   bool
	reason string
	// ups counts PeerUp events. The transport drops the frames it has not
	// written when a peer goes down, and writes only while it is up, so a
	// request sent while the peer was not up and followed by PeerDown with
	// no PeerUp between cannot have reached it.
	ups     uint64
	up      bool // a PeerUp was the last event
	changed chan struct{}
}

func newNative(cfg Config, st api.Status, firstAddr string, seen func(uint64)) (*native, error) {
	listen := cfg.ListenAddr
	if listen == "" {
		listen = transport.ListenAddrFor(firstAddr)
	}
	tr, err := transport.NewTCP(transport.TCPConfig{
		ListenAddr:   listen,
		Cluster:      cfg.Cluster,
		TLS:          cfg.TLS,
		DialTimeout:  dialTimeout(cfg.Timeout),
		MaxFrameSize: maxFrame,
		// A hung node is known down within a second, so that the
		// requests that follow go to the next member.
		HeartbeatInterval: 200 * time.Millisecond,
		HeartbeatTimeout:  time.Second,
		Logger:            zerolog.Nop(),
	})
	if err != nil {
		return nil, fmt.Errorf("client: native transport: %w", err)
	}
	engine, err := actor.NewEngine(actor.NewEngineConfig().WithRemote(tr))
	if err != nil {
		tr.Stop().Wait()
		return nil, fmt.Errorf("client: actor engine: %w", err)
	}
	n := &native{tr: tr, engine: engine, coordinators: max(st.Coordinators, 1), peers: map[string]*peerState{}, seen: seen}
	// Subscribed before the first send, so no PeerDown is missed.
	n.events = engine.SpawnFunc(n.onEvent, "client", actor.WithID("events"))
	engine.Subscribe(n.events)
	return n, nil
}

func (n *native) onEvent(c *actor.Context) {
	switch ev := c.Message().(type) {
	case transport.PeerDown:
		n.setState(ev.Addr, false, ev.Reason)
	case transport.PeerUp:
		n.setState(ev.Addr, true, "")
	}
}

func (n *native) setState(addr string, up bool, reason string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.peerLocked(addr)
	p.reason = reason
	if up {
		p.ups++
	}
	if up || !p.down {
		if p.down != !up {
			if up {
				n.downs.Add(-1)
			} else {
				n.downs.Add(1)
			}
		}
		p.up, p.down = up, !up
		close(p.changed)
		p.changed = make(chan struct{})
	}
}

func (n *native) peerLocked(addr string) *peerState {
	p, ok := n.peers[addr]
	if !ok {
		p = &peerState{changed: make(chan struct{})}
		n.peers[addr] = p
	}
	return p
}

// peerView is a copy of a peerState, taken under the lock.
type peerView struct {
	down, up bool
	reason   string
	ups      uint64
	changed  <-chan struct{}
}

// watch returns what is known of addr, with a channel closed on its next
// change.
func (n *native) watch(addr string) peerView {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.peerLocked(addr)
	return peerView{down: p.down, up: p.up, reason: p.reason, ups: p.ups, changed: p.changed}
}

func (n *native) down(m *member) bool { return n.downs.Load() > 0 && n.watch(m.addr).down }

func (n *native) close() error {
	n.engine.Unsubscribe(n.events)
	n.engine.Poison(n.events)
	n.tr.Stop().Wait()
	return nil
}

func (n *native) put(ctx context.Context, m *member, b budget, w *write) (string, error) {
	size := len(w.key) + len(w.value) + frameOverhead
	for _, e := range w.clock {
		size += len(e.Node) + 16
	}
	for _, d := range w.also {
		size += len(d.Node) + 16
	}
	if size > maxFrame {
		return "", fmt.Errorf("client: key and value of %d bytes are over the native protocol's limit of %d; use HTTP mode",
			len(w.key)+len(w.value), maxFrame-frameOverhead)
	}
	msg := &messages.ClientPut{Key: w.key, Value: w.value, Context: w.clock, Also: w.also, Delete: w.del, W: w.w, PW: w.pw}
	res, err := n.request(ctx, m, b, w.key, msg, true)
	if err != nil {
		return "", err
	}
	reply, ok := res.(*messages.ClientPutReply)
	if !ok {
		return "", &Error{Status: http.StatusInternalServerError, Message: fmt.Sprintf("%s answered %s", m.id, messages.NameOf(res))}
	}
	n.seen(reply.Ring)
	if reply.Status != messages.StatusOK {
		err := statusError(reply.Status, reply.Err)
		err.Unknown = reply.Unknown
		return "", err
	}
	return version.EncodeContext(reply.Context, reply.Also), nil
}

func (n *native) get(ctx context.Context, m *member, b budget, key []byte, opt GetOptions) (Result, error) {
	res, err := n.request(ctx, m, b, key, &messages.ClientGet{Key: key, R: opt.R, PR: opt.PR}, false)
	if err != nil {
		return Result{}, err
	}
	reply, ok := res.(*messages.ClientGetReply)
	if !ok {
		return Result{}, &Error{Status: http.StatusInternalServerError, Message: fmt.Sprintf("%s answered %s", m.id, messages.NameOf(res))}
	}
	n.seen(reply.Ring)
	switch reply.Status {
	case messages.StatusOK:
		return Result{Found: len(reply.Values) > 0, Values: reply.Values, Context: version.EncodeContext(reply.Context, reply.Also)}, nil
	case messages.StatusNotFound:
		return Result{Context: version.EncodeContext(reply.Context, reply.Also)}, nil
	}
	return Result{}, statusError(reply.Status, reply.Err)
}

func statusError(status int, msg string) *Error {
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &Error{Status: status, Message: msg}
}

// requestTimers are the timers requests wait with, one per request in
// flight.
var requestTimers = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}}

// request sends msg to a coordinator of m and waits for its answer until
// the member's budget or, for a write (patient), until the request's
// overall deadline, or until ctx ends: once sent, a write
// goes to no other member, so the time left is better spent waiting. A
// member the transport reports down, before or after the send, is
// unreachable at once: the transport drops frames for a down peer, so
// waiting longer would only burn the time left for the next member.
func (n *native) request(ctx context.Context, m *member, b budget, key []byte, msg any, patient bool) (any, error) {
	timer := requestTimers.Get().(*time.Timer)
	timer.Reset(time.Until(b.member))
	defer func() {
		// Since Go 1.23 a stopped timer's channel holds nothing stale, so
		// a timer is reused as is.
		timer.Stop()
		requestTimers.Put(timer)
	}()
	pv := n.watch(m.addr)
	// A down peer is redialled with backoff: wait, within the budget, for
	// it to come back rather than send into a void.
	for pv.down {
		select {
		case <-pv.changed:
			pv = n.watch(m.addr)
		case <-timer.C:
			return nil, &unreachable{m: m, where: m.addr, reason: "peer down: " + pv.reason}
		case <-ctx.Done():
			reason := "peer down: " + pv.reason
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				reason = ctx.Err().Error()
			}
			return nil, &unreachable{m: m, where: m.addr, reason: reason, err: ctx.Err()}
		}
	}

	box := reply.New(n.engine)
	defer box.Close()
	pid := messages.CoordinatorPID(m.addr, messages.CoordinatorFor(key, n.coordinators))
	upAtSend, ups := pv.up, pv.ups
	n.engine.SendWithSender(pid, msg, box.PID())

	wait := b.member
	if patient {
		wait = b.overall
		timer.Reset(time.Until(wait))
	}
	expired := timer.C
	budget := time.Until(wait).Round(time.Millisecond)
	// Formatted only when it is said: most requests are answered.
	noAnswer := func() string { return fmt.Sprintf("no answer within %v", budget) }
	for {
		select {
		case res := <-box.C():
			return res, nil
		case <-pv.changed:
			if pv = n.watch(m.addr); pv.down {
				sent := upAtSend || pv.ups != ups
				return nil, &unreachable{m: m, where: m.addr, reason: "peer down: " + pv.reason, sent: sent}
			}
		case <-expired:
			return nil, &unreachable{m: m, where: m.addr, reason: noAnswer(), sent: true}
		case <-ctx.Done():
			reason := ctx.Err().Error()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				reason = noAnswer()
			}
			return nil, &unreachable{m: m, where: m.addr, reason: reason, sent: true, err: ctx.Err()}
		}
	}
}
