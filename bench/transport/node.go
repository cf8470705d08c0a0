package transport

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/anthdm/hollywood/remote"
	dyn "github.com/dynamokv/dynamo/transport"
	"github.com/rs/zerolog"
)

// The receiver's actors have fixed ids, so the sender can address them
// from the receiver's transport address alone.
const (
	SinkID = "bench-sink/1"
	EchoID = "bench-echo/1"
)

// Node is one actor engine on one transport.
type Node struct {
	Kind   Kind
	Engine *actor.Engine
	tcp    *dyn.TCP
	hw     *remote.Remote
}

// NewNode starts an engine of kind k listening on host (a loopback IP) at a
// free port.
func NewNode(k Kind, host string) (*Node, error) {
	n := &Node{Kind: k}
	var r actor.Remoter
	switch k {
	case Msgpack:
		tr, err := dyn.NewTCP(dyn.TCPConfig{ListenAddr: net.JoinHostPort(host, "0"), Cluster: "bench", Logger: zerolog.Nop()})
		if err != nil {
			return nil, err
		}
		n.tcp, r = tr, tr
	case Hollywood:
		// hollywood's remote needs its final address before it listens:
		// borrow a free port from the kernel.
		addr, err := freeAddr(host)
		if err != nil {
			return nil, err
		}
		n.hw = remote.New(addr, remote.NewConfig())
		r = n.hw
	default:
		return nil, fmt.Errorf("unknown transport kind %d", k)
	}
	e, err := actor.NewEngine(actor.NewEngineConfig().WithRemote(r))
	if err != nil {
		if n.tcp != nil {
			n.tcp.Stop().Wait()
		}
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	n.Engine = e
	return n, nil
}

func freeAddr(host string) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// Address is the node's transport address, as its PIDs carry it.
func (n *Node) Address() string { return n.Engine.Address() }

// SpawnReceivers starts the sink and the echo actor under their fixed ids.
func (n *Node) SpawnReceivers() {
	n.Engine.Spawn(NewSink(n.Kind), "bench-sink", actor.WithID("1"))
	n.Engine.Spawn(NewEcho(), "bench-echo", actor.WithID("1"))
}

// Drops returns how many messages the node's transport has not delivered:
// dropped or refused, by its own counters. hollywood's remote has none: it
// queues without bound instead of dropping, so it reports 0.
func (n *Node) Drops() uint64 {
	if n.tcp == nil {
		return 0
	}
	s := n.tcp.Stats()
	return s.DroppedQueueFull + s.DroppedPeerDown + s.RefusedTooLarge + s.RefusedEncode
}

// CountsDrops tells whether Drops means anything for this node.
func (n *Node) CountsDrops() bool { return n.tcp != nil }

// Stop stops the transport and waits for it, at most timeout.
func (n *Node) Stop(timeout time.Duration) error {
	done := make(chan struct{})
	go func() {
		if n.tcp != nil {
			n.tcp.Stop().Wait()
		} else {
			n.hw.Stop().Wait()
		}
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(timeout):
		return errors.New(n.Kind.String() + ": stop timed out")
	}
}
