package memnet_test

import (
	"fmt"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/transport/memnet"
)

// Two engines on one network: one answers pings, the other asks, then a
// partition separates them.
func Example() {
	network := memnet.New(42)

	ta, tb := network.Transport("node-a"), network.Transport("node-b")
	defer func() { ta.Stop().Wait(); tb.Stop().Wait() }()
	a, err := actor.NewEngine(actor.NewEngineConfig().WithRemote(ta))
	if err != nil {
		panic(err)
	}
	b, err := actor.NewEngine(actor.NewEngineConfig().WithRemote(tb))
	if err != nil {
		panic(err)
	}

	ping := b.SpawnFunc(func(c *actor.Context) {
		if m, ok := c.Message().(*messages.Ping); ok {
			c.Respond(&messages.Pong{Seq: m.Seq, Node: "node-b"})
		}
	}, "ping")

	res, err := a.Request(ping, &messages.Ping{Seq: 1}, time.Second).Result()
	fmt.Println(res.(*messages.Pong).Node, err)

	network.Partition([]string{"node-a"}, []string{"node-b"})
	_, err = a.Request(ping, &messages.Ping{Seq: 2}, 50*time.Millisecond).Result()
	fmt.Println(err, ta.Stats().DroppedPeerDown)
	// Output:
	// node-b <nil>
	// context deadline exceeded 1
}
