package node

import (
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
)

// errNoAnswer is returned by call when the wait ends without an answer.
var errNoAnswer = errors.New("no answer")

// replyBox is a one-shot process that receives the answer to one call. It
// stands in for hollywood's Engine.Request, whose reply PIDs are random
// 31-bit numbers: under many concurrent requests two can collide, and the
// second is then never registered and never answered.
type replyBox struct {
	pid *actor.PID
	ch  chan any
}

func (b *replyBox) Start()                  {}
func (b *replyBox) PID() *actor.PID         { return b.pid }
func (b *replyBox) Invoke([]actor.Envelope) {}
func (b *replyBox) Shutdown()               {}

// Send keeps the first answer; a duplicate (a retransmitted reply) must
// not block the goroutine that delivers it.
func (b *replyBox) Send(_ *actor.PID, msg any, _ *actor.PID) {
	select {
	case b.ch <- msg:
	default:
	}
}

var callSeq atomic.Uint64

// call sends msg to pid with a fresh reply box as the sender and waits up
// to timeout for the answer. It blocks its caller: use it from HTTP
// handlers and other plain goroutines, never inside an actor.
func call(e *actor.Engine, pid *actor.PID, msg any, timeout time.Duration) (any, error) {
	box := &replyBox{
		pid: actor.NewPID(e.Address(), "reply/"+strconv.FormatUint(callSeq.Add(1), 10)),
		ch:  make(chan any, 1),
	}
	e.SpawnProc(box)
	defer e.Registry.Remove(box.pid)
	e.SendWithSender(pid, msg, box.pid)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case res := <-box.ch:
		return res, nil
	case <-t.C:
		return nil, errNoAnswer
	}
}
