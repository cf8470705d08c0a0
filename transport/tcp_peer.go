package transport

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// Peer states. Frames queue while a peer is new (first dial under way) or
// up; while it is down they are dropped at once, so requests that would be
// stale by the time it returns do not pile up.
const (
	stateNew = iota
	stateUp
	stateDown
	stateClosed // the transport stopped, or the peer was removed for idleness
)

// Backpressure policy: the queue counts the bytes not yet written. When
// it is over 75% full and the writer completed a write within drainWindow,
// the peer is healthy but behind, so Send waits for at most maxWait for
// the writer to bring it back under 75%, then queues if it fits and drops
// if not. A hung or dead peer has no recent write: its senders drop at
// once and pay nothing. The wait parks the sender rather than spinning on
// runtime.Gosched: a spinning sender kept the scheduler from polling the
// network, starved the writer and reader it waited for, and lost a third
// of a benchmark's messages to a full queue; parked, none.
const (
	drainWindow = 50 * time.Millisecond
	maxWait     = 200 * time.Microsecond
)

// chunkSize: a peer's queue is a list of pooled chunks of this size,
// filled by senders and written one chunk per write call by the writer, so
// a deep queue costs no reallocation and its memory goes back to the pool
// as it drains. Frames may straddle chunks: the connection is a stream.
const chunkSize = 64 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

func getChunk() []byte { return (*chunkPool.Get().(*[]byte))[:0] }

func putChunk(b []byte) {
	b = b[:0]
	chunkPool.Put(&b)
}

// stableConn: a connection that lived this long resets the backoff and is
// redialled at once when it breaks (the peer probably restarted); one that
// broke sooner (refused by TLS, wrong cluster) backs off like a failed dial.
const stableConn = time.Second

// helloID is the target id of the hello frame: the listener's transport
// consumes it, no actor receives it.
const helloID = "transport/hello"

type peer struct {
	t    *TCP
	addr string
	wake chan struct{} // 1-slot: the queue became non-empty, or Stop

	mu       sync.Mutex
	state    int
	chunks   [][]byte // encoded frames waiting for the writer
	pending  int      // bytes in chunks
	frames   int      // frames in chunks
	inflight int      // bytes the writer has taken but not written yet
	// room, when not nil, is closed by the writer once the queue is back
	// under the high-water mark, waking senders that wait for room.
	room chan struct{}

	lastWrite atomic.Int64 // nanotime of the writer's last completed write
	// lastHeard is the nanotime of the last frame read from the peer on
	// our connection (its hello-ack and heartbeats): what a failure
	// detector judges it by. reason is why it last went down.
	lastHeard atomic.Int64
	reason    string // under mu
	// used is set by every Send and cleared by the writer while the peer
	// is down, to tell an idle down peer (see tcp_idle.go). A flag rather
	// than a timestamp: while set, Send only reads it.
	used    atomic.Bool
	sent    atomic.Uint64
	dropped atomic.Uint64
}

func newPeer(t *TCP, addr string) *peer {
	return &peer{t: t, addr: addr, wake: make(chan struct{}, 1)}
}

func (p *peer) wakeUp() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// enqueue appends one encoded frame to the queue (see the backpressure
// policy above). It copies b, which the caller reuses. It returns false,
// having counted nothing, when the peer is closed: the caller looks the
// peer up again.
func (p *peer) enqueue(b []byte) bool {
	limit := p.t.cfg.QueueBytes
	high := limit / 4 * 3
	if !p.used.Load() {
		p.used.Store(true) // before taking mu: see TCP.remove
	}
	p.mu.Lock()
	if p.state >= stateDown {
		return p.refuseLocked()
	}
	if p.queued()+len(b) > high && nanotime()-p.lastWrite.Load() < int64(drainWindow) {
		deadline := nanotime() + int64(maxWait)
		for p.queued()+len(b) > high && p.state < stateDown {
			left := deadline - nanotime()
			if left <= 0 {
				break
			}
			if p.room == nil {
				p.room = make(chan struct{})
			}
			room := p.room
			p.mu.Unlock()
			waitRoom(room, time.Duration(left))
			p.mu.Lock()
		}
		if p.state >= stateDown {
			return p.refuseLocked()
		}
	}
	if p.queued()+len(b) > limit {
		p.mu.Unlock()
		p.drop(1, &p.t.droppedQueue)
		return true
	}
	wasEmpty := len(p.chunks) == 0
	p.pending += len(b)
	p.frames++
	for len(b) > 0 {
		n := len(p.chunks)
		if n == 0 || len(p.chunks[n-1]) == cap(p.chunks[n-1]) {
			p.chunks = append(p.chunks, getChunk())
			n++
		}
		last := p.chunks[n-1]
		k := copy(last[len(last):cap(last)], b)
		p.chunks[n-1], b = last[:len(last)+k], b[k:]
	}
	p.mu.Unlock()
	if wasEmpty {
		p.wakeUp()
	}
	return true
}

