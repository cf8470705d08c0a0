package transport

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// events collects the PeerUp and PeerDown events of one engine.
type events struct {
	mu  sync.Mutex
	all []any
}

func subscribeEvents(e *actor.Engine) *events {
	ev := &events{}
	pid := e.SpawnFunc(func(c *actor.Context) {
		switch m := c.Message().(type) {
		case PeerUp, PeerDown:
			ev.mu.Lock()
			ev.all = append(ev.all, m)
			ev.mu.Unlock()
		}
	}, "events")
	e.Subscribe(pid)
	return ev
}

func (ev *events) snapshot() []any {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return append([]any(nil), ev.all...)
}

// count returns how many events equal to want (compared on kind and
// address) were seen.
func (ev *events) count(want any) int {
	n := 0
	for _, e := range ev.snapshot() {
		switch w := want.(type) {
		case PeerUp:
			if g, ok := e.(PeerUp); ok && g.Addr == w.Addr {
				n++
			}
		case PeerDown:
			if g, ok := e.(PeerDown); ok && g.Addr == w.Addr {
				n++
			}
		}
	}
	return n
}

func TestTCPReconnectSameAddress(t *testing.T) {
	trA, a := newTestNode(t, TCPConfig{})
	ev := subscribeEvents(a)
	echoA := spawnEcho(a)
	trB, b := newTestNode(t, TCPConfig{})
	addrB := trB.Address()
	pid, s := spawnSink(b, "s")

	a.Send(pid, &messages.Blob{Seq: 1})
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == 1 }, "first message not delivered")
	eventually(t, 2*time.Second, func() bool { return ev.count(PeerUp{Addr: addrB}) == 1 }, "no PeerUp")

	// B's transport goes away: A sees EOF on its connection at once.
	trB.Stop().Wait()
	eventually(t, 2*time.Second, func() bool { return ev.count(PeerDown{Addr: addrB}) == 1 }, "no PeerDown")
	a.Send(pid, &messages.Blob{Seq: 2}) // dropped: B is down
	eventually(t, time.Second, func() bool { return trA.Stats().DroppedPeerDown >= 1 }, "send to a down peer not counted")

	// A new transport and engine at the same address.
	trB2, b2 := newTestNode(t, TCPConfig{ListenAddr: addrB})
	if trB2.Address() != addrB {
		t.Fatalf("restarted at %s, want %s", trB2.Address(), addrB)
	}
	pid2, s2 := spawnSink(b2, "s")
	eventually(t, 10*time.Second, func() bool {
		a.Send(pid2, &messages.Blob{Seq: 3})
		return s2.n.Load() > 0
	}, "no message reached the restarted peer")
	eventually(t, 2*time.Second, func() bool { return ev.count(PeerUp{Addr: addrB}) == 2 }, "no second PeerUp")

	// The restarted node's requests are answered over A's new connection.
	for i := range 10 {
		res, err := b2.Request(echoA, &messages.Ping{Seq: uint64(i)}, 2*time.Second).Result()
		if err != nil {
			t.Fatalf("request %d from the restarted peer: %v", i, err)
		}
		if p, ok := res.(*messages.Pong); !ok || p.Seq != uint64(i) {
			t.Fatalf("got %#v", res)
		}
	}
	if n := s.n.Load(); n != 1 {
		t.Fatalf("old sink got %d messages", n)
	}
	if n := ev.count(PeerDown{Addr: addrB}); n != 1 {
		t.Fatalf("%d PeerDown events, want 1 (one up→down change): %v", n, ev.snapshot())
	}
}

// A dead address costs a healthy peer nothing (a black-holed one: see
// TestTCPBlackHoledPeer).
func TestTCPDeadPeerDoesNotDelayOthers(t *testing.T) {
	trA, a := newTestNode(t, TCPConfig{})
	ev := subscribeEvents(a)
	_, b := newTestNode(t, TCPConfig{})
	pid, s := spawnSink(b, "s")

	// A port nobody listens on: dials are refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	deadPID := actor.NewPID(dead, "sink/s")

	const n = 2000
	sendAlongside(t, a, deadPID, pid, s, n)
	eventually(t, 3*time.Second, func() bool { return ev.count(PeerDown{Addr: dead}) == 1 }, "no PeerDown for the dead peer")
	eventually(t, 3*time.Second, func() bool {
		st := trA.Stats()
		return st.DialFailures >= 1 && st.DroppedPeerDown == n
	}, "dead peer's messages not counted as dropped")
	if n := ev.count(PeerDown{Addr: dead}); n != 1 {
		t.Fatalf("%d PeerDown events for repeated dial failures, want 1", n)
	}
}

// A peer that accepts connections but never reads (a stopped process) is
// declared down once it stays silent for the heartbeat timeout; its
// senders never wait long and a healthy peer keeps all its traffic.
func TestTCPHungPeer(t *testing.T) {
	trA, a := newTestNode(t, TCPConfig{WriteTimeout: time.Second, HeartbeatInterval: 250 * time.Millisecond, QueueBytes: 8 << 20})
	ev := subscribeEvents(a)
	_, b := newTestNode(t, TCPConfig{})
	pid, s := spawnSink(b, "s")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // never read
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	hung := actor.NewPID(l.Addr().String(), "sink/s")

	data := make([]byte, 1024)
	var sent int
	var slowest time.Duration
	deadline := time.Now().Add(5 * time.Second)
	for ev.count(PeerDown{Addr: hung.Address}) == 0 && sent < 200000 && time.Now().Before(deadline) {
		start := time.Now()
		a.Send(hung, &messages.Blob{Seq: uint64(sent), Data: data})
		slowest = max(slowest, time.Since(start))
		a.Send(pid, &messages.Blob{Seq: uint64(sent)})
		sent++
		if sent%64 == 0 {
			time.Sleep(100 * time.Microsecond) // a steady stream, not a tight loop
		}
	}
	if ev.count(PeerDown{Addr: hung.Address}) == 0 {
		t.Fatalf("hung peer not declared down after %d messages", sent)
	}
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == int64(sent) }, "the healthy peer did not get all messages: %d of %d, %+v", s.n.Load(), sent, trA.Stats())
	st := trA.Stats()
	if st.DroppedPeerDown+st.DroppedQueueFull == 0 {
		t.Fatalf("nothing dropped for the hung peer: %+v", st)
	}
	// Far below the write timeout, with room for a busy machine's
	// scheduling delays.
	if slowest > 250*time.Millisecond {
		t.Fatalf("a Send to the hung peer took %v", slowest)
	}
	t.Logf("%d messages; slowest Send to the hung peer %v; dropped: %d queue full, %d peer down",
		sent, slowest, st.DroppedQueueFull, st.DroppedPeerDown)
}
