package actors

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
	"github.com/rs/zerolog"
)

type boom struct{}

// A panicking actor must neither crash the process (hollywood v1.0.5 exits
// on the fourth restart) nor lose its state: each panic is logged with the
// actor and the message type, and counted.
func TestSupervisorRecoversPanics(t *testing.T) {
	var logs bytes.Buffer
	sup := NewSupervisor(zerolog.New(&syncWriter{b: &logs}))
	var kinds []string
	sup.OnPanic = func(kind, msg string) { kinds = append(kinds, kind+":"+msg) }
	engine, err := actor.NewEngine(actor.NewEngineConfig())
	if err != nil {
		t.Fatal(err)
	}
	handled := 0
	pid := sup.Spawn(engine, func() actor.Receiver {
		return actorFunc(func(c *actor.Context) {
			switch c.Message().(type) {
			case boom:
				panic("bad message")
			case *messages.Ping:
				handled++
				c.Respond(&messages.Pong{Seq: uint64(handled)})
			}
		})
	}, "fragile")

	for i := 0; i < 10; i++ {
		engine.Send(pid, boom{})
	}
	res, err := engine.Request(pid, &messages.Ping{}, 2*time.Second).Result()
	if err != nil {
		t.Fatalf("actor stopped answering after panics: %v", err)
	}
	if got := res.(*messages.Pong).Seq; got != 1 {
		t.Fatalf("actor state lost: handled %d pings, want 1", got)
	}
	if got := sup.Panics(); got != 10 {
		t.Fatalf("Panics() = %d, want 10", got)
	}
	if len(kinds) != 10 || kinds[0] != "fragile:actors.boom" {
		t.Fatalf("OnPanic calls %v", kinds)
	}
	out := logs.String()
	for _, want := range []string{`"kind":"fragile"`, `"message":"actors.boom"`, `"panic":"bad message"`, "fragile/"} {
		if !strings.Contains(out, want) {
			t.Errorf("panic log lacks %s:\n%s", want, firstLine(out))
		}
	}
}

type actorFunc func(*actor.Context)

func (f actorFunc) Receive(c *actor.Context) { f(c) }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
