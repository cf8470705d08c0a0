package actors_test

import (
	"fmt"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/messages"
	"github.com/rs/zerolog"
)

// Hit and HitCount are an application's own protocol: a client sends Hit to
// a counter actor, which answers HitCount. Registering them above
// messages.FirstApplicationTag lets them cross node processes.
type Hit struct {
	Page string `msgpack:"p"`
}

type HitCount struct {
	Page  string `msgpack:"p"`
	Count int    `msgpack:"c"`
}

func init() {
	messages.Register[Hit](messages.FirstApplicationTag)
	messages.Register[HitCount](messages.FirstApplicationTag + 1)
}

// counter is a new actor behaviour: its state is touched only by its own
// goroutine, and it answers without blocking.
type counter struct {
	hits map[string]int
}

func (c *counter) Receive(ctx *actor.Context) {
	if m, ok := ctx.Message().(*Hit); ok {
		c.hits[m.Page]++
		ctx.Respond(&HitCount{Page: m.Page, Count: c.hits[m.Page]})
	}
}

// ExampleSupervisor_Spawn adds a behaviour to an engine. On a running node,
// use node.Engine() and node.Supervisor() instead of a bare engine.
func ExampleSupervisor_Spawn() {
	engine, _ := actor.NewEngine(actor.NewEngineConfig())
	sup := actors.NewSupervisor(zerolog.Nop())
	pid := sup.Spawn(engine, func() actor.Receiver { return &counter{hits: map[string]int{}} },
		"counter", actor.WithID("pages"))

	for i := 0; i < 2; i++ {
		// Request(...).Result() blocks: fine here, outside any actor.
		res, err := engine.Request(pid, &Hit{Page: "/home"}, time.Second).Result()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(res.(*HitCount).Count)
	}
	// Output:
	// 1
	// 2
}
