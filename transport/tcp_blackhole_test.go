//go:build linux

package transport

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// blackHole makes addr (127.0.0.1:port) swallow connection attempts: it
// listens there with an accept queue of one, fills the queue with
// connections it never accepts, and from then on the kernel drops every
// SYN, so dials hang until their timeout. The returned function undoes it.
func blackHole(addr string) (func(), error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		return nil, errors.New("black hole needs an IPv4 host:port")
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var fill []net.Conn
	undo := func() {
		for _, c := range fill {
			c.Close()
		}
		syscall.Close(fd)
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		undo()
		return nil, err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		undo()
		return nil, err
	}
	if err := syscall.Listen(fd, 0); err != nil {
		undo()
		return nil, err
	}
	for range 32 {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return undo, nil // full: this dial's SYNs were dropped
			}
			undo()
			return nil, err
		}
		fill = append(fill, c)
	}
	undo()
	return nil, errors.New("the accept queue never filled")
}

func TestTCPBlackHoledPeer(t *testing.T) {
	trA, a := newTestNode(t, TCPConfig{DialTimeout: 300 * time.Millisecond})
	ev := subscribeEvents(a)
	_, b := newTestNode(t, TCPConfig{})
	pid, s := spawnSink(b, "s")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hole := l.Addr().String()
	l.Close()
	undo, err := blackHole(hole)
	if err != nil {
		t.Skipf("cannot make a black hole on loopback: %v", err)
	}
	defer undo()
	holePID := actor.NewPID(hole, "sink/s")

	const n = 2000
	start := sendAlongside(t, a, holePID, pid, s, n)
	if el := time.Since(start); el > 250*time.Millisecond {
		t.Logf("healthy peer complete after %v", el) // informative: under the dial timeout is expected
	}
	eventually(t, 3*time.Second, func() bool { return ev.count(PeerDown{Addr: hole}) == 1 }, "no PeerDown for the black hole")
	eventually(t, 3*time.Second, func() bool {
		st := trA.Stats()
		return st.DialFailures >= 1 && st.DroppedPeerDown == n
	}, "black-holed peer's messages not counted as dropped")
}

// sendAlongside sends n messages to bad and n to good, interleaved, and
// checks what a failing peer must never break: the sends do not wait on
// the network, and the healthy peer gets every message. It returns when
// the sends started.
func sendAlongside(t *testing.T, a *actor.Engine, bad, good *actor.PID, s *sink, n int) time.Time {
	t.Helper()
	start := time.Now()
	for i := range n {
		a.Send(bad, &messages.Blob{Seq: uint64(i)})
		a.Send(good, &messages.Blob{Seq: uint64(i)})
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("sending took %v", el)
	}
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == int64(n) }, "the healthy peer did not get all messages")
	return start
}
