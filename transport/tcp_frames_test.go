package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// rawFrame encodes one frame the way a transport would.
func rawFrame(t *testing.T, target *actor.PID, msg any) []byte {
	t.Helper()
	b, err := messages.AppendFrame(nil, target, nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func helloFrame(t *testing.T, to, from, cluster string) []byte {
	return rawFrame(t, actor.NewPID(to, helloID), &messages.Hello{Addr: from, Cluster: cluster})
}

func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// expectClosed asserts that the server closes c within the deadline.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("connection still open")
	}
}

func TestTCPBadFramesKeepServing(t *testing.T) {
	const max = 64 << 10
	tr, e := newTestNode(t, TCPConfig{MaxFrameSize: max})
	pid, s := spawnSink(e, "raw")
	c := dialRaw(t, tr.Address())

	var w bytes.Buffer
	w.Write(helloFrame(t, tr.Address(), "127.0.0.1:1", "test"))
	// 1: a length over the maximum, followed by that many bytes.
	w.Write(binary.BigEndian.AppendUint32(nil, max+1))
	w.Write(make([]byte, max+1))
	// 2: garbage, correctly framed.
	w.Write(binary.BigEndian.AppendUint32(nil, 20))
	w.Write(bytes.Repeat([]byte{0xff}, 20))
	// 3: a valid header whose body has a trailing byte.
	bad := rawFrame(t, pid, &messages.Blob{Seq: 99})
	bad = append(bad, 0xc1)
	binary.BigEndian.PutUint32(bad, uint32(len(bad)-messages.LengthSize))
	w.Write(bad)
	// 4: an unknown tag.
	unknown := rawFrame(t, pid, &messages.Blob{Seq: 98})
	binary.BigEndian.PutUint16(unknown[messages.LengthSize+1:], 999)
	w.Write(unknown)
	// Then a valid frame, which must be delivered.
	w.Write(rawFrame(t, pid, &messages.Blob{Seq: 1}))
	if _, err := c.Write(w.Bytes()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == 1 }, "valid frame not delivered")
	if st := tr.Stats(); st.BadFrames != 4 {
		t.Fatalf("BadFrames = %d, want 4", st.BadFrames)
	}
	// The same connection keeps serving.
	if _, err := c.Write(rawFrame(t, pid, &messages.Blob{Seq: 2})); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == 2 }, "second valid frame not delivered")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seqs[0] != 1 || s.seqs[1] != 2 {
		t.Fatalf("got %v", s.seqs)
	}
}

func TestTCPFirstFrameMustBeHello(t *testing.T) {
	tr, e := newTestNode(t, TCPConfig{})
	pid, s := spawnSink(e, "raw")

	c := dialRaw(t, tr.Address())
	if _, err := c.Write(rawFrame(t, pid, &messages.Blob{Seq: 1})); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, c)

	// A hello from another cluster is refused the same way.
	c = dialRaw(t, tr.Address())
	w := append(helloFrame(t, tr.Address(), "127.0.0.1:1", "other"), rawFrame(t, pid, &messages.Blob{Seq: 2})...)
	if _, err := c.Write(w); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, c)

	// Bytes that are not a frame at all.
	c = dialRaw(t, tr.Address())
	if _, err := c.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, c)

	if n := s.n.Load(); n != 0 {
		t.Fatalf("%d messages delivered", n)
	}
	if st := tr.Stats(); st.Received != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTCPOtherClusterCannotSend(t *testing.T) {
	_, a := newTestNode(t, TCPConfig{Cluster: "blue"})
	trB, b := newTestNode(t, TCPConfig{Cluster: "green"})
	pid, s := spawnSink(b, "s")
	deadline := time.Now().Add(500 * time.Millisecond)
	for i := 0; time.Now().Before(deadline); i++ {
		a.Send(pid, &messages.Blob{Seq: uint64(i)})
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.n.Load(); n != 0 || trB.Stats().Received != 0 {
		t.Fatalf("%d messages crossed clusters", n)
	}
}

// Frames for a missing actor are dropped, without a dead letter, until a
// frame for a registered actor shows the engine is complete; then they go
// to dead letters as usual.
func TestTCPDeadLettersOnceEngineReady(t *testing.T) {
	tr, e := newTestNode(t, TCPConfig{})
	dead := make(chan uint64, 8)
	sub := e.SpawnFunc(func(c *actor.Context) {
		if ev, ok := c.Message().(actor.DeadLetterEvent); ok {
			if m, ok := ev.Message.(*messages.Blob); ok {
				dead <- m.Seq
			}
		}
	}, "deadletters")
	e.Subscribe(sub)
	pid, s := spawnSink(e, "raw")
	missing := actor.NewPID(tr.Address(), "nobody/x")

	c := dialRaw(t, tr.Address())
	w := helloFrame(t, tr.Address(), "127.0.0.1:1", "test")
	w = append(w, rawFrame(t, missing, &messages.Blob{Seq: 1})...)
	w = append(w, rawFrame(t, pid, &messages.Blob{Seq: 2})...)
	w = append(w, rawFrame(t, missing, &messages.Blob{Seq: 3})...)
	if _, err := c.Write(w); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == 1 }, "frame for the sink not delivered")
	select {
	case seq := <-dead:
		// The event stream keeps order: a dead letter for 1 would come first.
		if seq != 3 {
			t.Fatalf("dead letter for blob %d, want 3 only", seq)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no dead letter once the engine was ready")
	}
	eventually(t, time.Second, func() bool { return tr.Stats().Received == 3 }, "received %d frames, want 3", tr.Stats().Received)
}
