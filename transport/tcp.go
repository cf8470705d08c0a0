package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
	"github.com/rs/zerolog"
)

// TCPConfig configures a TCP transport. Zero fields take the defaults
// named in their comments.
type TCPConfig struct {
	// ListenAddr is the host:port to listen on; port 0 picks a free port.
	ListenAddr string
	// AdvertiseAddr is the address peers reach us at, carried by our PIDs.
	// Default: the listener's actual address; an unspecified listen host
	// (":0", "0.0.0.0") advertises 127.0.0.1, so a multi-host cluster must
	// set it.
	AdvertiseAddr string
	// Cluster is the cluster name sent in Hello; a connection that says
	// another cluster is closed.
	Cluster string
	// TLS, when set, turns on mutual TLS both ways: the listener requires and
	// verifies client certificates (against ClientCAs, or RootCAs when
	// ClientCAs is nil) and the dialer verifies the listener's.
	TLS *tls.Config
	// DialTimeout bounds one dial, TLS handshake included. Default 1s.
	DialTimeout time.Duration
	// WriteTimeout: a peer that accepts no bytes for this long is declared
	// down. Default 5s.
	WriteTimeout time.Duration
	// HeartbeatInterval: a listener writes a heartbeat back on every
	// connection it accepted this often, so that the dialer can tell a hung
	// peer (stopped process, paused VM), whose kernel still accepts
	// connections and bytes, from a quiet one. The dialer's value, carried
	// in its hello, wins: its HeartbeatTimeout is measured against it.
	// Default 1s.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout: a dialled connection on which nothing was read for
	// this long is closed and its peer declared down. Default three
	// heartbeat intervals; a value not above the interval takes the
	// default, since the connection would be dropped between heartbeats.
	HeartbeatTimeout time.Duration
	// BackoffMin and BackoffMax bound the redial backoff, which doubles
	// after each failure. Defaults 50ms and 2s.
	BackoffMin, BackoffMax time.Duration
	// PeerIdleTimeout: a peer that has been down, with nothing sent to it,
	// for this long is forgotten: its writer stops redialling and it leaves
	// Stats. A later Send to it starts afresh. Up peers are kept however
	// idle. It lets short-lived clients, replied to at ephemeral ports, go
	// without leaving a redialling peer behind. Default 30s.
	PeerIdleTimeout time.Duration
	// MaxPeers bounds how many peers (each a writer goroutine and a
	// connection) the transport keeps. A frame's sender address is
	// whatever the remote side wrote, and replies go there: without a bound,
	// a stream of frames naming made-up senders would open connections
	// until file descriptors ran out. Sends to a new address past the bound
	// are dropped and counted as DroppedPeerDown. Default 4096.
	MaxPeers int
	// QueueBytes bounds each peer's queue of encoded frames. Default 64 MiB.
	QueueBytes int
	// MaxFrameSize bounds one frame (without its length prefix): larger
	// frames are refused at the sender and dropped by the receiver.
	// Default 4 MiB.
	MaxFrameSize int
	// Logger receives connection events at info and per-frame problems at
	// warn (rate limited) or debug. The zero Logger discards everything.
	Logger zerolog.Logger
}

func (c *TCPConfig) applyDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.DialTimeout, time.Second)
	def(&c.WriteTimeout, 5*time.Second)
	def(&c.BackoffMin, 50*time.Millisecond)
	def(&c.BackoffMax, 2*time.Second)
	def(&c.PeerIdleTimeout, 30*time.Second)
	def(&c.HeartbeatInterval, time.Second)
	if c.HeartbeatTimeout <= c.HeartbeatInterval {
		c.HeartbeatTimeout = 3 * c.HeartbeatInterval
	}
	if c.BackoffMax < c.BackoffMin {
		c.BackoffMax = c.BackoffMin
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = 64 << 20
	}
	if c.MaxPeers <= 0 {
		c.MaxPeers = 4096
	}
	if c.MaxFrameSize <= 0 {
		c.MaxFrameSize = 4 << 20
	}
}