// queued is the peer's queue length in bytes; p.mu must be held.
func (p *peer) queued() int { return p.pending + p.inflight }

var timerPool = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}}

// waitRoom parks until room is closed or d has passed. Parking, rather
// than spinning, leaves the processor to the network goroutines whose
// progress the sender is waiting for.
func waitRoom(room chan struct{}, d time.Duration) {
	tm := timerPool.Get().(*time.Timer)
	tm.Reset(d)
	select {
	case <-room:
	case <-tm.C:
	}
	tm.Stop()
	timerPool.Put(tm)
}

// signalRoom wakes the senders waiting for room; p.mu must be held.
func (p *peer) signalRoom() {
	if p.room != nil {
		close(p.room)
		p.room = nil
	}
}

// releaseChunks returns written or dropped chunks to the pool and empties
// the slice for reuse.
func releaseChunks(chunks [][]byte) [][]byte {
	for i, c := range chunks {
		putChunk(c)
		chunks[i] = nil
	}
	return chunks[:0]
}

func (p *peer) drop(n int, counter *atomic.Uint64) {
	if n > 0 {
		counter.Add(uint64(n))
		p.dropped.Add(uint64(n))
	}
}

// setState changes the state, drops what is queued unless the peer is
// (still) usable, and returns the previous state.
func (p *peer) setState(s int) int {
	p.mu.Lock()
	prev := p.state
	if prev == stateClosed {
		s = stateClosed
	}
	p.state = s
	n := 0
	if s >= stateDown {
		n = p.frames
		p.chunks, p.pending, p.frames = releaseChunks(p.chunks), 0, 0
		p.signalRoom()
	}
	p.mu.Unlock()
	p.drop(n, &p.t.droppedDown)
	return prev
}

func (p *peer) markUp() {
	if prev := p.setState(stateUp); prev != stateUp && prev != stateClosed {
		p.t.log.Info().Str("peer", p.addr).Msg("peer up")
		p.t.broadcast(PeerUp{Addr: p.addr})
	}
}

// markDown raises PeerDown only on a change: from up, or the first failure.
func (p *peer) markDown(err error) {
	p.mu.Lock()
	p.reason = err.Error()
	p.mu.Unlock()
	if prev := p.setState(stateDown); prev == stateUp || prev == stateNew {
		// A peer that was never up (still starting, most often) is not
		// news at info level; one that was up is.
		ev := p.t.log.Debug()
		if prev == stateUp {
			ev = p.t.log.Info()
		}
		ev.Str("peer", p.addr).Err(err).Msg("peer down")
		p.t.broadcast(PeerDown{Addr: p.addr, Reason: err.Error()})
	}
}

// run is the peer's writer: dial, wait for the listener's hello-ack, write,
// and redial with backoff until the transport stops or the peer is removed
// for idleness. Nothing is written before the ack, so a hung peer's kernel
// buffers swallow none of the queue.
func (p *peer) run() {
	t := p.t
	defer t.wg.Done()
	defer p.setState(stateClosed)
	hello, _ := messages.AppendFrame(nil, &actor.PID{Address: p.addr, ID: helloID}, nil,
		&messages.Hello{Addr: t.addr, Cluster: t.cfg.Cluster, Beat: int64(t.cfg.HeartbeatInterval)})
	backoff := t.cfg.BackoffMin
	var idle idleClock
	for t.ctx.Err() == nil {
		t.dials.Add(1)
		c, err := t.dial(p.addr, hello, &p.lastHeard)
		if err != nil {
			t.dialFailures.Add(1)
			t.log.Debug().Str("peer", p.addr).Err(err).Msg("dial failed")
			p.markDown(err)
			idle.down(p)
			if !p.rest(&backoff, &idle) {
				return
			}
			continue
		}
		if !c.waitAck(t) {
			// Refused (other cluster, TLS alert) or hung: a failed dial.
			c.close()
			if t.ctx.Err() != nil {
				return
			}
			t.dialFailures.Add(1)
			err = c.err()
			t.log.Debug().Str("peer", p.addr).Bool("rejected", c.rejected()).Err(err).Msg("dial not acknowledged")
			p.markDown(err)
			idle.down(p)
			if !p.rest(&backoff, &idle) {
				return
			}
			continue
		}
		p.markUp()
		idle.up()
		start := time.Now()
		err = p.serve(c)
		c.close()
		if t.ctx.Err() != nil {
			return
		}
		p.markDown(err)
		idle.down(p)
		if time.Since(start) >= stableConn {
			backoff = t.cfg.BackoffMin
			continue
		}
		if !p.rest(&backoff, &idle) {
			return
		}
	}
}

