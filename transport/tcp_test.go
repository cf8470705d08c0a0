package transport

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// newTestNode starts a transport on a free loopback port and an engine on
// it; both stop when the test ends.
func newTestNode(tb testing.TB, cfg TCPConfig) (*TCP, *actor.Engine) {
	tb.Helper()
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	if cfg.Cluster == "" {
		cfg.Cluster = "test"
	}
	tr, err := NewTCP(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { tr.Stop().Wait() })
	e, err := actor.NewEngine(actor.NewEngineConfig().WithRemote(tr))
	if err != nil {
		tb.Fatal(err)
	}
	return tr, e
}

// sink records every Blob it receives, in order.
type sink struct {
	mu   sync.Mutex
	seqs []uint64
	n    atomic.Int64
}

func spawnSink(e *actor.Engine, id string) (*actor.PID, *sink) {
	s := &sink{}
	pid := e.SpawnFunc(func(c *actor.Context) {
		if m, ok := c.Message().(*messages.Blob); ok {
			s.mu.Lock()
			s.seqs = append(s.seqs, m.Seq)
			s.mu.Unlock()
			s.n.Add(1)
		}
	}, "sink", actor.WithID(id))
	return pid, s
}

// counter only counts Blobs, for the benchmark.
func spawnCounter(e *actor.Engine, n *atomic.Int64) *actor.PID {
	return e.SpawnFunc(func(c *actor.Context) {
		if _, ok := c.Message().(*messages.Blob); ok {
			n.Add(1)
		}
	}, "counter", actor.WithID("c"))
}

// spawnEcho answers Echo with itself and Ping with Pong.
func spawnEcho(e *actor.Engine) *actor.PID {
	return e.SpawnFunc(func(c *actor.Context) {
		switch m := c.Message().(type) {
		case *messages.Echo:
			c.Respond(m)
		case *messages.Ping:
			c.Respond(&messages.Pong{Seq: m.Seq, Sent: m.Sent, Node: c.Engine().Address()})
		}
	}, "echo", actor.WithID("e"))
}

// eventually polls cond until it holds or the deadline passes.
func eventually(tb testing.TB, within time.Duration, cond func() bool, format string, args ...any) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: "+format, append([]any{within}, args...)...)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTCPRequestResponse(t *testing.T) {
	trA, a := newTestNode(t, TCPConfig{})
	trB, b := newTestNode(t, TCPConfig{})
	echoB := spawnEcho(b)
	echoA := spawnEcho(a)
	for i := range 200 {
		res, err := a.Request(echoB, &messages.Echo{Seq: uint64(i), Data: []byte("x")}, 2*time.Second).Result()
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if m, ok := res.(*messages.Echo); !ok || m.Seq != uint64(i) {
			t.Fatalf("request %d: got %#v", i, res)
		}
	}
	res, err := b.Request(echoA, &messages.Ping{Seq: 7}, 2*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := res.(*messages.Pong); !ok || p.Seq != 7 || p.Node != trA.Address() {
		t.Fatalf("got %#v", res)
	}
	// Counters settle just after delivery: poll.
	eventually(t, time.Second, func() bool {
		sa, sb := trA.Stats(), trB.Stats()
		return sa.Sent == 201 && sb.Received == 201 && sb.Sent == 201 && sa.Received == 201
	}, "stats did not settle")
}

func TestTCPFIFO(t *testing.T) {
	const n = 10000
	trA, a := newTestNode(t, TCPConfig{})
	trB, b := newTestNode(t, TCPConfig{})
	pid, s := spawnSink(b, "fifo")
	for i := range n {
		a.Send(pid, &messages.Blob{Seq: uint64(i), Data: make([]byte, 64)})
	}
	eventually(t, 10*time.Second, func() bool { return s.n.Load() == n }, "received %d of %d", s.n.Load(), n)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, seq := range s.seqs {
		if seq != uint64(i) {
			t.Fatalf("message %d has seq %d", i, seq)
		}
	}
	eventually(t, time.Second, func() bool { return trB.Stats().Received == n }, "B's Received did not reach %d", n)
	if st := trA.Stats(); st.Sent != n || st.DroppedQueueFull+st.DroppedPeerDown != 0 {
		t.Fatalf("A stats %+v", st)
	}
}

type notRegistered struct{ X int }

func TestTCPRefusedAtSender(t *testing.T) {
	trA, a := newTestNode(t, TCPConfig{MaxFrameSize: 64 << 10})
	_, b := newTestNode(t, TCPConfig{})
	pid, s := spawnSink(b, "big")
	a.Send(pid, &messages.Blob{Seq: 1, Data: make([]byte, 100<<10)})
	a.Send(pid, &notRegistered{X: 1})
	a.Send(pid, &messages.Blob{Seq: 2, Data: make([]byte, 60<<10)})
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == 1 }, "the small blob did not arrive")
	st := trA.Stats()
	if st.RefusedTooLarge != 1 || st.RefusedEncode != 1 || st.Sent != 1 {
		t.Fatalf("stats %+v", st)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seqs[0] != 2 {
		t.Fatalf("got seq %d", s.seqs[0])
	}
}

func TestTCPStopTwice(t *testing.T) {
	tr, a := newTestNode(t, TCPConfig{})
	_, b := newTestNode(t, TCPConfig{})
	pid, s := spawnSink(b, "s")
	a.Send(pid, &messages.Blob{Seq: 1})
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == 1 }, "not delivered")
	wg := tr.Stop()
	wg.Wait()
	wg.Wait()
	tr.Stop().Wait()
	a.Send(pid, &messages.Blob{Seq: 2}) // after Stop: counted, not sent
	if st := tr.Stats(); st.DroppedPeerDown != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// A Response has one slot: a second reply before Result must not stall the
// connection that carries it.
func TestTCPDuplicateReplyDoesNotBlock(t *testing.T) {
	trA, a := newTestNode(t, TCPConfig{})
	_, b := newTestNode(t, TCPConfig{})
	echo := spawnEcho(b)
	twice := b.SpawnFunc(func(c *actor.Context) {
		if m, ok := c.Message().(*messages.Ping); ok {
			c.Respond(&messages.Pong{Seq: m.Seq})
			c.Respond(&messages.Pong{Seq: m.Seq + 1})
		}
	}, "twice")
	resp := a.Request(twice, &messages.Ping{Seq: 1}, 5*time.Second)
	eventually(t, 2*time.Second, func() bool { return trA.Stats().Received == 2 }, "both replies should arrive")
	if _, err := a.Request(echo, &messages.Echo{Seq: 2}, 2*time.Second).Result(); err != nil {
		t.Fatalf("connection stalled by a duplicate reply: %v", err)
	}
	res, err := resp.Result()
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := res.(*messages.Pong); !ok || p.Seq != 1 {
		t.Fatalf("got %#v, want the first reply", res)
	}
}
