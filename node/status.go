package node

import (
	"time"

	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/api"
)

// Status returns the node's view of itself and the cluster.
func (n *Node) Status() api.Status {
	s := api.Status{
		Node: n.cfg.ID, Cluster: n.cfg.Cluster, Address: n.Address(), HTTP: n.httpAdvert,
		Partitions: n.cfg.Partitions, Replicas: n.cfg.Replicas,
		ReadQuorum: n.cfg.ReadQuorum, WriteQuorum: n.cfg.WriteQuorum,
		Coordinators: len(n.coordinators),
		Vnodes:       n.partView.Held(),
		Filling:      int(n.vnodeCounters.Filling.Load()),
		Problems:     n.view.Problems(),
		Panics:       n.supervisor.Panics(),
		DotNode:      n.dots.Node(),
		Storage: api.StoreCnt{Quarantined: n.vnodeCounters.Quarantined.Load(),
			RefusedTooLarge: n.vnodeCounters.RefusedTooLarge.Load(), Reaped: n.vnodeCounters.Reaped.Load()},
	}
	now := time.Now()
	for _, m := range n.view.Members() {
		if m.Joined == 0 || !m.Member() {
			continue // a stranger that gossiped, or a member that left: in Membership below
		}
		am := api.Member{ID: m.ID, Addr: m.Addr, HTTP: m.HTTP, Agreed: m.Heard && m.Problem == "", Up: true, State: "up"}
		if m.ID == n.cfg.ID {
			am.State = "self"
		} else if p, ok := n.peers.Peer(m.ID); ok {
			am.Suspicions = p.Suspicions
			if p.Suspected {
				am.Up, am.State, am.Why = false, "suspected", p.Why
			}
			if !p.Since.IsZero() {
				am.Since, am.For = p.Since.UTC().Format(time.RFC3339Nano), now.Sub(p.Since).Seconds()
			}
			if !p.LastHeard.IsZero() {
				am.LastHeard = p.LastHeard.UTC().Format(time.RFC3339Nano)
			}
		}
		s.Members = append(s.Members, am)
	}
	for _, p := range n.partView.Held() {
		if rec, ok := n.syncView.Last()[p]; ok {
			s.AntiEntropy = append(s.AntiEntropy, exchangeJSON(rec))
		}
	}
	for _, h := range n.hintView.Homes() {
		q := api.HintQueue{Home: h.Home, Held: h.Held, Bytes: h.Bytes, Inflight: h.Inflight,
			Replayed: h.Replayed, Refused: h.Refused, Expired: h.Expired}
		if h.Oldest != 0 {
			q.Oldest = time.Unix(0, h.Oldest).UTC().Format(time.RFC3339)
		}
		s.Hints = append(s.Hints, q)
	}
	for p := 0; p < n.Ring().Partitions(); p++ {
		s.Ring = append(s.Ring, api.Partition{Partition: p, PreferenceList: n.Ring().PreferenceList(p)})
	}
	s.Membership = membershipJSON(n.view.State())
	keys, bytes, at := n.countStore()
	s.Storage.Keys, s.Storage.Bytes, s.Storage.CountedAt = keys, bytes, at.UTC().Format(time.RFC3339)
	for _, h := range n.partView.Handoffs() {
		s.Handoffs = append(s.Handoffs, api.Handoff{Partition: int(h.Partition), Since: h.Since.UTC().Format(time.RFC3339),
			For: now.Sub(h.Since).Seconds(), Rounds: h.Rounds, Keys: h.Keys, Total: h.Total, Retired: h.Retired, Err: h.Err})
	}
	s.Dropped = n.partView.Dropped.Load()
	s.Requests = n.metrics.requests.rates()
	s.TreeBuilds = n.vnodeCounters.TreeBuilds.Load()
	ts := n.transport.Stats()
	for _, p := range ts.Peers {
		s.Peers = append(s.Peers, api.Peer{Addr: p.Addr, Up: p.Up, Queued: p.Queued, Sent: p.Sent, Dropped: p.Dropped})
	}
	s.Transport = api.TransportCnt{Sent: ts.Sent, Received: ts.Received, DroppedQueueFull: ts.DroppedQueueFull,
		DroppedPeerDown: ts.DroppedPeerDown, RefusedTooLarge: ts.RefusedTooLarge, BadFrames: ts.BadFrames}
	return s
}

func exchangeJSON(r actors.ExchangeRecord) api.Exchange {
	return api.Exchange{Partition: r.Partition, Peer: r.Peer, When: r.When.UTC().Format(time.RFC3339Nano),
		TookMs: float64(r.Took) / float64(time.Millisecond), InSync: r.InSync, Segments: r.Segments, Keys: r.Keys,
		RepairedHere: r.RepairedLoc, RepairedThere: r.RepairedRem, Messages: r.Messages, Bytes: r.Bytes, Err: r.Err}
}
