package transport

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// idleConfig forgets a quiet down peer after 300ms and redials quickly.
func idleConfig() TCPConfig {
	return TCPConfig{PeerIdleTimeout: 300 * time.Millisecond, BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond}
}

func peerOf(tr *TCP, addr string) (PeerStats, bool) {
	for _, p := range tr.Stats().Peers {
		if p.Addr == addr {
			return p, true
		}
	}
	return PeerStats{}, false
}

// steady polls cond for the whole period and fails as soon as it does not
// hold.
func steady(tb testing.TB, period time.Duration, cond func() bool, format string, args ...any) {
	tb.Helper()
	for end := time.Now().Add(period); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if !cond() {
			tb.Fatalf(format, args...)
		}
	}
}

func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestTCPIdleDownPeerRemoved(t *testing.T) {
	cfg := idleConfig()
	trA, a := newTestNode(t, cfg)
	trB, b := newTestNode(t, TCPConfig{})
	addrB := trB.Address()
	pid, s := spawnSink(b, "s")
	a.Send(pid, &messages.Blob{Seq: 1})
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == 1 }, "first message not delivered")

	start := time.Now()
	trB.Stop().Wait()
	eventually(t, 5*time.Second, func() bool {
		p, ok := peerOf(trA, addrB)
		return ok && !p.Up
	}, "peer not down")
	dialsDown := trA.Stats().Dials
	eventually(t, 5*time.Second, func() bool { _, ok := peerOf(trA, addrB); return !ok }, "idle down peer not removed")
	if el := time.Since(start); el < cfg.PeerIdleTimeout {
		t.Fatalf("removed after %v, before the idle timeout", el)
	}
	st := trA.Stats()
	if st.Dials <= dialsDown {
		t.Fatalf("no redial while down: %d dials", st.Dials)
	}
	if st.Sent != 1 {
		t.Fatalf("Sent = %d after removal, want 1", st.Sent)
	}
	steady(t, 10*cfg.BackoffMax, func() bool { return trA.Stats().Dials == st.Dials },
		"dials go on after removal: %d, then %d", st.Dials, trA.Stats().Dials)

	// Back at the same address: a Send makes a fresh peer that connects.
	_, b2 := newTestNode(t, TCPConfig{ListenAddr: addrB})
	pid2, s2 := spawnSink(b2, "s")
	eventually(t, 10*time.Second, func() bool {
		a.Send(pid2, &messages.Blob{Seq: 2})
		return s2.n.Load() > 0
	}, "no message reached the restarted peer")
	if p, ok := peerOf(trA, addrB); !ok || !p.Up {
		t.Fatalf("no fresh peer up: %+v", trA.Stats().Peers)
	}
	eventually(t, 2*time.Second, func() bool { return trA.Stats().Sent >= 2 }, "Sent not monotonic")
}

func TestTCPIdleUpPeerKept(t *testing.T) {
	cfg := idleConfig()
	trA, a := newTestNode(t, cfg)
	trB, b := newTestNode(t, TCPConfig{})
	pid, s := spawnSink(b, "s")
	a.Send(pid, &messages.Blob{Seq: 1})
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == 1 }, "message not delivered")
	steady(t, 4*cfg.PeerIdleTimeout, func() bool {
		p, ok := peerOf(trA, trB.Address())
		return ok && p.Up
	}, "idle up peer not kept: %+v", trA.Stats().Peers)
	a.Send(pid, &messages.Blob{Seq: 2})
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == 2 }, "kept connection does not deliver")
}

// A down peer that is still sent to stays and is redialled; once the
// sends stop it goes.
func TestTCPDownPeerKeptWhileSentTo(t *testing.T) {
	cfg := idleConfig()
	tr, a := newTestNode(t, cfg)
	dead := deadAddr(t)
	pid := actor.NewPID(dead, "sink/s")
	a.Send(pid, &messages.Blob{})
	eventually(t, 5*time.Second, func() bool { return tr.Stats().DialFailures > 0 }, "no dial")
	dials := tr.Stats().Dials
	steady(t, 4*cfg.PeerIdleTimeout, func() bool {
		a.Send(pid, &messages.Blob{})
		_, ok := peerOf(tr, dead)
		return ok
	}, "peer removed while sent to")
	if d := tr.Stats().Dials; d <= dials {
		t.Fatalf("not redialled while sent to: %d dials", d)
	}
	eventually(t, 5*time.Second, func() bool { _, ok := peerOf(tr, dead); return !ok }, "not removed once sends stopped")
}

// Sends racing with removals are never lost uncounted: each one to a dead
// address is dropped as peer down, by whichever peer instance took it.
func TestTCPSendsRaceRemoval(t *testing.T) {
	tr, a := newTestNode(t, TCPConfig{PeerIdleTimeout: 15 * time.Millisecond, BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond})
	pid := actor.NewPID(deadAddr(t), "sink/s")
	const senders, rounds = 4, 40
	var sent atomic.Uint64
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range rounds {
				for range r.IntN(20) + 1 {
					a.Send(pid, &messages.Blob{})
					sent.Add(1)
				}
				// Gaps around the idle timeout, so sends meet removals.
				time.Sleep(time.Duration(r.IntN(30)) * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	eventually(t, 5*time.Second, func() bool {
		st := tr.Stats()
		return len(st.Peers) == 0 && st.DroppedPeerDown == sent.Load()
	}, "sends not all counted, or peer not removed: %d sent, stats %+v", sent.Load(), tr.Stats())
	if st := tr.Stats(); st.Sent != 0 || st.DroppedQueueFull != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// The race a timing test rarely hits: a Send that read the peer map just
// before the removal finds the peer closed and makes a fresh one, and a
// Send that gets in before the removal keeps the peer.
func TestTCPSendToRemovedPeer(t *testing.T) {
	tr, a := newTestNode(t, TCPConfig{})
	dead := deadAddr(t)
	pid := actor.NewPID(dead, "sink/s")
	a.Send(pid, &messages.Blob{})
	eventually(t, 5*time.Second, func() bool { return tr.Stats().DroppedPeerDown == 1 }, "first send not dropped as peer down")
	p := tr.peerFor(dead, nil)
	frame, err := messages.AppendFrame(nil, pid, nil, &messages.Blob{})
	if err != nil {
		t.Fatal(err)
	}

	p.used.Store(true) // a Send under way
	if tr.remove(p) {
		t.Fatal("removed a peer that a Send reached")
	}
	p.used.Store(false)
	if !tr.remove(p) {
		t.Fatal("quiet down peer not removed")
	}
	if p.enqueue(frame) {
		t.Fatal("a removed peer took a frame")
	}
	q := tr.peerFor(dead, p)
	if q == nil || q == p {
		t.Fatalf("no fresh peer: %p, removed %p", q, p)
	}
	if !q.enqueue(frame) {
		t.Fatal("the fresh peer refused a frame")
	}
	eventually(t, 5*time.Second, func() bool { return tr.Stats().DroppedPeerDown == 2 }, "frame to the fresh peer not counted")
	if st := tr.Stats(); len(st.Peers) != 1 || st.Peers[0].Addr != dead {
		t.Fatalf("peers %+v", st.Peers)
	}
}
