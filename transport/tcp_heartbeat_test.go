package transport

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// beatConfig has A ask for heartbeats every 100ms (silence timeout 300ms)
// and redial quickly.
func beatConfig() TCPConfig {
	return TCPConfig{HeartbeatInterval: 100 * time.Millisecond, BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond}
}

// readFrame reads one length-prefixed frame from r and decodes it.
func readFrame(r io.Reader) (messages.Frame, error) {
	var hdr [messages.LengthSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return messages.Frame{}, err
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(r, body); err != nil {
		return messages.Frame{}, err
	}
	return messages.DecodeFrame(body)
}

// silentPeer is a listener whose process is, in effect, hung: it accepts
// every connection and takes its hello, then never writes, and counts
// what else arrives.
type silentPeer struct {
	l      net.Listener
	hellos atomic.Int64
	first  atomic.Int64 // nanotime of the first hello
	extra  atomic.Int64 // bytes received after the hellos
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func newSilentPeer(t *testing.T) *silentPeer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &silentPeer{l: l}
	t.Cleanup(func() {
		l.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		p.closed = true
		for _, c := range p.conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.closed { // the test ended: no goroutine may report to it
				p.mu.Unlock()
				c.Close()
				return
			}
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			go p.serve(t, c)
		}
	}()
	return p
}

func (p *silentPeer) serve(t *testing.T, c net.Conn) {
	f, err := readFrame(c)
	if err != nil {
		return
	}
	h, ok := f.Msg.(*messages.Hello)
	if !ok || h.Beat != int64(100*time.Millisecond) {
		t.Errorf("first frame %#v, want a hello asking for 100ms heartbeats", f.Msg)
		return
	}
	p.first.CompareAndSwap(0, nanotime())
	p.hellos.Add(1)
	n, _ := io.Copy(io.Discard, c)
	p.extra.Add(n)
}

// A listener that completes the hello but then stays silent (a stopped
// process whose kernel still accepts) is never up, is reported down once
// the silence timeout passes, stays down however often it is redialled,
// and gets none of the queue.
func TestTCPSilentListenerDown(t *testing.T) {
	cfg := beatConfig()
	trA, a := newTestNode(t, cfg)
	ev := subscribeEvents(a)
	silent := newSilentPeer(t)
	addr := silent.l.Addr().String()
	pid := actor.NewPID(addr, "sink/s")

	a.Send(pid, &messages.Blob{Seq: 1})
	eventually(t, 5*time.Second, func() bool { return ev.count(PeerDown{Addr: addr}) == 1 }, "no PeerDown for the silent peer")
	took := time.Duration(nanotime() - silent.first.Load())
	timeout := 3 * cfg.HeartbeatInterval
	if took > timeout+time.Second {
		t.Fatalf("PeerDown %v after the hello, want about %v", took, timeout)
	}
	t.Logf("PeerDown %v after the hello (timeout %v)", took, timeout)

	// Redials reach the silent peer's accept queue and hello again, but
	// without an answer the peer stays down.
	hellos := silent.hellos.Load()
	steady(t, 5*timeout, func() bool {
		a.Send(pid, &messages.Blob{Seq: 2})
		p, ok := peerOf(trA, addr)
		return ok && !p.Up && ev.count(PeerUp{Addr: addr}) == 0
	}, "silent peer reported up: %v", ev.snapshot())
	eventually(t, 5*time.Second, func() bool { return silent.hellos.Load() > hellos }, "the silent peer was not redialled")
	if n := ev.count(PeerDown{Addr: addr}); n != 1 {
		t.Fatalf("%d PeerDown events, want 1: %v", n, ev.snapshot())
	}
	if st := trA.Stats(); st.Sent != 0 || silent.extra.Load() != 0 {
		t.Fatalf("frames written to a peer that never answered: %d bytes, stats %+v", silent.extra.Load(), st)
	}
}

// A healthy connection that carries nothing stays up across many silence
// timeouts: the listener's heartbeats keep it alive.
func TestTCPIdleConnectionStaysUp(t *testing.T) {
	cfg := beatConfig()
	cfg.HeartbeatInterval = 50 * time.Millisecond
	trA, a := newTestNode(t, cfg)
	ev := subscribeEvents(a)
	trB, b := newTestNode(t, TCPConfig{}) // its own interval is 1s: A's request wins
	addrB := trB.Address()
	pid, s := spawnSink(b, "s")

	a.Send(pid, &messages.Blob{Seq: 1})
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == 1 }, "message not delivered")
	eventually(t, 2*time.Second, func() bool { return ev.count(PeerUp{Addr: addrB}) == 1 }, "no PeerUp")
	steady(t, 8*3*cfg.HeartbeatInterval, func() bool {
		p, ok := peerOf(trA, addrB)
		return ok && p.Up && ev.count(PeerDown{Addr: addrB}) == 0
	}, "idle healthy peer went down: %v", ev.snapshot())
	a.Send(pid, &messages.Blob{Seq: 2})
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == 2 }, "the idle connection does not deliver")
	if up, dials := ev.count(PeerUp{Addr: addrB}), trA.Stats().Dials; up != 1 || dials != 1 {
		t.Fatalf("%d PeerUp events and %d dials, want one of each", up, dials)
	}
}

