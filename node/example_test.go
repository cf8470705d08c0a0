package node_test

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/internal/ports"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/node"
)

// Visit and Visits are an application's own protocol: a client sends Visit
// to a node's visit counter, which answers Visits. Registered above
// messages.FirstApplicationTag, they cross node processes too.
type Visit struct {
	Page string `msgpack:"p"`
}

type Visits struct {
	Page  string `msgpack:"p"`
	Count int    `msgpack:"c"`
	Node  string `msgpack:"n"`
}

func init() {
	messages.Register[Visit](messages.FirstApplicationTag + 10)
	messages.Register[Visits](messages.FirstApplicationTag + 11)
}

// visits is the behaviour: its state is touched only by its own goroutine,
// and it answers without blocking.
type visits struct {
	node   string
	counts map[string]int
}

func (v *visits) Receive(c *actor.Context) {
	if m, ok := c.Message().(*Visit); ok {
		v.counts[m.Page]++
		c.Respond(&Visits{Page: m.Page, Count: v.counts[m.Page], Node: v.node})
	}
}

// A node runs an application's behaviour beside its own, through the same
// registration point as its failure detector and hint buffer: spawned with
// the panic guard once the vnodes exist, given the node's store, ring and
// peer view, and stopped in reverse order before the store closes.
func ExampleBehaviour() {
	ps, _ := ports.Free("127.0.0.1", 1)
	n, err := node.New(node.Config{
		ID: "n1", Listen: "127.0.0.1:" + strconv.Itoa(ps[0]), Storage: "memory",
		Replicas: 1, ReadQuorum: 1, WriteQuorum: 1, LogLevel: "error",
		Behaviours: []node.Behaviour{{Kind: "visits", ID: "pages", New: func(env node.Env) actor.Producer {
			return func() actor.Receiver { return &visits{node: env.Node, counts: map[string]int{}} }
		}}},
	}, io.Discard)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer n.Stop()
	pid := actor.NewPID(n.Address(), "visits/pages")
	for i := 0; i < 2; i++ {
		// Request(...).Result() blocks: fine here, outside any actor.
		res, err := n.Engine().Request(pid, &Visit{Page: "/home"}, time.Second).Result()
		if err != nil {
			fmt.Println(err)
			return
		}
		r := res.(*Visits)
		fmt.Println(r.Node, r.Page, r.Count)
	}
	// Output:
	// n1 /home 1
	// n1 /home 2
}
