//go:build linux

package transport

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
	"github.com/rs/zerolog"
)

// The fault test runs three node processes, re-executing this test binary
// in the role the environment names (see TestHelperNode): A sends a Blob
// to B and to C every 2 ms; B and C are sinks. While B is killed, stopped
// or black-holed, the largest gap between A's blobs at C must stay small.

const (
	envRole     = "TCP_HELPER_ROLE" // "sink" or "sender"
	envListen   = "TCP_HELPER_LISTEN"
	envTargets  = "TCP_HELPER_TARGETS" // sender: comma-separated sink addresses
	envLifetime = "TCP_HELPER_LIFETIME"
	envBeat     = "TCP_HELPER_HEARTBEAT" // every node's HeartbeatInterval
	procCluster = "proc"
	sinkPID     = "sink/sink"
	senderPID   = "sender/sender"
)

// gapSink counts Blobs and tracks the largest gap between arrivals. A Ping
// is answered with Pong{Seq: blobs so far, Sent: largest gap in ns since
// the previous Ping} and starts a new measuring window. An Echo is
// answered with itself, for the benchmarks.
type gapSink struct {
	last   time.Time
	maxGap time.Duration
	n      uint64
}

func (s *gapSink) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case *messages.Echo:
		c.Respond(m)
	case *messages.Blob:
		now := time.Now()
		if !s.last.IsZero() {
			s.maxGap = max(s.maxGap, now.Sub(s.last))
		}
		s.last, s.n = now, s.n+1
	case *messages.Ping:
		gap := s.maxGap
		if !s.last.IsZero() {
			gap = max(gap, time.Since(s.last)) // a window with no arrival at all
		}
		s.maxGap = 0
		c.Respond(&messages.Pong{Seq: s.n, Sent: int64(gap), Node: "sink"})
	}
}

type tick struct{}

// procBeat is the helpers' HeartbeatInterval: short, so that a stopped
// peer is seen well within a phase.
const procBeat = 500 * time.Millisecond

// blobSender sends a 1 KiB Blob to every target each 2 ms until its end;
// a Ping is answered with its transport's counters, and the PeerDown
// events seen per target, in Pong.Node.
type blobSender struct {
	tr      *TCP
	targets []*actor.PID
	end     time.Time
	rep     actor.SendRepeater
	seq     uint64
	data    []byte
	downs   map[string]int
}

func (s *blobSender) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Started:
		s.downs = map[string]int{}
		c.Engine().Subscribe(c.PID())
		s.rep = c.SendRepeat(c.PID(), tick{}, 2*time.Millisecond)
	case PeerDown:
		s.downs[m.Addr]++
	case tick:
		if time.Now().After(s.end) {
			s.rep.Stop()
			return
		}
		s.seq++
		for _, t := range s.targets {
			c.Send(t, &messages.Blob{Seq: s.seq, Data: s.data})
		}
	case *messages.Ping:
		st := s.tr.Stats()
		node := fmt.Sprintf("sent=%d droppedPeerDown=%d droppedQueueFull=%d dials=%d dialFailures=%d",
			st.Sent, st.DroppedPeerDown, st.DroppedQueueFull, st.Dials, st.DialFailures)
		for _, t := range s.targets {
			node += fmt.Sprintf(" down[%s]=%d", t.Address, s.downs[t.Address])
		}
		c.Respond(&messages.Pong{Seq: s.seq, Node: node})
	}
}

// TestHelperNode is one node process of TestTCPProcessFaults.
func TestHelperNode(t *testing.T) {
	role := os.Getenv(envRole)
	if role == "" {
		t.Skip("a node process of TestTCPProcessFaults, not a test")
	}
	lifetime, err := time.ParseDuration(os.Getenv(envLifetime))
	if err != nil {
		t.Fatal(err)
	}
	beat, err := time.ParseDuration(os.Getenv(envBeat))
	if err != nil {
		t.Fatal(err)
	}
	log := zerolog.New(os.Stderr).With().Timestamp().Str("role", role).Logger().Level(zerolog.InfoLevel)
	tr, err := NewTCP(TCPConfig{ListenAddr: os.Getenv(envListen), Cluster: procCluster, HeartbeatInterval: beat, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	e, err := actor.NewEngine(actor.NewEngineConfig().WithRemote(tr))
	if err != nil {
		t.Fatal(err)
	}
	switch role {
	case "sink":
		e.Spawn(func() actor.Receiver { return &gapSink{} }, "sink", actor.WithID("sink"))
	case "sender":
		var targets []*actor.PID
		for _, a := range strings.Split(os.Getenv(envTargets), ",") {
			targets = append(targets, actor.NewPID(a, sinkPID))
		}
		end := time.Now().Add(lifetime)
		e.Spawn(func() actor.Receiver {
			return &blobSender{tr: tr, targets: targets, end: end, data: make([]byte, 1024)}
		}, "sender", actor.WithID("sender"))
	}
	fmt.Printf("LISTEN %s\n", tr.Address())
	// Run until the parent closes our stdin (it ended, or died) or the
	// lifetime is over.
	closed := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(closed) }()
	select {
	case <-closed:
	case <-time.After(lifetime):
	}
	tr.Stop().Wait()
}

// listenWriter watches a helper's stdout for its LISTEN line.
type listenWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string
	sent bool
}

