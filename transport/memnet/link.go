package memnet

import (
	"container/heap"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynamokv/dynamo/messages"
)

// link carries frames one way between two started transports. Frames wait
// in a queue ordered by due time, then by arrival, and one goroutine
// delivers them, so a pair without jitter keeps its send order.
type link struct {
	net      *Network
	from, to *Transport

	mu      sync.Mutex
	q       frames
	seq     uint64
	lastDue time.Time // due time of the latest FIFO frame
	bytes   int

	wake     chan struct{} // a frame was queued: the head may have changed
	done     chan struct{} // closed, under net.mu, when either side stops
	finished chan struct{} // closed when run returns

	sent, dropped atomic.Uint64
}

type frame struct {
	b   []byte
	due time.Time
	seq uint64
}

// frames is a min-heap by (due, seq).
type frames []frame

func (q frames) Len() int { return len(q) }
func (q frames) Less(i, j int) bool {
	if !q[i].due.Equal(q[j].due) {
		return q[i].due.Before(q[j].due)
	}
	return q[i].seq < q[j].seq
}
func (q frames) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *frames) Push(x any)   { *q = append(*q, x.(frame)) }
func (q *frames) Pop() any {
	old := *q
	f := old[len(old)-1]
	old[len(old)-1] = frame{} // let the bytes go
	*q = old[:len(old)-1]
	return f
}

func newLink(n *Network, from, to *Transport) *link {
	return &link{
		net:      n,
		from:     from,
		to:       to,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		finished: make(chan struct{}),
	}
}

// push queues b until due. A FIFO frame is never due before the FIFO frame
// queued ahead of it, so a rule whose Delay shrinks cannot reorder a pair.
func (l *link) push(b []byte, due time.Time, fifo bool) {
	l.mu.Lock()
	if fifo && due.Before(l.lastDue) {
		due = l.lastDue
	}
	if fifo {
		l.lastDue = due
	}
	l.seq++
	heap.Push(&l.q, frame{b: b, due: due, seq: l.seq})
	l.bytes += len(b)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *link) drop(k int) {
	l.from.droppedPeerDown.Add(uint64(k))
	l.dropped.Add(uint64(k))
}

func (l *link) queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bytes
}

// next pops the head if it is due, or says how long until it is (zero for
// an empty queue).
func (l *link) next() (f frame, wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.q) == 0 {
		return f, 0, false
	}
	if wait = time.Until(l.q[0].due); wait > 0 {
		return f, wait, false
	}
	f = heap.Pop(&l.q).(frame)
	l.bytes -= len(f.b)
	return f, 0, true
}

func (l *link) run() {
	defer close(l.finished)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-l.done:
			l.discard()
			return
		default:
		}
		f, wait, ok := l.next()
		if ok {
			l.deliver(f)
			continue
		}
		var due <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			due = timer.C
		}
		select {
		case <-l.done:
			l.discard()
			return
		case <-l.wake:
		case <-due:
		}
	}
}

// deliver hands one frame to the receiving engine, unless a fault that
// started while it was queued now separates the pair: a partition also
// catches what was in flight.
func (l *link) deliver(f frame) {
	if !l.net.deliverable(l) {
		l.drop(1)
		return
	}
	l.from.sent.Add(1)
	l.sent.Add(1)
	// Decoding per delivery gives each copy of a duplicate its own value,
	// as two frames off a socket would.
	fr, err := messages.DecodeFrame(f.b[messages.LengthSize:])
	if err != nil {
		l.to.badFrames.Add(1)
		return
	}
	l.to.received.Add(1)
	l.to.engine.SendLocal(fr.Target, fr.Msg, fr.Sender)
}

// discard drops what a stopped link still held.
func (l *link) discard() {
	l.mu.Lock()
	k := len(l.q)
	l.q, l.bytes = nil, 0
	l.mu.Unlock()
	l.drop(k)
}
