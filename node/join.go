package node

import (
	"fmt"
	"time"

	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/membership"
	"github.com/dynamokv/dynamo/messages"
)

// bootstrap is the membership of a cluster started from a static member
// list (or of this node alone): each member joined in list order.
func bootstrap(cfg Config) (membership.State, error) {
	members, _ := ParseMembers(cfg.Members) // Validate checked them
	if len(members) == 0 {
		members = append(members, cluster.Member{ID: cfg.ID, Addr: cfg.Advertise})
	}
	self := -1
	for i, m := range members {
		if m.ID == cfg.ID {
			self = i
		}
	}
	switch {
	case self < 0:
		return membership.State{}, fmt.Errorf("node %s is not in the member list (to join a running cluster, give --join)", cfg.ID)
	case len(members) < cfg.Replicas:
		return membership.State{}, fmt.Errorf("with N=%d replicas a cluster needs at least %d members, the member list has %d "+
			"(give more members, or lower -n, -r and -w)", cfg.Replicas, cfg.Replicas, len(members))
	case members[self].Addr != cfg.Advertise:
		return membership.State{}, fmt.Errorf("member %s is listed at %s but advertises %s", cfg.ID, members[self].Addr, cfg.Advertise)
	}
	return membership.Bootstrap(cfg.Cluster, cfg.Partitions, cfg.Replicas, members)
}

// checkStored checks that the membership a store holds is this node's: the
// same cluster, Q and N as configured, and this node a member of it (or a
// member that left).
func checkStored(cfg Config, s membership.State) error {
	want := membership.State{Cluster: cfg.Cluster, Partitions: cfg.Partitions, Replicas: cfg.Replicas}
	if err := membership.Compatible(want, s); err != nil {
		return fmt.Errorf("the store in %s belongs to another cluster: it has %v", cfg.DataDir, err)
	}
	if rec, ok := s.Record(cfg.ID); !ok {
		return fmt.Errorf("the store in %s holds a membership without %s", cfg.DataDir, cfg.ID)
	} else if rec.Addr != cfg.Advertise {
		return fmt.Errorf("member %s is recorded at %s but advertises %s", cfg.ID, rec.Addr, cfg.Advertise)
	}
	return nil
}

// joinCluster asks the member at cfg.Join to let this node in, and returns
// the membership it answers with. A refusal (another cluster name, Q, N)
// is an error that says why, and nothing changed.
func (n *Node) joinCluster(http string) (membership.State, error) {
	cfg := n.cfg
	req := &messages.JoinRequest{ID: cfg.ID, Addr: n.transport.Address(), HTTP: http, Cluster: cfg.Cluster,
		Partitions: cfg.Partitions, Replicas: cfg.Replicas, Coordinators: cfg.Coordinators}
	seed := actors.MembershipPID(cfg.Join)
	deadline := time.Now().Add(cfg.JoinTimeout)
	for {
		res, err := call(n.engine, seed, req, time.Second)
		if err == nil {
			reply, ok := res.(*messages.JoinReply)
			if !ok {
				return membership.State{}, fmt.Errorf("join %s: it answered %T", cfg.Join, res)
			}
			if reply.Err != "" {
				return membership.State{}, fmt.Errorf("join refused by %s: %s", cfg.Join, reply.Err)
			}
			n.log.Info().Str("seed", cfg.Join).Uint64("membership", reply.State.Version).
				Int("members", len(reply.State.Members())).Msg("joined the cluster")
			return reply.State, nil
		}
		if time.Now().After(deadline) {
			why := "no answer"
			for _, p := range n.transport.Stats().Peers {
				if p.Addr == cfg.Join && p.Reason != "" {
					why = p.Reason
				}
			}
			return membership.State{}, fmt.Errorf("join %s: %s within %v (is it a member of cluster %q, reachable at that peer address?)",
				cfg.Join, why, cfg.JoinTimeout, cfg.Cluster)
		}
		// The call's own wait spaces the attempts.
	}
}
