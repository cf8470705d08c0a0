// Package reply gives code outside the actors (HTTP handlers, the Go
// client) a one-shot address to send a request from and wait on.
package reply

import (
	"crypto/rand"
	"encoding/base32"
	"strconv"
	"sync/atomic"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// Box is a one-shot reply address for code outside the actors (HTTP
// handlers, the Go client) that sends a request and waits for its answer.
// It stands in for hollywood's Engine.Request, whose reply PIDs are random
// 31-bit numbers: with many requests in flight two can collide, and the
// second is then never registered and never answered. A Box is named
// from a counter, and its waiter may also watch a timer, a context or a
// peer's state.
//
// The counter restarts with the process, so names also carry an epoch
// drawn at random when the process starts: a reply still in flight to a
// box of an earlier process at the same address (a node or client
// restarted quickly) finds no box, instead of reaching an unrelated
// request that happens to wait under the same number.
type Box struct {
	e   *actor.Engine
	pid *actor.PID
	ch  chan any
}

var (
	seq   atomic.Uint64
	epoch = newEpoch()
)

func newEpoch() string {
	var b [5]byte
	_, _ = rand.Read(b[:]) // never fails
	return base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding).EncodeToString(b[:])
}

// New registers a reply box on e. Close it when the wait ends.
func New(e *actor.Engine) *Box {
	b := &Box{
		e:   e,
		pid: actor.NewPID(e.Address(), messages.ReplyBoxPrefix+epoch+"/"+strconv.FormatUint(seq.Add(1), 10)),
		ch:  make(chan any, 1),
	}
	e.SpawnProc(b)
	return b
}

// C delivers the first answer.
func (b *Box) C() <-chan any { return b.ch }

// Close removes the box from the engine; later answers are dead letters.
func (b *Box) Close() { b.e.Registry.Remove(b.pid) }

// PID is the address to send as the request's sender.
func (b *Box) PID() *actor.PID { return b.pid }

// Start, Invoke and Shutdown complete actor.Processer; a box has no
// goroutine of its own.
func (b *Box) Start()                  {}
func (b *Box) Invoke([]actor.Envelope) {}
func (b *Box) Shutdown()               {}

// Send keeps the first answer. It runs on the deliverer's goroutine (a
// transport reader): it must never block, so a duplicate is dropped.
func (b *Box) Send(_ *actor.PID, msg any, _ *actor.PID) {
	select {
	case b.ch <- msg:
	default:
	}
}

var _ actor.Processer = (*Box)(nil)
