package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// ioBufSize is the reader's buffer: frames that fit are decoded in place.
const ioBufSize = 64 << 10

// responsePrefix marks the ids of hollywood's Request responses. A
// Response has a one-slot channel: a second reply delivered before Result
// is called blocks whoever delivers it. The first reply to a response id
// is delivered in line (it always fits); a repeated one goes through its
// own goroutine, which parks instead of stalling the connection.
const responsePrefix = "response/"

// responseMemory is how many recent response ids are remembered. A
// duplicate whose first reply is older than that, to a Response whose
// Result has still not been called, would block the reader; a Response
// whose Result ran is unregistered and its duplicates go to dead letters.
const responseMemory = 32 << 10

// responseGuard remembers the response ids delivered recently.
type responseGuard struct {
	mu   sync.Mutex
	seen map[string]struct{}
	ring []string
	next int
}

// first records id and reports whether it was not seen recently.
func (g *responseGuard) first(id string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, dup := g.seen[id]; dup {
		return false
	}
	if g.seen == nil {
		g.seen = make(map[string]struct{}, responseMemory)
		g.ring = make([]string, responseMemory)
	}
	if old := g.ring[g.next]; old != "" {
		delete(g.seen, old)
	}
	g.ring[g.next] = id
	g.seen[id] = struct{}{}
	g.next = (g.next + 1) % responseMemory
	return true
}

// outConn is one dialled connection and the goroutine reading it. Only
// the listener's heartbeats come back (see tcp_heartbeat.go); the read
// also sees a peer's close (EOF, reset, TLS alert) at once instead of at
// the next write.
type outConn struct {
	raw     net.Conn      // closed directly: a TLS close_notify could block on a hung peer
	conn    net.Conn      // raw, or TLS over raw
	acked   chan struct{} // closed when the listener's hello-ack arrives
	dead    chan struct{}
	readErr error // set before dead is closed
	stop    func() bool
	heard   *atomic.Int64 // nanotime of the last frame read, the peer's
}

func (t *TCP) dial(addr string, hello []byte, heard *atomic.Int64) (*outConn, error) {
	ctx, cancel := context.WithTimeout(t.ctx, t.cfg.DialTimeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	tuneConn(raw, t.cfg.WriteTimeout)
	conn := raw
	if t.cfg.TLS != nil {
		cfg := t.cfg.TLS.Clone()
		if cfg.ServerName == "" {
			host, _, _ := net.SplitHostPort(addr)
			cfg.ServerName = host
		}
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = raw.Close()
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		conn = tc
	}
	_ = conn.SetWriteDeadline(time.Now().Add(t.cfg.WriteTimeout))
	if _, err := conn.Write(hello); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("write hello: %w", err)
	}
	c := &outConn{raw: raw, conn: conn, acked: make(chan struct{}), dead: make(chan struct{}), heard: heard}
	c.stop = context.AfterFunc(t.ctx, func() { _ = raw.Close() })
	t.wg.Add(1) // the calling writer is tracked, so the count is not zero here
	go c.readLoop(t)
	return c, nil
}

func (c *outConn) close() {
	c.stop()
	_ = c.raw.Close()
}

// rejected reports whether the peer ended the connection with a TLS alert:
// under TLS 1.3 a listener refuses our certificate only after our side of
// the handshake has completed, so that is how a refused dial shows.
func (c *outConn) rejected() bool {
	select {
	case <-c.dead:
	default:
		return false
	}
	var op *net.OpError
	return errors.As(c.readErr, &op) && op.Op == "remote error"
}

func (t *TCP) acceptLoop() {
	defer t.wg.Done()
	delay := 5 * time.Millisecond
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if t.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait, do not spin.
			t.log.Warn().Err(err).Msg("accept failed")
			select {
			case <-time.After(delay):
			case <-t.ctx.Done():
				return
			}
			delay = min(2*delay, time.Second)
			continue
		}
		delay = 5 * time.Millisecond
		t.wg.Add(1) // this loop is tracked, so the count is not zero here
		go t.serveInbound(c)
	}
}

