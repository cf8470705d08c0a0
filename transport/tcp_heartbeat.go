package transport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// Liveness. A connect and a written hello prove only that the peer's
// kernel is there: a stopped process (SIGSTOP, paused VM) still completes
// connects from its accept queue and takes bytes until its socket buffers
// fill, megabytes later. So the listener's process answers: on every
// connection whose hello it accepted it writes a hello-ack, then a
// heartbeat every HeartbeatInterval of the dialer (sent in its hello, so
// nodes configured differently still agree). The dialer counts its peer up only
// once the ack arrived, and closes the connection, declaring the peer
// down, when nothing was read from it for HeartbeatTimeout; the redial
// then finds no ack either, and the peer stays down until it answers.

// heartbeatID is the target id of heartbeat frames: the dialer's
// transport consumes them, no actor receives them.
const heartbeatID = "transport/heartbeat"

// heartbeatBufSize is the dialer's read buffer: heartbeats are tiny.
const heartbeatBufSize = 4 << 10

// errSilentPeer is why a connection on which nothing arrived was closed.
var errSilentPeer = errors.New("no heartbeat from peer")

// minHeartbeat bounds how often a dialer may ask for heartbeats.
const minHeartbeat = 10 * time.Millisecond

// beatFor is the heartbeat interval for an inbound connection: the one its
// dialer asked for, whose silence timeout derives from it, else ours.
func (t *TCP) beatFor(h *messages.Hello) time.Duration {
	if h.Beat <= 0 {
		return t.cfg.HeartbeatInterval
	}
	return max(time.Duration(h.Beat), minHeartbeat)
}

// heartbeat answers an accepted hello with an ack, then writes a
// heartbeat every interval until done is closed (the connection ended). It runs apart from the inbound reader so that a dialer that
// stops reading can never stall the frames it sends us; a write that
// times out, which takes a dialer unread for WriteTimeout, ends the
// connection.
func (t *TCP) heartbeat(conn, raw net.Conn, peer string, interval time.Duration, done <-chan struct{}) {
	defer t.wg.Done()
	target := &actor.PID{Address: peer, ID: heartbeatID}
	ack, _ := messages.AppendFrame(nil, target, nil, &messages.Heartbeat{Ack: true})
	beat, _ := messages.AppendFrame(nil, target, nil, &messages.Heartbeat{})
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for frame := ack; ; frame = beat {
		_ = conn.SetWriteDeadline(time.Now().Add(t.cfg.WriteTimeout))
		if _, err := conn.Write(frame); err != nil {
			select {
			case <-done: // the connection ended first: nothing to report
			default:
				t.log.Info().Str("peer", peer).Err(err).Msg("inbound connection closed: heartbeat not written")
			}
			_ = raw.Close()
			return
		}
		select {
		case <-tick.C:
		case <-done:
			return
		}
	}
}

// deadlineReader gives every read its own deadline, so a read fails once
// nothing has arrived for d, however long the connection has lived.
type deadlineReader struct {
	c net.Conn
	d time.Duration
}

func (r deadlineReader) Read(p []byte) (int, error) {
	_ = r.c.SetReadDeadline(time.Now().Add(r.d))
	return r.c.Read(p)
}

// readLoop reads the listener's frames from a dialled connection: the
// first hello-ack closes acked, every frame shows the peer alive, and
// anything else (a tag from a newer build) is skipped. It ends when the
// connection breaks or stays silent for HeartbeatTimeout.
func (c *outConn) readLoop(t *TCP) {
	defer t.wg.Done()
	timeout := t.cfg.HeartbeatTimeout
	r := &frameReader{br: bufio.NewReaderSize(deadlineReader{c.conn, timeout}, heartbeatBufSize), max: t.cfg.MaxFrameSize}
	acked := false
	for {
		body, err := r.next()
		if errors.Is(err, errFrameTooLarge) {
			continue
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				err = fmt.Errorf("%w for %v", errSilentPeer, timeout)
			}
			c.readErr = err
			close(c.dead)
			_ = c.raw.Close() // unblocks a writer stuck on a dead peer
			return
		}
		c.heard.Store(nanotime())
		if acked {
			continue // a heartbeat: its arrival was all it had to say
		}
		f, err := messages.DecodeFrame(body)
		if hb, ok := f.Msg.(*messages.Heartbeat); err == nil && ok && hb.Refused != "" {
			c.readErr = fmt.Errorf("refused by the peer: %s", hb.Refused)
			close(c.dead)
			_ = c.raw.Close()
			return
		}
		if hb, ok := f.Msg.(*messages.Heartbeat); err == nil && ok && hb.Ack {
			acked = true
			close(c.acked)
		}
	}
}

// waitAck waits for the listener's hello-ack and reports whether it came;
// if not, the connection is dead (err says why) or the transport stopped.
// The wait is bounded by readLoop's silence timeout.
func (c *outConn) waitAck(t *TCP) bool {
	select {
	case <-c.acked:
		return true
	case <-c.dead:
	case <-t.ctx.Done():
	}
	select {
	case <-c.acked: // it came just before the connection ended
		return true
	default:
		return false
	}
}

func (c *outConn) err() error {
	if errors.Is(c.readErr, io.EOF) {
		return errors.New("connection closed by peer")
	}
	return c.readErr
}
