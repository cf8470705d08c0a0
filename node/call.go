package node

import (
	"errors"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/reply"
)

// errNoAnswer is returned by call when the wait ends without an answer.
var errNoAnswer = errors.New("no answer")

// call sends msg to pid with a fresh reply box as the sender and waits up
// to timeout for the answer. It blocks its caller: use it from HTTP
// handlers and other plain goroutines, never inside an actor.
func call(e *actor.Engine, pid *actor.PID, msg any, timeout time.Duration) (any, error) {
	box := reply.New(e)
	defer box.Close()
	e.SendWithSender(pid, msg, box.PID())
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case res := <-box.C():
		return res, nil
	case <-t.C:
		return nil, errNoAnswer
	}
}