// TCP is an actor.Remoter that carries msgpack frames over TCP (optionally
// mutual TLS). Each peer address gets one outbound connection, fed by one
// writer goroutine from a bounded byte queue; each inbound connection gets
// one reader goroutine that hands frames to the engine. One connection per
// direction keeps messages from one sender to one receiver in order.
//
// A peer is up from the listener's answer to our hello (see
// tcp_heartbeat.go), not from the connect, which a hung process's kernel
// still completes; it is down once its connection breaks, a write times
// out, nothing was read from it for HeartbeatTimeout, or a dial fails.
// PeerUp and PeerDown are broadcast on those changes. A listener that
// refuses a connection after accepting it (another cluster, or our
// certificate under TLS 1.3) never answers: a failed dial. A down
// peer is redialled with backoff while it is sent to, and forgotten once it
// was sent nothing for PeerIdleTimeout (see tcp_idle.go).
//
// Inbound frames reach the engine only once it is complete (see
// deliverable in tcp_idle.go).
type TCP struct {
	cfg       TCPConfig
	log       zerolog.Logger
	addr      string
	ln        net.Listener
	serverTLS *tls.Config
	engine    atomic.Pointer[actor.Engine]

	// peers holds the peer map. Peers are added and removed rarely, so the
	// set is copied on write (under mu) and read with one atomic load: the
	// send path takes no lock.
	peers     atomic.Pointer[peerSet]
	peerLimit sync.Once // the limit is logged once
	// ready is set once inbound frames may go to the engine.
	ready atomic.Bool

	mu      sync.Mutex // guards started, stopped, peers updates and every wg.Add from outside a tracked goroutine
	started bool
	stopped bool
	ctx     context.Context // cancelled by Stop: ends dials, sleeps and connections
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	received, droppedQueue, droppedDown  atomic.Uint64
	bytesSent, bytesReceived             atomic.Uint64
	refusedLarge, refusedEncode, badFrms atomic.Uint64
	dials, dialFailures                  atomic.Uint64
	encodeLog, frameLog                  rateLimiter
	responses                            responseGuard
}

var _ Transport = (*TCP)(nil)

// NewTCP listens at once, so that Address is final before actor.NewEngine
// reads it; the listener starts accepting in Start.
func NewTCP(cfg TCPConfig) (*TCP, error) {
	cfg.applyDefaults()
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", cfg.ListenAddr, err)
	}
	t := &TCP{cfg: cfg, log: cfg.Logger, ln: ln, addr: cfg.AdvertiseAddr}
	if t.addr == "" {
		a := ln.Addr().(*net.TCPAddr)
		host := a.IP.String()
		if a.IP.IsUnspecified() {
			host = "127.0.0.1"
		}
		t.addr = net.JoinHostPort(host, fmt.Sprint(a.Port))
	}
	if cfg.TLS != nil {
		t.serverTLS = cfg.TLS.Clone()
		t.serverTLS.ClientAuth = tls.RequireAndVerifyClientCert
		if t.serverTLS.ClientCAs == nil {
			t.serverTLS.ClientCAs = t.serverTLS.RootCAs
		}
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	return t, nil
}

// Address returns the advertised address: the engine compares it, as a
// string, with every PID's address to decide what is local.
func (t *TCP) Address() string { return t.addr }

// Start begins accepting connections. It broadcasts nothing: the engine's
// event stream does not exist yet while Start runs, and PeerUp/PeerDown
// come only from writers, which the first Send creates after NewEngine
// returned.
func (t *TCP) Start(e *actor.Engine) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return errors.New("transport stopped")
	}
	if t.started {
		return errors.New("transport already started")
	}
	t.started = true
	t.engine.Store(e)
	t.wg.Add(1)
	go t.acceptLoop()
	t.log.Info().Str("listen", t.ln.Addr().String()).Str("advertise", t.addr).Msg("transport listening")
	return nil
}

// Stop closes the listener and every connection; queued frames are
// dropped. The returned WaitGroup is done when every goroutine of the
// transport has exited; waiting on it twice, or calling Stop twice, is safe.
func (t *TCP) Stop() *sync.WaitGroup {
	t.mu.Lock()
	if !t.stopped {
		t.stopped = true
		t.cancel()
		_ = t.ln.Close()
		t.log.Info().Msg("transport stopped")
	}
	t.mu.Unlock()
	return &t.wg
}

// framePool holds encode buffers, so Send allocates nothing per message in
// the steady state.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledFrame keeps the rare huge frame's buffer out of the pool.
const maxPooledFrame = 64 << 10

