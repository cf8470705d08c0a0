package node

import (
	"github.com/dynamokv/dynamo/api"
)

// Status returns the node's view of itself and the cluster.
func (n *Node) Status() api.Status {
	s := api.Status{
		Node: n.cfg.ID, Cluster: n.cfg.Cluster, Address: n.Address(), HTTP: n.httpAddr,
		Partitions: n.cfg.Partitions, Replicas: n.cfg.Replicas,
		ReadQuorum: n.cfg.ReadQuorum, WriteQuorum: n.cfg.WriteQuorum,
		Coordinators: len(n.coordinators),
		Vnodes:       n.vnodes,
		Problems:     n.view.Problems(),
		Panics:       n.supervisor.Panics(),
		DotNode:      n.dots.Node(),
		Storage: api.StoreCnt{Quarantined: n.vnodeCounters.Quarantined.Load(),
			RefusedTooLarge: n.vnodeCounters.RefusedTooLarge.Load(), Reaped: n.vnodeCounters.Reaped.Load()},
	}
	for _, m := range n.view.Members() {
		s.Members = append(s.Members, api.Member{ID: m.ID, Addr: m.Addr, HTTP: m.HTTP, Agreed: m.Agreed, Up: m.Up})
	}
	for p := 0; p < n.ring.Partitions(); p++ {
		s.Ring = append(s.Ring, api.Partition{Partition: p, PreferenceList: n.ring.PreferenceList(p)})
	}
	ts := n.transport.Stats()
	for _, p := range ts.Peers {
		s.Peers = append(s.Peers, api.Peer{Addr: p.Addr, Up: p.Up, Queued: p.Queued, Sent: p.Sent, Dropped: p.Dropped})
	}
	s.Transport = api.TransportCnt{Sent: ts.Sent, Received: ts.Received, DroppedQueueFull: ts.DroppedQueueFull,
		DroppedPeerDown: ts.DroppedPeerDown, RefusedTooLarge: ts.RefusedTooLarge, BadFrames: ts.BadFrames}
	return s
}
