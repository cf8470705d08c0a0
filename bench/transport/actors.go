package transport

import (
	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Sink counts the blobs it receives and answers a count query with the
// count and its own clock, so the sender can compute a delivered rate on
// the receiver's side, where dropped or still-queued messages do not count.
type Sink struct {
	kind Kind
	n    uint64
}

// NewSink returns a producer of sinks for a node of kind k.
func NewSink(k Kind) actor.Producer {
	return func() actor.Receiver { return &Sink{kind: k} }
}

// Receive implements actor.Receiver.
func (s *Sink) Receive(c *actor.Context) {
	switch c.Message().(type) {
	case *messages.Blob, *wrapperspb.BytesValue:
		s.n++
	case *messages.Echo, *wrapperspb.UInt64Value:
		c.Respond(countAnswer(s.kind, Count{N: s.n, At: now()}))
	}
}

// NewEcho returns a producer of echo actors: each request goes back to its
// sender unchanged, as the store's replicas answer a coordinator.
func NewEcho() actor.Producer {
	return func() actor.Receiver { return echo{} }
}

type echo struct{}

func (echo) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case *messages.Echo, *wrapperspb.BytesValue:
		c.Respond(m)
	}
}

// floodBatch is how many blobs a flood actor sends per turn before it
// yields its goroutine with a message to itself.
const floodBatch = 512

type floodTick struct{}

// flood sends blobs to a sink as fast as the transport takes them, until a
// deadline or a message count, then reports how many it sent. Nothing paces
// it: its rate is what the transport's Send accepts.
type flood struct {
	kind   Kind
	target *actor.PID
	data   []byte
	until  int64
	limit  uint64
	sent   uint64
	done   chan<- uint64
}

func (f *flood) Receive(c *actor.Context) {
	switch c.Message().(type) {
	case actor.Started:
		c.Send(c.PID(), floodTick{})
	case floodTick:
		e := c.Engine()
		for range floodBatch {
			f.sent++
			e.Send(f.target, f.kind.blob(f.sent, f.data))
		}
		if now() < f.until && f.sent < f.limit {
			c.Send(c.PID(), floodTick{})
			return
		}
		f.done <- f.sent
	}
}

// DriverResult is what a driver measured inside its window.
type DriverResult struct {
	Ops     uint64 // answers received inside the window
	Window  int64  // the window's length, ns
	Latency Summary
}

// driver keeps inflight echo requests outstanding against one echo actor,
// the way the store's coordinator actor talks to replicas: it sends with
// itself as sender and handles each answer as an ordinary message, never
// blocking in Receive. Each answer inside the window is timed; after the
// window no new request is sent, and idle is closed once all are back.
type driver struct {
	kind     Kind
	target   *actor.PID
	data     []byte
	inflight int
	from     int64 // window start: the end of the warm-up
	until    int64 // window end
	limit    uint64

	seq, ops    uint64
	outstanding int
	hist        *hdrhistogram.Histogram
	result      chan<- DriverResult
	idle        chan<- struct{}
	reported    bool
	closed      bool
}

func (d *driver) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Started:
		for range d.inflight {
			d.send(c)
		}
	case *messages.Echo, *wrapperspb.BytesValue:
		sent, ok := sentOf(m)
		if !ok {
			return
		}
		t := now()
		d.outstanding--
		if t >= d.from && t < d.until {
			d.ops++
			record(d.hist, t-sent)
		}
		if t < d.until && d.seq < d.limit {
			d.send(c)
			return
		}
		d.finish()
	}
}

func (d *driver) send(c *actor.Context) {
	d.seq++
	d.outstanding++
	c.Send(d.target, d.kind.echo(d.seq, now(), d.data))
}

// finish reports once the window is over, and signals idle when the last
// request in flight has come back, so the next run starts on a quiet link.
func (d *driver) finish() {
	if !d.reported {
		d.reported = true
		d.result <- DriverResult{Ops: d.ops, Window: d.until - d.from, Latency: Summarize(d.hist)}
	}
	if d.outstanding == 0 && !d.closed {
		d.closed = true
		close(d.idle)
	}
}
