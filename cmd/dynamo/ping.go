package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/transport"
	"github.com/rs/zerolog"
)

func runPing(args []string) error {
	fs := flag.NewFlagSet("ping", flag.ContinueOnError)
	count := fs.Int("c", 3, "number of pings")
	timeout := fs.Duration("timeout", 2*time.Second, "wait for each pong")
	cluster := fs.String("cluster", "dynamo", "cluster name of the node")
	listen := fs.String("listen", "", "host:port this command receives the answers on (default: the local address that routes to the node, any port)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want one address: dynamo ping HOST:PORT")
	}
	addr := fs.Arg(0)
	if *listen == "" {
		*listen = transport.ListenAddrFor(addr)
	}
	tr, err := transport.NewTCP(transport.TCPConfig{
		ListenAddr: *listen, Cluster: *cluster, DialTimeout: *timeout, Logger: zerolog.Nop(),
	})
	if err != nil {
		return err
	}
	defer func() { tr.Stop().Wait() }()
	engine, err := actor.NewEngine(actor.NewEngineConfig().WithRemote(tr))
	if err != nil {
		return err
	}
	target := actor.NewPID(addr, actors.PingPID)
	for i := 1; i <= *count; i++ {
		start := time.Now()
		res, err := engine.Request(target, &messages.Ping{Seq: uint64(i), Sent: start.UnixNano()}, *timeout).Result()
		if err != nil {
			return fmt.Errorf("ping %s: no answer within %v", addr, *timeout)
		}
		pong, ok := res.(*messages.Pong)
		if !ok {
			return fmt.Errorf("ping %s: unexpected answer %T", addr, res)
		}
		fmt.Printf("pong from %s (node %s): seq=%d time=%v\n", addr, pong.Node, pong.Seq, time.Since(start).Round(time.Microsecond))
	}
	return nil
}