// Send encodes msg and enqueues it for the peer at pid.Address. It runs on
// the sender's goroutine and never waits on the network: when the peer's
// queue is over 75% full and the peer is draining it, Send waits at most
// 200µs for room, otherwise it drops (see drainWindow for the policy).
// Failures are counted and logged, never returned: the engine has no error
// path here.
func (t *TCP) Send(pid *actor.PID, msg any, sender *actor.PID) {
	if pid == nil {
		return
	}
	if pid.Address == t.addr {
		if e := t.engine.Load(); e != nil {
			e.SendLocal(pid, msg, sender)
		}
		return
	}
	bp := framePool.Get().(*[]byte)
	b, err := messages.AppendFrame((*bp)[:0], pid, sender, msg)
	switch {
	case err != nil:
		t.refusedEncode.Add(1)
		t.log.WithLevel(t.encodeLog.level()).Err(err).Str("peer", pid.Address).
			Str("type", messages.NameOf(msg)).Msg("message refused: cannot encode")
	case len(b)-messages.LengthSize > t.cfg.MaxFrameSize:
		t.refusedLarge.Add(1)
		t.log.WithLevel(t.encodeLog.level()).Str("peer", pid.Address).Str("type", messages.NameOf(msg)).
			Int("size", len(b)-messages.LengthSize).Int("max", t.cfg.MaxFrameSize).Msg("message refused: frame too large")
	default:
		// A peer removed for idleness under our feet refuses the frame:
		// look again, which creates a fresh peer.
		for p := t.peerFor(pid.Address, nil); ; p = t.peerFor(pid.Address, p) {
			if p == nil {
				t.droppedDown.Add(1) // stopped, or past MaxPeers
				break
			}
			if p.enqueue(b) {
				break
			}
		}
	}
	if cap(b) <= maxPooledFrame {
		*bp = b[:0]
		framePool.Put(bp)
	}
}

// peerFor returns the peer for addr, creating it and its writer on first
// use or when the one found is stale (closed: removed for idleness); nil
// once the transport is stopped.
func (t *TCP) peerFor(addr string, stale *peer) *peer {
	if p, ok := t.peerSet().byAddr[addr]; ok && p != stale {
		return p
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return nil
	}
	old := t.peerSet()
	if p, ok := old.byAddr[addr]; ok && p != stale {
		return p
	}
	if len(old.byAddr) >= t.cfg.MaxPeers && old.byAddr[addr] == nil {
		t.peerLimit.Do(func() {
			t.log.Warn().Int("max_peers", t.cfg.MaxPeers).Str("peer", addr).
				Msg("peer limit reached: sends to new addresses are dropped")
		})
		return nil
	}
	m := make(map[string]*peer, len(old.byAddr)+1)
	for a, p := range old.byAddr {
		m[a] = p
	}
	p := newPeer(t, addr)
	m[addr] = p
	t.peers.Store(&peerSet{byAddr: m, gone: old.gone})
	t.wg.Add(1)
	go p.run()
	return p
}

// peerSet is the peer map and what its removed peers had sent, swapped
// together so Stats stays monotonic across a removal.
type peerSet struct {
	byAddr map[string]*peer
	gone   uint64 // frames sent by peers no longer in byAddr
}

func (t *TCP) peerSet() *peerSet {
	if s := t.peers.Load(); s != nil {
		return s
	}
	return &peerSet{}
}

// broadcast publishes an event once an engine is attached. Events are only
// raised by writers, which Send creates: Send is called through the engine
// after NewEngine returned, or by an actor that a delivered frame reached
// (see deliverable), so the event stream exists.
func (t *TCP) broadcast(ev any) {
	if e := t.engine.Load(); e != nil {
		e.BroadcastEvent(ev)
	}
}

// Stats returns a snapshot of the counters and of every outbound peer.
func (t *TCP) Stats() Stats {
	s := Stats{
		Received:         t.received.Load(),
		BytesSent:        t.bytesSent.Load(),
		BytesReceived:    t.bytesReceived.Load(),
		DroppedQueueFull: t.droppedQueue.Load(),
		DroppedPeerDown:  t.droppedDown.Load(),
		RefusedTooLarge:  t.refusedLarge.Load(),
		RefusedEncode:    t.refusedEncode.Load(),
		BadFrames:        t.badFrms.Load(),
		Dials:            t.dials.Load(),
		DialFailures:     t.dialFailures.Load(),
	}
	set := t.peerSet()
	s.Sent = set.gone
	for _, p := range set.byAddr {
		ps := p.stats()
		s.Sent += ps.Sent
		s.Peers = append(s.Peers, ps)
	}
	slices.SortFunc(s.Peers, func(a, b PeerStats) int { return strings.Compare(a.Addr, b.Addr) })
	return s
}

// epoch anchors nanotime, a cheap monotonic clock for atomics.
var epoch = time.Now()

func nanotime() int64 { return int64(time.Since(epoch)) }

// rateLimiter keeps per-frame problems from flooding the log: the first
// few are logged at warn, then at most one per second; the rest at debug.
type rateLimiter struct {
	n    atomic.Uint64
	next atomic.Int64
}

func (r *rateLimiter) level() zerolog.Level {
	if r.n.Add(1) <= 5 {
		return zerolog.WarnLevel
	}
	now, next := nanotime(), r.next.Load()
	if now >= next && r.next.CompareAndSwap(next, now+int64(time.Second)) {
		return zerolog.WarnLevel
	}
	return zerolog.DebugLevel
}
