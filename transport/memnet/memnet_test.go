package memnet

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/transport"
)

// node builds an engine on n at addr and stops its transport when the test
// ends.
func node(t *testing.T, n *Network, addr string) (*actor.Engine, *Transport) {
	t.Helper()
	tr := n.Transport(addr)
	e, err := actor.NewEngine(actor.NewEngineConfig().WithRemote(tr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Stop().Wait() })
	return e, tr
}

// sink records every Blob it receives, in order, with its arrival time.
type sink struct {
	mu   sync.Mutex
	seqs []uint64
	at   []time.Time
}

func spawnSink(e *actor.Engine) (*sink, *actor.PID) {
	s := &sink{}
	pid := e.SpawnFunc(func(c *actor.Context) {
		if m, ok := c.Message().(*messages.Blob); ok {
			s.mu.Lock()
			s.seqs = append(s.seqs, m.Seq)
			s.at = append(s.at, time.Now())
			s.mu.Unlock()
		}
	}, "sink")
	return s, pid
}

func (s *sink) got() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seqs)
}

func (s *sink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seqs)
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRequestResponse(t *testing.T) {
	n := New(1)
	a, ta := node(t, n, "a")
	b, _ := node(t, n, "b")
	ping := b.SpawnFunc(func(c *actor.Context) {
		if m, ok := c.Message().(*messages.Ping); ok {
			c.Respond(&messages.Pong{Seq: m.Seq, Sent: m.Sent, Node: "b"})
		}
	}, "ping")

	res, err := a.Request(ping, &messages.Ping{Seq: 7, Sent: 42}, time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	pong, ok := res.(*messages.Pong)
	if !ok || pong.Seq != 7 || pong.Sent != 42 || pong.Node != "b" {
		t.Fatalf("reply %#v", res)
	}
	s := ta.Stats()
	if s.Sent != 1 || s.Received != 1 || len(s.Peers) != 1 || s.Peers[0].Addr != "b" || !s.Peers[0].Up {
		t.Fatalf("stats %+v", s)
	}
}

func TestFIFO(t *testing.T) {
	const count = 10000
	n := New(1)
	a, _ := node(t, n, "a")
	b, _ := node(t, n, "b")
	s, pid := spawnSink(b)
	for i := range uint64(count) {
		a.Send(pid, &messages.Blob{Seq: i})
	}
	waitFor(t, "every message", func() bool { return s.len() == count })
	for i, seq := range s.got() {
		if seq != uint64(i) {
			t.Fatalf("message %d has seq %d", i, seq)
		}
	}
}

func TestPartitionAndHeal(t *testing.T) {
	n := New(1)
	a, ta := node(t, n, "a")
	b, tb := node(t, n, "b")
	c, _ := node(t, n, "c")
	sa, pa := spawnSink(a)
	sb, pb := spawnSink(b)
	sc, pc := spawnSink(c)

	n.Partition([]string{"a"}, []string{"b"})
	a.Send(pb, &messages.Blob{Seq: 1})
	b.Send(pa, &messages.Blob{Seq: 1})
	if ta.Stats().DroppedPeerDown != 1 || tb.Stats().DroppedPeerDown != 1 {
		t.Fatalf("drops a %+v b %+v", ta.Stats(), tb.Stats())
	}
	// c is in no group, so it still reaches both sides.
	c.Send(pa, &messages.Blob{Seq: 10})
	a.Send(pc, &messages.Blob{Seq: 11})
	waitFor(t, "c's traffic", func() bool { return sa.len() == 1 && sc.len() == 1 })

	n.Heal()
	a.Send(pb, &messages.Blob{Seq: 2})
	b.Send(pa, &messages.Blob{Seq: 2})
	waitFor(t, "traffic after heal", func() bool { return sb.len() == 1 && sa.len() == 2 })
	// FIFO per pair: had the dropped frames been queued, they would be first.
	if got := sb.got(); !slices.Equal(got, []uint64{2}) {
		t.Fatalf("b got %v", got)
	}
	if got := sa.got(); !slices.Equal(got, []uint64{10, 2}) {
		t.Fatalf("a got %v", got)
	}
}

func TestOneWayCut(t *testing.T) {
	n := New(1)
	a, ta := node(t, n, "a")
	b, _ := node(t, n, "b")
	sa, pa := spawnSink(a)
	sb, pb := spawnSink(b)

	n.Cut("a", "b")
	a.Send(pb, &messages.Blob{Seq: 1})
	b.Send(pa, &messages.Blob{Seq: 1})
	waitFor(t, "b → a", func() bool { return sa.len() == 1 })
	if s := ta.Stats(); s.DroppedPeerDown != 1 || s.Peers[0].Up {
		t.Fatalf("a stats %+v", s)
	}
	n.Heal()
	a.Send(pb, &messages.Blob{Seq: 2})
	waitFor(t, "a → b after heal", func() bool { return sb.len() == 1 })
	if got := sb.got(); got[0] != 2 {
		t.Fatalf("b got %v", got)
	}
}

// lossyRun sends count messages a → b over a link that drops 30% and
// returns what arrived.
func lossyRun(t *testing.T, seed int64, count int) []uint64 {
	n := New(seed)
	a, ta := node(t, n, "a")
	b, _ := node(t, n, "b")
	s, pid := spawnSink(b)
	n.SetRule("a", "*", Rule{Drop: 0.3})
	for i := range uint64(count) {
		a.Send(pid, &messages.Blob{Seq: i})
	}
	waitFor(t, "every survivor", func() bool { return uint64(s.len())+ta.Lost() == uint64(count) })
	if st := ta.Stats(); st.DroppedPeerDown != ta.Lost() || st.Sent != uint64(s.len()) {
		t.Fatalf("stats %+v lost %d", st, ta.Lost())
	}
	return s.got()
}

func TestSeededDropIsReproducible(t *testing.T) {
	const count = 500
	first := lossyRun(t, 1, count)
	if lost := count - len(first); lost < 100 || lost > 200 {
		t.Fatalf("lost %d of %d at 30%%", lost, count)
	}
	if again := lossyRun(t, 1, count); !slices.Equal(first, again) {
		t.Fatal("same seed, different deliveries")
	}
	if other := lossyRun(t, 2, count); slices.Equal(first, other) {
		t.Fatal("another seed, same deliveries")
	}
}

func TestDuplicate(t *testing.T) {
	n := New(1)
	a, _ := node(t, n, "a")
	b, tb := node(t, n, "b")
	s, pid := spawnSink(b)
	n.SetRule("", "b", Rule{Duplicate: 1})
	for i := range uint64(5) {
		a.Send(pid, &messages.Blob{Seq: i})
	}
	waitFor(t, "both copies", func() bool { return s.len() == 10 })
	if got := s.got(); !slices.Equal(got, []uint64{0, 0, 1, 1, 2, 2, 3, 3, 4, 4}) {
		t.Fatalf("got %v", got)
	}
	if r := tb.Stats().Received; r != 10 {
		t.Fatalf("received %d", r)
	}
}

func TestDelay(t *testing.T) {
	const delay = 50 * time.Millisecond
	n := New(1)
	a, _ := node(t, n, "a")
	b, _ := node(t, n, "b")
	s, pid := spawnSink(b)
	n.SetRule("a", "b", Rule{Delay: delay})
	sent := make([]time.Time, 3)
	for i := range sent {
		sent[i] = time.Now()
		a.Send(pid, &messages.Blob{Seq: uint64(i)})
	}
	waitFor(t, "delayed messages", func() bool { return s.len() == len(sent) })
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, at := range s.at {
		if d := at.Sub(sent[s.seqs[i]]); d < delay {
			t.Errorf("message %d held %v, want at least %v", s.seqs[i], d, delay)
		}
	}
}

func TestJitterDeliversEverything(t *testing.T) {
	n := New(1)
	a, _ := node(t, n, "a")
	b, _ := node(t, n, "b")
	s, pid := spawnSink(b)
	n.SetRule("*", "*", Rule{Jitter: 5 * time.Millisecond})
	for i := range uint64(100) {
		a.Send(pid, &messages.Blob{Seq: i})
	}
	waitFor(t, "every message", func() bool { return s.len() == 100 })
	got := s.got()
	slices.Sort(got)
	for i, seq := range got {
		if seq != uint64(i) {
			t.Fatalf("missing or repeated seq near %d", i)
		}
	}
}

type unregistered struct{ X int }

func TestRefusals(t *testing.T) {
	n := New(1)
	a, ta := node(t, n, "a")
	b, _ := node(t, n, "b")
	s, pid := spawnSink(b)

	a.Send(pid, &unregistered{X: 1})
	n.SetMaxFrameSize(256)
	a.Send(pid, &messages.Blob{Seq: 1, Data: make([]byte, 1024)})
	a.Send(actor.NewPID("nowhere", "sink"), &messages.Blob{Seq: 2})
	a.Send(pid, &messages.Blob{Seq: 3})

	waitFor(t, "the valid message", func() bool { return s.len() == 1 })
	if got := s.got(); got[0] != 3 {
		t.Fatalf("got %v", got)
	}
	st := ta.Stats()
	if st.RefusedEncode != 1 || st.RefusedTooLarge != 1 || st.DroppedPeerDown != 1 || st.Sent != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// events records the peer events an engine broadcasts.
type events struct {
	mu  sync.Mutex
	got []any
}

func watch(e *actor.Engine) *events {
	ev := &events{}
	pid := e.SpawnFunc(func(c *actor.Context) {
		switch m := c.Message().(type) {
		case transport.PeerDown, transport.PeerUp:
			ev.mu.Lock()
			ev.got = append(ev.got, m)
			ev.mu.Unlock()
		}
	}, "watch")
	e.Subscribe(pid)
	return ev
}

func (ev *events) has(want any) bool {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return slices.Contains(ev.got, want)
}

func TestPeerEvents(t *testing.T) {
	n := New(1)
	a, _ := node(t, n, "a")
	b, _ := node(t, n, "b")
	c, _ := node(t, n, "c")
	ea, eb, ec := watch(a), watch(b), watch(c)

	n.Partition([]string{"a"}, []string{"b"})
	waitFor(t, "PeerDown on both sides", func() bool {
		return ea.has(transport.PeerDown{Addr: "b", Reason: "partitioned"}) &&
			eb.has(transport.PeerDown{Addr: "a", Reason: "partitioned"})
	})
	n.Heal()
	waitFor(t, "PeerUp on both sides", func() bool {
		return ea.has(transport.PeerUp{Addr: "b"}) && eb.has(transport.PeerUp{Addr: "a"})
	})
	n.Isolate("c")
	waitFor(t, "c isolated", func() bool {
		return ec.has(transport.PeerDown{Addr: "a", Reason: "isolated"}) &&
			ec.has(transport.PeerDown{Addr: "b", Reason: "isolated"}) &&
			ea.has(transport.PeerDown{Addr: "c", Reason: "isolated"})
	})
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if len(ec.got) != 2 {
		t.Fatalf("c saw %v; the a|b partition is not its business", ec.got)
	}
}

func TestStopAndRestart(t *testing.T) {
	n := New(1)
	a, ta := node(t, n, "a")
	tb := n.Transport("b")
	b, err := actor.NewEngine(actor.NewEngineConfig().WithRemote(tb))
	if err != nil {
		t.Fatal(err)
	}
	_, pid := spawnSink(b)
	n.SetRule("a", "b", Rule{Delay: time.Hour})
	a.Send(pid, &messages.Blob{Seq: 1}) // held when b stops

	wg := tb.Stop()
	wg.Wait()
	tb.Stop().Wait()
	a.Send(pid, &messages.Blob{Seq: 2}) // b is gone
	if d := ta.Stats().DroppedPeerDown; d != 2 {
		t.Fatalf("dropped %d, want the held and the late message", d)
	}

	n.ClearRules()
	b2, _ := node(t, n, "b")
	s, pid := spawnSink(b2)
	a.Send(pid, &messages.Blob{Seq: 3})
	waitFor(t, "the restarted node", func() bool { return s.len() == 1 })
	if err := tb.Start(b); err == nil {
		t.Fatal("a stopped transport started again")
	}
}