// The listener answers a hello with an ack, then heartbeats at the
// interval the dialer asked for.
func TestTCPListenerAnswersHello(t *testing.T) {
	tr, _ := newTestNode(t, TCPConfig{})
	c := dialRaw(t, tr.Address())
	h := &messages.Hello{Addr: "127.0.0.1:1", Cluster: "test", Beat: int64(20 * time.Millisecond)}
	if _, err := c.Write(rawFrame(t, actor.NewPID(tr.Address(), helloID), h)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	for i := range 6 {
		f, err := readFrame(c)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		hb, ok := f.Msg.(*messages.Heartbeat)
		if !ok || hb.Ack != (i == 0) || f.Target.ID != heartbeatID || f.Target.Address != h.Addr {
			t.Fatalf("frame %d: %#v for %v, want a heartbeat (ack first)", i, f.Msg, f.Target)
		}
	}
	// Five intervals of 20ms; far below the listener's own 1s.
	if el := time.Since(start); el > 900*time.Millisecond {
		t.Fatalf("five heartbeats took %v", el)
	}
}

// LastHeard moves with every heartbeat of a live peer and stops with a
// hung one: it is what a failure detector judges peers by.
func TestLastHeardFollowsHeartbeats(t *testing.T) {
	a, ea := newTestNode(t, beatConfig())
	b, eb := newTestNode(t, TCPConfig{})
	spawnSink(eb, "s")
	ea.Send(actor.NewPID(b.Address(), "sink/s"), &messages.Blob{Seq: 1})
	heard := func(addr string) time.Time {
		for _, p := range a.Stats().Peers {
			if p.Addr == addr {
				return p.LastHeard
			}
		}
		return time.Time{}
	}
	var first time.Time
	eventually(t, 5*time.Second, func() bool { first = heard(b.Address()); return !first.IsZero() }, "a hears from b")
	eventually(t, 5*time.Second, func() bool { return heard(b.Address()).Sub(first) >= 200*time.Millisecond }, "a hears b's next heartbeats")
	if d := time.Since(heard(b.Address())); d > time.Second {
		t.Fatalf("last heard %v ago from a live peer beating every 100ms", d)
	}

	hung := newSilentPeer(t)
	ea.Send(actor.NewPID(hung.l.Addr().String(), "x/y"), &messages.Blob{Seq: 1})
	eventually(t, 5*time.Second, func() bool { return hung.hellos.Load() > 0 }, "a dialled the hung peer")
	if h := heard(hung.l.Addr().String()); !h.IsZero() {
		t.Fatalf("heard from a peer that never wrote, at %v", h)
	}
}
