package actors_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/transport/memnet"
	"github.com/dynamokv/dynamo/version"
)

// down cuts node id off and makes every other node suspect it, as its
// failure detector would; up undoes both for every node.
func (tc *testCluster) down(id string) {
	tc.net.Isolate(tc.node(id).addr)
	for _, n := range tc.nodes {
		if n.id != id {
			n.setDown(id, true)
		}
	}
}

func (tc *testCluster) upAll() {
	tc.net.Heal()
	for _, n := range tc.nodes {
		for _, m := range tc.nodes {
			n.setDown(m.id, false)
		}
	}
}

func holds(tc *testCluster, id, key, value string) bool {
	return slices.ContainsFunc(tc.stored(id, key), func(v version.Version) bool { return string(v.Value) == value })
}

// With two of a key's three home nodes down, a put at W=2 goes to the
// third and to two stand-ins, which keep hints; a read at R=2 finds the
// write; once the home nodes are back the hints are handed to their vnodes
// and the stand-ins keep nothing.
func TestSloppyQuorumKeepsWritingWithTwoHomeNodesDown(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{nodes: 5})
	key := tc.findKey("sloppy", func([]string) bool { return true })
	pref := tc.pref([]byte(key))
	walk := tc.ring.Walk(tc.ring.PartitionOf([]byte(key)))
	tc.down(pref[0])
	tc.down(pref[1])
	alive := tc.nodeIndex(pref[2])

	for _, via := range []int{alive, tc.nodeIndex(walk[3])} { // a home node, and a stand-in forwarding
		r := tc.putMsg(via, &messages.ClientPut{Key: []byte(key), Value: []byte("during"), W: 2})
		if r.Status != messages.StatusOK {
			t.Fatalf("put via %s with two home nodes down: %d %s", tc.nodes[via].id, r.Status, r.Err)
		}
	}
	got := tc.getMsg(alive, &messages.ClientGet{Key: []byte(key), R: 2})
	if got.Status != messages.StatusOK || !slices.Contains(values(got), "during") {
		t.Fatalf("read at R=2: %d %q %v", got.Status, got.Err, values(got))
	}
	// Strict quorums count home nodes only.
	r := tc.putMsg(alive, &messages.ClientPut{Key: []byte(key), Value: []byte("strict"), W: 2, PW: 2})
	if r.Status != messages.StatusUnavailable || r.Unknown || !strings.Contains(r.Err, "only 1 home replicas are up and PW=2") {
		t.Fatalf("put at PW=2: %d %q unknown=%v", r.Status, r.Err, r.Unknown)
	}
	g := tc.getMsg(alive, &messages.ClientGet{Key: []byte(key), R: 2, PR: 2})
	if g.Status != messages.StatusUnavailable || !strings.Contains(g.Err, "PR=2") {
		t.Fatalf("get at PR=2: %d %q", g.Status, g.Err)
	}
	if s := tc.stats(alive); s.Hinted == 0 {
		t.Fatalf("stats %+v; want replicas sent to stand-ins", s)
	}

	tc.upAll()
	for _, id := range pref[:2] {
		eventually(t, 5*time.Second, id+" handed its write", func() bool { return holds(tc, id, key, "during") })
	}
	for _, id := range walk[3:] {
		eventually(t, 5*time.Second, id+" hands over every hint", func() bool {
			got, err := tc.node(id).engine.Request(actors.HintsPID(tc.node(id).addr),
				&messages.HintGet{ReqID: 1, Home: pref[0], Partition: uint32(tc.ring.PartitionOf([]byte(key))), Key: []byte(key)},
				time.Second).Result()
			return err == nil && len(got.(*messages.ReplicaGetReply).Versions) == 0
		})
	}
}

// When no home node of a key is up, a stand-in coordinates: the write is
// kept as hints, read back from them, and handed over later.
func TestStandInCoordinatesWhenEveryHomeNodeIsDown(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{nodes: 5})
	key := tc.findKey("standin", func([]string) bool { return true })
	pref := tc.pref([]byte(key))
	walk := tc.ring.Walk(tc.ring.PartitionOf([]byte(key)))
	for _, id := range pref {
		tc.down(id)
	}
	via := tc.nodeIndex(walk[3])
	if r := tc.putMsg(via, &messages.ClientPut{Key: []byte(key), Value: []byte("hinted"), W: 2}); r.Status != messages.StatusOK {
		t.Fatalf("put with every home node down: %d %s", r.Status, r.Err)
	}
	if s := tc.stats(via); s.StandIn != 1 {
		t.Fatalf("stats %+v; want the put coordinated as a stand-in", s)
	}
	if got := tc.getMsg(via, &messages.ClientGet{Key: []byte(key), R: 2}); !slices.Equal(values(got), []string{"hinted"}) {
		t.Fatalf("read from the stand-ins: %d %q %v", got.Status, got.Err, values(got))
	}
	tc.upAll()
	for _, id := range pref[:2] { // the stand-ins hold hints for the first two home nodes
		eventually(t, 5*time.Second, id+" handed its write", func() bool { return holds(tc, id, key, "hinted") })
	}
}

// A forwarded put whose first target does not take it in time goes to the
// next, and the first, reached late, is told to drop it: the write is
// stored once.
func TestForwardFallsBackWithoutWritingTwice(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{nodes: 4, coord: func(cfg *actors.CoordinatorConfig) { cfg.ForwardWait = 100 * time.Millisecond }})
	key, outsider := tc.outsiderKey("fallback")
	pref := tc.pref([]byte(key))
	out := tc.node(outsider)
	// The first home node is slow to hear from the outsider: its
	// forward arrives after the outsider has moved on.
	tc.net.SetRule(out.addr, tc.node(pref[0]).addr, memnet.Rule{Delay: 400 * time.Millisecond})
	r := tc.put(tc.nodeIndex(outsider), key, "once", nil)
	if r.Status != messages.StatusOK {
		t.Fatalf("put: %d %s", r.Status, r.Err)
	}
	eventually(t, 5*time.Second, "the slow target was told to drop it", func() bool {
		return tc.stats(tc.nodeIndex(pref[0])).Aborted == 1
	})
	tc.net.ClearRules()
	got := tc.readAll(tc.nodeIndex(pref[1]), key)
	if !slices.Equal(values(got), []string{"once"}) || len(tc.stored(pref[1], key)) != 1 {
		t.Fatalf("read %v, stored %v; want the write once", values(got), tc.stored(pref[1], key))
	}
	if s := tc.stats(tc.nodeIndex(pref[0])); s.Puts != 0 {
		t.Fatalf("the slow target coordinated it too: %+v", s)
	}
}