// serveInbound reads one inbound connection: a hello first, then frames
// for the engine until the connection ends. Bad frames are counted and
// skipped; only a broken stream ends the connection.
func (t *TCP) serveInbound(raw net.Conn) {
	defer t.wg.Done()
	stop := context.AfterFunc(t.ctx, func() { _ = raw.Close() })
	defer stop()
	defer raw.Close()
	remote := raw.RemoteAddr().String()
	tuneConn(raw, 0)

	// A dialer sends its hello right after connecting; a silent
	// connection must not hold a goroutine forever.
	_ = raw.SetReadDeadline(time.Now().Add(t.cfg.DialTimeout + t.cfg.WriteTimeout))
	conn := raw
	if t.serverTLS != nil {
		tc := tls.Server(raw, t.serverTLS)
		if err := tc.HandshakeContext(t.ctx); err != nil {
			t.log.WithLevel(t.frameLog.level()).Str("remote", remote).Err(err).Msg("inbound tls handshake failed")
			return
		}
		conn = tc
	}
	r := &frameReader{br: bufio.NewReaderSize(conn, ioBufSize), max: t.cfg.MaxFrameSize, strict: true}
	body, err := r.next()
	r.strict = false
	if err != nil {
		t.log.Debug().Str("remote", remote).Err(err).Msg("inbound connection closed before hello")
		return
	}
	f, err := messages.DecodeFrame(body)
	hello, ok := f.Msg.(*messages.Hello)
	if err != nil || !ok {
		t.log.WithLevel(t.frameLog.level()).Str("remote", remote).Err(err).Msg("inbound connection closed: first frame is not a hello")
		return
	}
	if hello.Cluster != t.cfg.Cluster {
		t.log.WithLevel(t.frameLog.level()).Str("peer", hello.Addr).Str("cluster", hello.Cluster).
			Msg("inbound connection closed: another cluster")
		// Say why before closing: the dialer's operator sees it.
		why := fmt.Sprintf("this node is of cluster %q, the dialer of %q", t.cfg.Cluster, hello.Cluster)
		if frame, err := messages.AppendFrame(nil, &actor.PID{Address: hello.Addr, ID: heartbeatID}, nil, &messages.Heartbeat{Refused: why}); err == nil {
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = conn.Write(frame)
		}
		return
	}
	_ = raw.SetReadDeadline(time.Time{})
	peer := hello.Addr
	t.log.Info().Str("peer", peer).Str("remote", remote).Msg("inbound connection")
	done := make(chan struct{})
	defer close(done) // before raw.Close, deferred earlier
	t.wg.Add(1)       // this goroutine is tracked, so the count is not zero here
	go t.heartbeat(conn, raw, peer, t.beatFor(hello), done)

	engine := t.engine.Load()
	var dec messages.FrameDecoder // per connection: reuses the PIDs it carries
	var delivered, bytesIn uint64
	for {
		if delivered > 0 && r.br.Buffered() == r.skip {
			t.received.Add(delivered) // once per read, not per frame
			t.bytesReceived.Add(bytesIn)
			delivered, bytesIn = 0, 0
		}
		body, err := r.next()
		if errors.Is(err, errFrameTooLarge) {
			t.badFrms.Add(1)
			t.log.WithLevel(t.frameLog.level()).Str("peer", peer).Err(err).Msg("frame dropped")
			continue
		}
		if err != nil {
			t.received.Add(delivered)
			t.bytesReceived.Add(bytesIn)
			t.log.Info().Str("peer", peer).Err(err).Msg("inbound connection closed")
			return
		}
		bytesIn += uint64(len(body) + messages.LengthSize)
		f, err := dec.Decode(body)
		if err != nil {
			t.badFrms.Add(1)
			t.log.WithLevel(t.frameLog.level()).Str("peer", peer).Err(err).Msg("frame dropped")
			continue
		}
		if f.Tag == messages.TagHello || f.Tag == messages.TagHeartbeat {
			continue
		}
		delivered++
		if !t.deliverable(engine, f.Target) {
			t.log.Debug().Str("peer", peer).Str("target", f.Target.ID).Msg("frame for a missing actor dropped: engine starting")
			continue
		}
		if strings.HasPrefix(f.Target.ID, responsePrefix) && !t.responses.first(f.Target.ID) {
			go engine.SendLocal(f.Target, f.Msg, f.Sender)
			continue
		}
		engine.SendLocal(f.Target, f.Msg, f.Sender)
	}
}

var errFrameTooLarge = errors.New("frame over the maximum size")

// frameReader reads length-prefixed frames. A frame that fits the buffer
// is returned in place (valid until the next call); a larger one is read
// into a reused slice.
type frameReader struct {
	br   *bufio.Reader
	max  int
	skip int // bytes of the previous in-place frame still to consume
	// strict: a frame larger than the buffer is an error, not skipped
	// (before the hello, where it means the other end does not speak this
	// protocol and must not make us hold or read megabytes).
	strict bool
	buf    []byte
}

func (r *frameReader) next() ([]byte, error) {
	if r.skip > 0 {
		_, _ = r.br.Discard(r.skip)
		r.skip = 0
	}
	if cap(r.buf) > 1<<20 {
		r.buf = nil // keep a rare huge frame's memory only while it is in use
	}
	hdr, err := r.br.Peek(messages.LengthSize)
	if err != nil {
		return nil, err
	}
	n := messages.FrameLength(hdr)
	_, _ = r.br.Discard(messages.LengthSize)
	if r.strict && n > r.br.Size() {
		return nil, fmt.Errorf("%w: %d bytes", errFrameTooLarge, n)
	}
	if n > r.max {
		if _, err := io.CopyN(io.Discard, r.br, int64(n)); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %d bytes", errFrameTooLarge, n)
	}
	if n <= r.br.Size() {
		b, err := r.br.Peek(n)
		if err != nil {
			return nil, err
		}
		r.skip = n
		return b, nil
	}
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	b := r.buf[:n]
	if _, err := io.ReadFull(r.br, b); err != nil {
		return nil, err
	}
	return b, nil
}
