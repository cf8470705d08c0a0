package client

import (
	"context"
	"fmt"
	"sort"

	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/membership"
)

// routes is what requests are routed by: the ring of one membership
// version and its members. Immutable once built.
type routes struct {
	version uint64
	ring    *cluster.Ring
	members map[string]*member
	prefs   [][]*member // each partition's preference list; shared, never modified
}

// buildRoutes computes the ring from a node's membership, as the nodes
// do, and checks it against the node's own placement. Members already
// known keep their state (a recent failure).
func (c *Client) buildRoutes(st api.Status, old *routes) (*routes, error) {
	s := membership.State{Cluster: st.Cluster, Partitions: st.Partitions, Replicas: st.Replicas, Version: st.Membership.Version}
	for _, r := range st.Membership.Records {
		s.Records = append(s.Records, membership.Record{ID: r.ID, Addr: r.Addr, HTTP: r.HTTP,
			Joined: r.Joined, Left: r.Left, Removed: r.Removed})
	}
	sort.Slice(s.Records, func(i, j int) bool { return s.Records[i].ID < s.Records[j].ID })
	ring, err := s.Ring()
	if err != nil {
		return nil, fmt.Errorf("client: the membership node %s reports: %w", st.Node, err)
	}
	// The ring is a pure function of the membership, so a difference
	// means this client and the node disagree on the algorithm: routing
	// would be wrong.
	for _, p := range st.Ring {
		if p.Partition < 0 || p.Partition >= ring.Partitions() ||
			!equalStrings(ring.PreferenceList(p.Partition), p.PreferenceList) {
			return nil, fmt.Errorf("client: node %s places partition %d on %v, this client computes otherwise",
				st.Node, p.Partition, p.PreferenceList)
		}
	}
	rt := &routes{version: s.Version, ring: ring, members: map[string]*member{}}
	for _, m := range st.Members {
		if old != nil {
			if prev, ok := old.members[m.ID]; ok && prev.addr == m.Addr {
				rt.members[m.ID] = prev
				continue
			}
		}
		rt.members[m.ID] = &member{id: m.ID, addr: m.Addr, http: c.httpBase(m)}
	}
	for _, rm := range ring.Members() {
		if _, ok := rt.members[rm.ID]; !ok {
			return nil, fmt.Errorf("client: node %s lists no member %s, which its ring places partitions on", st.Node, rm.ID)
		}
	}
	rt.prefs = make([][]*member, ring.Partitions())
	for p := range rt.prefs {
		for _, id := range ring.PreferenceList(p) {
			rt.prefs[p] = append(rt.prefs[p], rt.members[id])
		}
	}
	return rt, nil
}

// seen is told the membership version a node answered from: a newer one
// than the client routes by starts a refresh in the background, one at a
// time; requests meanwhile go by the old ring, which the nodes forward
// from.
func (c *Client) seen(version uint64) {
	if version <= c.routes.Load().version || c.closed.Load() || !c.refreshing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer c.refreshing.Store(false)
		_ = c.refresh(context.Background())
	}()
}

// refresh reads the status of the members, then the seeds, and routes by
// its membership if it is newer.
func (c *Client) refresh(ctx context.Context) error {
	old := c.routes.Load()
	var urls []string
	for _, m := range old.members {
		urls = append(urls, m.http)
	}
	sort.Strings(urls)
	urls = dedupe(append(urls, c.cfg.Seeds...))
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	st, _, err := readStatus(ctx, c.hc, urls, c.cfg.Timeout)
	if err != nil {
		return err
	}
	if st.Membership.Version <= old.version {
		return nil
	}
	rt, err := c.buildRoutes(st, old)
	if err != nil {
		return err
	}
	c.routes.CompareAndSwap(old, rt)
	return nil
}

// RingVersion returns the membership version the client routes by.
func (c *Client) RingVersion() uint64 { return c.routes.Load().version }
