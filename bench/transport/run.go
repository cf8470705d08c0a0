package transport

import (
	"errors"
	"fmt"
	"time"

	"github.com/anthdm/hollywood/actor"
)

// Config bounds one run. Every wait on the peer ends after Timeout, so a
// dead receiver fails a run instead of hanging it.
type Config struct {
	Warmup   time.Duration // traffic before the measured window
	Duration time.Duration // the measured window
	Senders  int           // flood actors in a fire-and-forget run
	Timeout  time.Duration // bound on each wait for the peer
	// MaxMessages caps the messages one flood actor or driver sends in a
	// run, whatever the clock says.
	MaxMessages uint64
}

// FFResult is one fire-and-forget run.
type FFResult struct {
	Delivered float64       // blobs per second counted by the sink inside the window
	Offered   float64       // blobs per second the senders' Send calls accepted
	Sent      uint64        // blobs sent, warm-up included
	Drops     uint64        // blobs the sender's transport dropped or refused
	Drain     time.Duration // from the last blob sent to the final count's answer
}

// FireAndForget floods the sink at peer from cfg.Senders actors for
// warm-up plus window. Two count queries, sent in order with the blobs,
// bracket the window: one when the warm-up ends, one after the last blob.
// The delivered rate is the difference of the sink's counts over the
// difference of its clocks, so only blobs that arrived count.
func FireAndForget(n *Node, peer string, cfg Config) (FFResult, error) {
	sink := actor.NewPID(peer, SinkID)
	drops0 := n.Drops()
	data := Payload()
	start := now()
	until := start + int64(cfg.Warmup+cfg.Duration)
	done := make(chan uint64, cfg.Senders)
	pids := make([]*actor.PID, cfg.Senders)
	for i := range pids {
		f := &flood{kind: n.Kind, target: sink, data: data, until: until, limit: cfg.MaxMessages, done: done}
		pids[i] = n.Engine.Spawn(func() actor.Receiver { return f }, "bench-flood")
	}
	defer func() {
		for _, pid := range pids {
			n.Engine.Poison(pid)
		}
	}()

	time.Sleep(cfg.Warmup)
	first := make(chan countResult, 1)
	go func() { // the answer may queue behind blobs still in flight
		c, err := queryCount(n, sink, cfg.Timeout)
		first <- countResult{c, err}
	}()

	var r FFResult
	for range cfg.Senders {
		select {
		case s := <-done:
			r.Sent += s
		case <-time.After(time.Duration(until-now()) + cfg.Timeout):
			return r, errors.New("flood actors did not finish")
		}
	}
	floodEnd := now()
	last, err := queryCount(n, sink, cfg.Timeout)
	if err != nil {
		return r, fmt.Errorf("final count: %w", err)
	}
	var a countResult
	select {
	case a = <-first:
	case <-time.After(cfg.Timeout):
		return r, errors.New("first count: no answer")
	}
	if a.err != nil {
		return r, fmt.Errorf("first count: %w", a.err)
	}
	if last.At <= a.At || last.N < a.N {
		return r, fmt.Errorf("counts out of order: %+v then %+v", a.Count, last)
	}
	r.Delivered = float64(last.N-a.N) / seconds(last.At-a.At)
	r.Offered = float64(r.Sent) / seconds(floodEnd-start)
	r.Drops = n.Drops() - drops0
	// How long the last blobs waited after the senders stopped: a queue
	// that grows without bound shows up here.
	r.Drain = time.Duration(now() - floodEnd)
	return r, nil
}

type countResult struct {
	Count
	err error
}

func queryCount(n *Node, sink *actor.PID, timeout time.Duration) (Count, error) {
	// A request from a plain goroutine may block: no actor waits on it.
	msg, err := n.Engine.Request(sink, n.Kind.countQuery(), timeout).Result()
	if err != nil {
		return Count{}, err
	}
	c, ok := parseCount(msg)
	if !ok {
		return Count{}, fmt.Errorf("unexpected count answer %T", msg)
	}
	return c, nil
}

func seconds(ns int64) float64 { return float64(ns) / float64(time.Second) }

// RequestResponse runs one driver actor that keeps inflight echo requests
// outstanding against the echo actor at peer, and returns what it measured
// in the window after the warm-up.
func RequestResponse(n *Node, peer string, inflight int, cfg Config) (DriverResult, error) {
	result := make(chan DriverResult, 1)
	idle := make(chan struct{})
	t := now()
	d := &driver{
		kind: n.Kind, target: actor.NewPID(peer, EchoID), data: Payload(), inflight: inflight,
		from: t + int64(cfg.Warmup), until: t + int64(cfg.Warmup+cfg.Duration), limit: cfg.MaxMessages,
		hist: NewHistogram(), result: result, idle: idle,
	}
	pid := n.Engine.Spawn(func() actor.Receiver { return d }, "bench-driver")
	defer n.Engine.Poison(pid)
	var r DriverResult
	select {
	case r = <-result:
	case <-time.After(cfg.Warmup + cfg.Duration + cfg.Timeout):
		return r, errors.New("driver: no answer after the window")
	}
	select {
	case <-idle:
	case <-time.After(cfg.Timeout):
		return r, errors.New("driver: requests still in flight after the window")
	}
	return r, nil
}

// Rate is ops per second of a driver result.
func (r DriverResult) Rate() float64 { return float64(r.Ops) / seconds(r.Window) }
