package actors

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/internal/growstack"
	"github.com/dynamokv/dynamo/messages"
	"github.com/rs/zerolog"
)

// Supervisor recovers panics in the actors spawned through it. hollywood
// v1.0.5 restarts a panicking actor with a fresh receiver after a sleep and
// ends the whole process on the fourth panic; a storage node must not do
// either for one bad message, so the panic is caught around Receive, the
// message is dropped, and the actor keeps its state and goes on.
type Supervisor struct {
	log    zerolog.Logger
	panics atomic.Uint64
	// OnPanic, when set, is called after each recovered panic with the
	// actor's kind and the message's type name (metrics hook it).
	OnPanic func(kind, message string)
}

// NewSupervisor returns a Supervisor that logs to log.
func NewSupervisor(log zerolog.Logger) *Supervisor {
	return &Supervisor{log: log}
}

// Panics returns how many panics the supervisor has recovered.
func (s *Supervisor) Panics() uint64 { return s.panics.Load() }

// Spawn spawns p as kind with the supervisor's panic guard. Options are
// hollywood's (actor.WithID, actor.WithInboxSize, ...).
//
// The guard wraps the receiver rather than being a middleware: hollywood
// builds the middleware chain anew for every message, two allocations a
// message on the hottest path of a node.
func (s *Supervisor) Spawn(e *actor.Engine, p actor.Producer, kind string, opts ...actor.OptFunc) *actor.PID {
	return e.Spawn(func() actor.Receiver { return &guarded{inner: p(), s: s, kind: kind} }, kind, opts...)
}

// guarded is an actor's receiver under the supervisor's panic guard.
type guarded struct {
	inner actor.Receiver
	s     *Supervisor
	kind  string
}

func (g *guarded) Receive(c *actor.Context) {
	// Each wake-up of an actor runs on a new goroutine: grow its stack now,
	// while it is shallow, not frame by frame deep in the store (see
	// package growstack).
	growstack.Grow()
	defer func() {
		if r := recover(); r != nil {
			g.s.recovered(g.kind, c, r)
		}
	}()
	g.inner.Receive(c)
}

func (s *Supervisor) recovered(kind string, c *actor.Context, r any) {
	s.panics.Add(1)
	msgType := messages.NameOf(c.Message())
	s.log.Error().
		Str("actor", c.PID().String()).
		Str("kind", kind).
		Str("message", msgType).
		Str("panic", fmt.Sprint(r)).
		Bytes("stack", debug.Stack()).
		Msg("actor panicked; message dropped, actor kept running")
	if s.OnPanic != nil {
		s.OnPanic(kind, msgType)
	}
}