// batchYields bounds how often a writer yields to senders before a
// write, and batchFrames is the batch it stops waiting at. On two cores
// shared by four processes, yielding while frames kept coming took about
// 5-10% of the CPU of a read-only workload (fewer write and read system
// calls per frame) and raised its throughput as much.
const (
	batchYields = 8
	batchFrames = 16
)

// serve writes the queue to c until c breaks or the transport stops. The
// writer takes everything queued at once, so frames batch under load (up
// to a chunk per write) and go one per write when traffic is light.
func (p *peer) serve(c *outConn) error {
	var spare [][]byte
	timeout := p.t.cfg.WriteTimeout
	high := p.t.cfg.QueueBytes / 4 * 3
	for {
		p.mu.Lock()
		yielded := false
		for len(p.chunks) == 0 {
			p.mu.Unlock()
			if !yielded {
				// Let runnable senders add to the queue before parking: under
				// load this turns one write per frame into one per batch;
				// when idle it returns at once.
				yielded = true
				runtime.Gosched()
				p.mu.Lock()
				continue
			}
			select {
			case <-p.wake:
			case <-c.dead:
				return c.err()
			case <-p.t.ctx.Done():
				return context.Canceled
			}
			p.mu.Lock()
		}
		// Under load more senders are runnable: let them add their frames
		// before writing, while each yield still brings some, so that one
		// write (and one wake-up of the reader at the other end) carries
		// a batch. Idle, the first yield brings nothing and the frame goes
		// out at once.
		for y := 0; y < batchYields && p.frames < batchFrames; y++ {
			before := p.frames
			p.mu.Unlock()
			runtime.Gosched()
			p.mu.Lock()
			if p.frames == before {
				break
			}
		}
		out, n := p.chunks, p.frames
		p.chunks, p.frames = spare, 0
		p.inflight, p.pending = p.pending, 0
		p.mu.Unlock()

		// One chunk per write keeps lastWrite fresh while a long backlog
		// drains, which is what tells senders that waiting is worth it.
		for _, chunk := range out {
			_ = c.conn.SetWriteDeadline(time.Now().Add(timeout))
			_, err := c.conn.Write(chunk)
			p.mu.Lock()
			p.inflight -= len(chunk)
			if err != nil {
				p.inflight = 0
				p.signalRoom()
				p.mu.Unlock()
				releaseChunks(out)
				p.drop(n, &p.t.droppedDown) // fate unknown: counted as not delivered
				return err
			}
			if p.queued() <= high {
				p.signalRoom()
			}
			p.mu.Unlock()
			p.lastWrite.Store(nanotime())
			p.t.bytesSent.Add(uint64(len(chunk)))
		}
		p.sent.Add(uint64(n))
		spare = releaseChunks(out)
	}
}

func (p *peer) stats() PeerStats {
	p.mu.Lock()
	s := PeerStats{Addr: p.addr, Up: p.state == stateUp, Queued: p.queued(), Reason: p.reason}
	p.mu.Unlock()
	if h := p.lastHeard.Load(); h != 0 {
		s.LastHeard = epoch.Add(time.Duration(h))
	}
	s.Sent = p.sent.Load()
	s.Dropped = p.dropped.Load()
	return s
}

// refuseLocked handles a frame for a peer that is down or closed, with mu
// held, and releases it: a down peer drops and counts the frame (handled);
// a closed one (removed for idleness) returns false so Send looks again.
func (p *peer) refuseLocked() bool {
	closed := p.state == stateClosed
	p.mu.Unlock()
	if !closed {
		p.drop(1, &p.t.droppedDown)
	}
	return !closed
}