func (w *listenWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.sent {
		for _, line := range strings.Split(w.buf.String(), "\n") {
			if a, ok := strings.CutPrefix(line, "LISTEN "); ok && strings.Contains(w.buf.String(), line+"\n") {
				w.addr <- a
				w.sent = true
				break
			}
		}
	}
	return len(p), nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type helperProc struct {
	name string
	addr string
	cmd  *exec.Cmd
}

func startHelper(t testing.TB, name, role, listen string, lifetime time.Duration, targets ...string) *helperProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNode$", "-test.count=1")
	cmd.Env = append(os.Environ(), envRole+"="+role, envListen+"="+listen,
		envLifetime+"="+lifetime.String(), envBeat+"="+procBeat.String(), envTargets+"="+strings.Join(targets, ","))
	out := &listenWriter{addr: make(chan string, 1)}
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, logs
	if _, err := cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("node %s (%s) log:\n%s", name, role, logs.String())
		}
	})
	select {
	case a := <-out.addr:
		return &helperProc{name: name, addr: a, cmd: cmd}
	case <-time.After(10 * time.Second):
		t.Fatalf("node %s did not start", name)
		return nil
	}
}

func (h *helperProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := h.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to %s: %v", sig, h.name, err)
	}
}

func (h *helperProc) kill(t *testing.T) {
	h.signal(t, syscall.SIGKILL)
	_ = h.cmd.Wait()
}

func TestTCPProcessFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes; skipped with -short")
	}
	const phase = 3 * time.Second
	const lifetime = 60 * time.Second // every process ends by itself after this
	_, probe := newTestNode(t, TCPConfig{Cluster: procCluster})
	tryAsk := func(addr, id string) (*messages.Pong, error) {
		res, err := probe.Request(actor.NewPID(addr, id), &messages.Ping{}, time.Second).Result()
		if err != nil {
			return nil, err
		}
		return res.(*messages.Pong), nil
	}
	ask := func(addr, id string) *messages.Pong {
		t.Helper()
		p, err := tryAsk(addr, id)
		if err != nil {
			t.Fatalf("ask %s/%s: %v", addr, id, err)
		}
		return p
	}
	// receiving waits until A's blobs arrive at addr. The probe's own
	// connection may be redialling after a fault (its pings are dropped
	// meanwhile), so failed asks are retried.
	receiving := func(addr string) {
		t.Helper()
		var first uint64
		seen := false
		eventually(t, 10*time.Second, func() bool {
			p, err := tryAsk(addr, sinkPID)
			if err != nil {
				return false
			}
			if !seen {
				first, seen = p.Seq, true
				return false
			}
			return p.Seq > first
		}, "A's blobs do not reach %s", addr)
	}

	c := startHelper(t, "C", "sink", "127.0.0.1:0", lifetime)
	b := startHelper(t, "B", "sink", "127.0.0.1:0", lifetime)
	a := startHelper(t, "A", "sender", "127.0.0.1:0", lifetime, b.addr, c.addr)
	receiving(c.addr)
	receiving(b.addr)

	gaps := map[string]time.Duration{}
	measure := func(name string, during func()) {
		t.Helper()
		ask(c.addr, sinkPID) // starts a new window
		during()
		gap := time.Duration(ask(c.addr, sinkPID).Sent)
		gaps[name] = gap
		t.Logf("phase %-10s largest gap A→C %v; A: %s", name, gap.Round(time.Microsecond), ask(a.addr, senderPID).Node)
		if gap >= time.Second {
			t.Errorf("phase %s: largest gap A→C %v, want < 1s", name, gap)
		}
	}

	measure("sigkill", func() {
		b.kill(t)
		time.Sleep(phase)
	})
	b = startHelper(t, "B", "sink", b.addr, lifetime) // same address
	receiving(b.addr)

	// A stopped B still completes connects and takes bytes in its kernel:
	// only its missing heartbeats tell A it is down.
	var downsBefore, downsAfter int
	measure("sigstop", func() {
		downsBefore = peerDowns(ask(a.addr, senderPID).Node, b.addr)
		b.signal(t, syscall.SIGSTOP)
		time.Sleep(phase)
		downsAfter = peerDowns(ask(a.addr, senderPID).Node, b.addr)
	})
	sawDown := downsAfter > downsBefore
	beatCfg := TCPConfig{HeartbeatInterval: procBeat}
	beatCfg.applyDefaults()
	beatTimeout := beatCfg.HeartbeatTimeout
	t.Logf("phase sigstop: A saw B go down: %v (PeerDown events %d; heartbeat timeout %v, phase %v)",
		sawDown, downsAfter-downsBefore, beatTimeout, phase)
	if phase > beatTimeout && !sawDown {
		t.Errorf("A did not see stopped B go down within the %v phase (heartbeat timeout %v)", phase, beatTimeout)
	}
	b.signal(t, syscall.SIGCONT)
	b.kill(t)

	undo, err := blackHole(b.addr)
	if err != nil {
		t.Logf("phase blackhole skipped: cannot make a black hole on loopback: %v", err)
	} else {
		failedBefore := dialFailures(ask(a.addr, senderPID).Node)
		measure("blackhole", func() { time.Sleep(phase) })
		undo()
		// Not asserted: A may have won the hole's one accept slot before
		// it filled, and then holds a connection that nothing reads. The
		// phase is about the gap to C, measured above.
		after := dialFailures(ask(a.addr, senderPID).Node)
		t.Logf("A's failed dials to the black hole during the phase: %d", after-failedBefore)
	}
	t.Logf("largest gaps A→C: %v", gaps)
}

// peerDowns reads how many PeerDown events for addr a sender's stats report.
func peerDowns(stats, addr string) int {
	var n int
	key := "down[" + addr + "]="
	if i := strings.Index(stats, key); i >= 0 {
		_, _ = fmt.Sscanf(stats[i+len(key):], "%d", &n)
	}
	return n
}

func dialFailures(stats string) int {
	var n int
	i := strings.Index(stats, "dialFailures=")
	if i >= 0 {
		_, _ = fmt.Sscanf(stats[i:], "dialFailures=%d", &n)
	}
	return n
}
