package actors_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/store"
	"github.com/dynamokv/dynamo/transport/memnet"
	"github.com/dynamokv/dynamo/version"
	"github.com/rs/zerolog"
)

// A put through any node, replica or not, is readable through every node.
func TestCoordinatorPutThenGetThroughEveryNode(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{nodes: 4})
	for i, n := range tc.nodes {
		key := fmt.Sprintf("key-%d", i)
		ctx := tc.mustPut(i, key, "value-"+n.id, nil)
		if len(ctx) != 1 || !slices.Contains(tc.pref([]byte(key)), ctx[0].Node) {
			t.Fatalf("put via %s: context %v; want the single dot of a replica of %v", n.id, ctx, tc.pref([]byte(key)))
		}
		for j := range tc.nodes {
			got := tc.get(j, key)
			if got.Status != messages.StatusOK || !slices.Equal(values(got), []string{"value-" + n.id}) {
				t.Fatalf("get %s via %s: %d %q %v", key, tc.nodes[j].id, got.Status, got.Err, values(got))
			}
			if got.Context.Compare(ctx) != version.Equal {
				t.Fatalf("get %s via %s: context %v; want %v", key, tc.nodes[j].id, got.Context, ctx)
			}
		}
	}
	if got := tc.get(0, "never-written"); got.Status != messages.StatusNotFound || len(got.Context) != 0 {
		t.Fatalf("get of an absent key: %d %v", got.Status, got.Context)
	}
}

// Two writers that read the same version and write through the same or
// different coordinators both survive as siblings; a put with the merged
// context of a read replaces them both.
func TestCoordinatorConcurrentWritersMakeSiblings(t *testing.T) {
	for _, tt := range []struct {
		name     string
		via1     int
		via2     int
		resolver int
	}{
		{"same coordinator", 0, 0, 1},
		{"different coordinators", 0, 1, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tc := newTestCluster(t, clusterSpec{})
			ctx0 := tc.mustPut(0, "k", "v0", nil)
			tc.mustPut(tt.via1, "k", "v1", ctx0)
			tc.mustPut(tt.via2, "k", "v2", ctx0)
			for i := range tc.nodes {
				got := tc.get(i, "k")
				vs := values(got)
				slices.Sort(vs)
				if got.Status != messages.StatusOK || !slices.Equal(vs, []string{"v1", "v2"}) {
					t.Fatalf("get via %s: %d %v; want siblings v1 and v2", tc.nodes[i].id, got.Status, vs)
				}
			}
			merged := tc.get(0, "k").Context
			tc.mustPut(tt.resolver, "k", "v3", merged)
			for i := range tc.nodes {
				got := tc.get(i, "k")
				if got.Status != messages.StatusOK || !slices.Equal(values(got), []string{"v3"}) {
					t.Fatalf("get via %s after resolving: %d %v; want v3 alone", tc.nodes[i].id, got.Status, values(got))
				}
			}
		})
	}
}

// A delete with a read's context hides the key (404, with a context that
// covers the tombstone); a blind put afterwards is visible again.
func TestCoordinatorDelete(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{})
	tc.mustPut(0, "k", "v1", nil)
	read := tc.get(1, "k")
	del := tc.putMsg(2, &messages.ClientPut{Key: []byte("k"), Delete: true, Context: read.Context})
	if del.Status != messages.StatusOK {
		t.Fatalf("delete: %d %s", del.Status, del.Err)
	}
	for i := range tc.nodes {
		got := tc.get(i, "k")
		if got.Status != messages.StatusNotFound || len(got.Values) != 0 {
			t.Fatalf("get after delete via %s: %d %v", tc.nodes[i].id, got.Status, values(got))
		}
		if !got.Context.Descends(del.Context) {
			t.Fatalf("404 context %v does not cover the tombstone %v", got.Context, del.Context)
		}
	}
	tc.mustPut(1, "k", "v2", nil)
	for i := range tc.nodes {
		got := tc.get(i, "k")
		if got.Status != messages.StatusOK || !slices.Equal(values(got), []string{"v2"}) {
			t.Fatalf("get after blind put via %s: %d %v", tc.nodes[i].id, got.Status, values(got))
		}
	}
}

// With two of three replicas cut off, neither W=2 nor R=2 can be met: the
// client hears 503 with how many answers came within the timeout, and the
// cluster works again after the heal.
func TestCoordinatorQuorumNotReached(t *testing.T) {
	const timeout = 300 * time.Millisecond
	tc := newTestCluster(t, clusterSpec{timeout: timeout})
	tc.net.Isolate(tc.nodes[1].addr)
	tc.net.Isolate(tc.nodes[2].addr)
	want := "quorum not reached: 1 of 2 replicas answered within 300ms"

	start := time.Now()
	// The local replica stored the write: its outcome is unknown.
	put := tc.put(0, "k", "v", nil)
	if put.Status != messages.StatusUnavailable || !put.Unknown || put.Err != "outcome unknown, the write may have been applied: "+want {
		t.Fatalf("put: %d %q unknown=%v; want 503 %q with an unknown outcome", put.Status, put.Err, put.Unknown, want)
	}
	if el := time.Since(start); el < timeout {
		t.Fatalf("put answered 503 after %s, before the %s timeout", el, timeout)
	}
	get := tc.get(0, "k")
	if get.Status != messages.StatusUnavailable || get.Err != want {
		t.Fatalf("get: %d %q; want 503 %q", get.Status, get.Err, want)
	}

	tc.net.Heal()
	tc.mustPut(0, "k", "v2", nil)
	if got := tc.get(0, "k"); got.Status != messages.StatusOK {
		t.Fatalf("get after heal: %d %s", got.Status, got.Err)
	}
	if s := tc.stats(0); s.Unavailable != 2 {
		t.Fatalf("stats %+v; want 2 unavailable", s)
	}
}

// Replica errors count as failures: when they make the quorum impossible
// the client hears 503 at once, not at the timeout.
func TestCoordinatorReplicaFailuresAnswerAtOnce(t *testing.T) {
	const timeout = 5 * time.Second
	stores := map[string]*failingStore{}
	tc := newTestCluster(t, clusterSpec{timeout: timeout, wrap: func(node string, s store.Store) store.Store {
		fs := &failingStore{Store: s}
		stores[node] = fs
		return fs
	}})
	tc.mustPut(0, "k", "v", nil)
	stores["n2"].failing.Store(true)
	stores["n3"].failing.Store(true)

	start := time.Now()
	put := tc.put(0, "k", "v2", nil)
	if put.Status != messages.StatusUnavailable || !put.Unknown ||
		!strings.Contains(put.Err, "quorum not reached: 2 of 3 replicas failed") || !strings.Contains(put.Err, errInjected.Error()) {
		t.Fatalf("put: %d %q unknown=%v", put.Status, put.Err, put.Unknown)
	}
	get := tc.get(0, "k")
	if get.Status != messages.StatusUnavailable || !strings.Contains(get.Err, errInjected.Error()) {
		t.Fatalf("get: %d %q", get.Status, get.Err)
	}
	if el := time.Since(start); el > timeout/2 {
		t.Fatalf("failures answered after %s; want at once", el)
	}

	// A failure of the coordinating replica's own write ends the put at once too.
	stores["n2"].failing.Store(false)
	stores["n3"].failing.Store(false)
	stores["n1"].failing.Store(true)
	// The store failed while writing: maybe stored, so unknown too.
	put = tc.put(0, "k", "v3", nil)
	if put.Status != messages.StatusUnavailable || !put.Unknown || !strings.Contains(put.Err, "write failed on the coordinating replica") {
		t.Fatalf("put with the local store failing: %d %q unknown=%v", put.Status, put.Err, put.Unknown)
	}
	if el := time.Since(start); el > timeout/2 {
		t.Fatalf("local failure answered after %s; want at once", el)
	}
	eventually(t, 5*time.Second, "every request closed", func() bool { return tc.stats(0).Open == 0 })
}

// A replica slower than the timeout answers after its request ended: the
// answer is counted as late and dropped, and the client, already told
// 503, hears nothing more.
func TestCoordinatorLateReplies(t *testing.T) {
	const timeout = 200 * time.Millisecond
	tc := newTestCluster(t, clusterSpec{timeout: timeout})
	slow := tc.nodes[2]
	tc.net.SetRule(tc.nodes[0].addr, slow.addr, memnet.Rule{Delay: 3 * timeout})
	e := tc.nodes[0].engine
	client, pid := spawnClient(e)
	key := []byte("k")

	e.SendWithSender(tc.coordFor(0, key), &messages.ClientPut{Key: key, Value: []byte("v"), W: 3}, pid)
	eventually(t, 10*timeout, "put answered", func() bool { return len(client.replies(t, e, pid)) == 1 })
	e.SendWithSender(tc.coordFor(0, key), &messages.ClientGet{Key: key, R: 3}, pid)
	eventually(t, 10*timeout, "get answered", func() bool { return len(client.replies(t, e, pid)) == 2 })
	eventually(t, 20*timeout, "both slow answers counted late", func() bool { return tc.stats(0).Late == 2 })

	got := client.replies(t, e, pid)
	if len(got) != 2 {
		t.Fatalf("client got %d replies; want exactly one per request: %v", len(got), got)
	}
	want := "quorum not reached: 2 of 3 replicas answered within 200ms"
	if r, ok := got[0].(*messages.ClientPutReply); !ok || r.Status != messages.StatusUnavailable || !r.Unknown ||
		r.Err != "outcome unknown, the write may have been applied: "+want {
		t.Fatalf("put reply %#v; want 503 %q", got[0], want)
	}
	if r, ok := got[1].(*messages.ClientGetReply); !ok || r.Status != messages.StatusUnavailable || r.Err != want {
		t.Fatalf("get reply %#v; want 503 %q", got[1], want)
	}
	if s := tc.stats(0); s.Open != 0 {
		t.Fatalf("stats %+v; want no open request", s)
	}
	// The slow replica did apply the write it acknowledged late.
	eventually(t, 5*time.Second, "slow replica holds the write", func() bool {
		return len(tc.stored(slow.id, "k")) == 1
	})
}

// A write made while one replica was cut off reaches it through read
// repair once a read sees it differ from the others. The read is
// coordinated by the stale replica, which asks itself first.
func TestCoordinatorReadRepair(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{timeout: 500 * time.Millisecond})
	behind := tc.nodes[2]
	tc.net.Isolate(behind.addr)
	ctx := tc.mustPut(0, "k", "v", nil)
	tc.net.Heal()
	if got := tc.stored(behind.id, "k"); got != nil {
		t.Fatalf("isolated replica holds %v before the read", got)
	}

	got := tc.get(2, "k")
	if got.Status != messages.StatusOK || !slices.Equal(values(got), []string{"v"}) {
		t.Fatalf("get: %d %v", got.Status, values(got))
	}
	want := tc.stored(tc.nodes[0].id, "k")
	eventually(t, 5*time.Second, "stale replica repaired", func() bool {
		return tc.stored(behind.id, "k").Equal(want)
	})
	if held := tc.stored(behind.id, "k"); held.Context().Compare(ctx) != version.Equal {
		t.Fatalf("repaired replica holds %v; want the version of %v", held, ctx)
	}
	eventually(t, 5*time.Second, "read closed", func() bool { return tc.stats(2).Open == 0 })
	if s := tc.stats(2); s.Repairs != 1 {
		t.Fatalf("stats %+v; want one repair", s)
	}
	// Now that all agree, another read repairs nothing.
	tc.get(1, "k")
	eventually(t, 5*time.Second, "second read closed", func() bool { return tc.stats(1).Open == 0 })
	if s := tc.stats(1); s.Repairs != 0 {
		t.Fatalf("stats %+v after a read of agreeing replicas; want no repair", s)
	}
}

// A read asks R replicas first. When one of them is cut off but not yet
// suspected, the hedge asks the third, and the read is answered long
// before the request's timer; with the hedge off, the read asks all three
// at once.
func TestCoordinatorReadHedge(t *testing.T) {
	for _, hedge := range []time.Duration{20 * time.Millisecond, -1} {
		t.Run(fmt.Sprint(hedge), func(t *testing.T) {
			tc := newTestCluster(t, clusterSpec{timeout: 5 * time.Second,
				coord: func(cfg *actors.CoordinatorConfig) { cfg.ReadHedge = hedge }})
			tc.mustPut(0, "k", "v", nil)
			// Node 0 asks itself and the next of the key's replicas first:
			// cut that one off.
			var second string
			for _, id := range tc.pref([]byte("k")) {
				if id != tc.nodes[0].id {
					second = id
					break
				}
			}
			tc.net.Isolate(tc.node(second).addr)
			start := time.Now()
			got := tc.get(0, "k")
			if got.Status != messages.StatusOK || !slices.Equal(values(got), []string{"v"}) {
				t.Fatalf("get with %s cut off: %d %q %v", second, got.Status, got.Err, values(got))
			}
			// Not a timing threshold: the request's timer is 5 s, and an
			// answer before it is one the hedge (or asking all) made.
			if took := time.Since(start); took >= 5*time.Second {
				t.Fatalf("get took %s: it waited for the request's timer", took)
			}
			tc.net.Heal()
			s := tc.stats(0)
			if hedge > 0 && s.Hedged != 1 || hedge < 0 && s.Hedged != 0 {
				t.Fatalf("stats %+v: want %d hedged reads", s, map[bool]int{true: 1, false: 0}[hedge > 0])
			}
		})
	}
}

// A put sent to a node outside the key's preference list is forwarded,
// with the client as sender, to the first replica not reported down.
func TestCoordinatorForwarding(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{nodes: 4})
	key, outsider := tc.outsiderKey("fwd")
	pref := tc.pref([]byte(key))
	out := tc.nodeIndex(outsider)

	ctx := tc.mustPut(out, key, "v1", nil)
	if len(ctx) != 1 || ctx[0].Node != pref[0] {
		t.Fatalf("forwarded put written by %v; want the first replica %s", ctx, pref[0])
	}
	if s := tc.stats(out); s.Forwarded != 1 || s.Puts != 0 {
		t.Fatalf("outsider stats %+v; want one forward and no put", s)
	}
	if s := tc.stats(tc.nodeIndex(pref[0])); s.Puts != 1 {
		t.Fatalf("first replica stats %+v; want one put", s)
	}

	// The first replica reported down: the next one coordinates.
	tc.nodes[out].setDown(pref[0], true)
	ctx = tc.mustPut(out, key, "v2", nil)
	if len(ctx) != 1 || ctx[0].Node != pref[1] {
		t.Fatalf("put with %s down written by %v; want %s", pref[0], ctx, pref[1])
	}
	if got := tc.get(out, key); !slices.Contains(values(got), "v2") {
		t.Fatalf("get via the outsider: %d %v", got.Status, values(got))
	}

	// Every home node down: the outsider is the only target, and W=2
	// cannot be met: refused at once, nothing stored.
	for _, id := range pref {
		tc.nodes[out].setDown(id, true)
	}
	if r := tc.put(out, key, "v3", nil); r.Status != messages.StatusUnavailable || r.Unknown ||
		!strings.Contains(r.Err, "only 1 replicas are reachable and W=2") {
		t.Fatalf("put with every home node down: %d %q", r.Status, r.Err)
	}

	// A put bounced too often is refused, not forwarded again.
	for _, id := range pref {
		tc.nodes[out].setDown(id, false)
	}
	r := tc.putMsg(out, &messages.ClientPut{Key: []byte(key), Value: []byte("v4"), Hops: 3})
	if r.Status != messages.StatusUnavailable || !strings.Contains(r.Err, "forwarded 3 times") {
		t.Fatalf("put with 3 hops: %d %q", r.Status, r.Err)
	}
}

// Requests that cannot be valid are refused with 400 before any replica
// is asked.
func TestCoordinatorBadRequests(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{})
	ctx := tc.mustPut(0, "k", "v", nil)
	tests := []struct {
		name string
		msg  any
		want string
	}{
		{"put empty key", &messages.ClientPut{Value: []byte("v")}, "empty key"},
		{"put W above N", &messages.ClientPut{Key: []byte("k"), W: 4}, "W=4 out of range 1..3 (N=3)"},
		{"put negative W", &messages.ClientPut{Key: []byte("k"), W: -1}, "W=-1 out of range 1..3 (N=3)"},
		{"delete without context", &messages.ClientPut{Key: []byte("k"), Delete: true}, "delete needs the context of a read"},
		{"get empty key", &messages.ClientGet{}, "empty key"},
		{"get R above N", &messages.ClientGet{Key: []byte("k"), R: 4}, "R=4 out of range 1..3 (N=3)"},
		{"get negative R", &messages.ClientGet{Key: []byte("k"), R: -2}, "R=-2 out of range 1..3 (N=3)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var status int
			var msg string
			switch m := tt.msg.(type) {
			case *messages.ClientPut:
				r := tc.putMsg(1, m)
				status, msg = r.Status, r.Err
			case *messages.ClientGet:
				r := tc.getMsg(1, m)
				status, msg = r.Status, r.Err
			}
			if status != messages.StatusBadRequest || !strings.Contains(msg, tt.want) {
				t.Fatalf("%d %q; want 400 containing %q", status, msg, tt.want)
			}
		})
	}
	if s := tc.stats(1); s.Rejected != uint64(len(tests)) || s.Puts+s.Gets != 0 {
		t.Fatalf("stats %+v; want %d rejected and nothing coordinated", s, len(tests))
	}
	// The refusals changed nothing.
	if got := tc.get(2, "k"); got.Status != messages.StatusOK || got.Context.Compare(ctx) != version.Equal {
		t.Fatalf("get after refusals: %d %v", got.Status, got.Context)
	}
}

// The forwarded put is the client's message with one more hop, and its
// sender is still the client, so the answer skips the forwarding node.
func TestCoordinatorForwardKeepsSenderAndCountsHops(t *testing.T) {
	members := []cluster.Member{{ID: "n1", Addr: "n1:1"}, {ID: "n2", Addr: "n2:1"}, {ID: "n3", Addr: "n3:1"}, {ID: "n4", Addr: "n4:1"}}
	ring, err := cluster.NewRing(8, 3, members)
	if err != nil {
		t.Fatal(err)
	}
	var key []byte
	var outsider cluster.Member
	for i := 0; i < 1000 && key == nil; i++ {
		k := []byte(fmt.Sprintf("hop-%d", i))
		pref := ring.PreferenceList(ring.PartitionOf(k))
		for _, m := range members {
			if !slices.Contains(pref, m.ID) && pref[0] == "n1" {
				key, outsider = k, m
				break
			}
		}
	}
	if key == nil {
		t.Fatal("no key whose first replica is n1 and that some node does not replicate")
	}
	net := memnet.New(1)
	engines := map[string]*actor.Engine{}
	for _, m := range []cluster.Member{members[0], outsider} {
		tr := net.Transport(m.Addr)
		e, err := actor.NewEngine(actor.NewEngineConfig().WithRemote(tr))
		if err != nil {
			t.Fatal(err)
		}
		engines[m.ID] = e
		t.Cleanup(func() { tr.Stop().Wait() })
	}
	// n1 runs a recorder where its coordinator would be.
	const coords = 3
	got := make(chan *messages.ClientPut, 1)
	senders := make(chan string, 1)
	engines["n1"].SpawnFunc(func(c *actor.Context) {
		if m, ok := c.Message().(*messages.ClientPut); ok {
			got <- m
			senders <- c.Sender().String()
		}
	}, actors.CoordinatorKind, actor.WithID(actors.CoordinatorID(actors.CoordinatorFor(key, coords))))
	co := engines[outsider.ID].Spawn(actors.NewCoordinator(actors.CoordinatorConfig{
		Node: outsider.ID, Ring: cluster.NewView(ring, 1), ReadQuorum: 2, WriteQuorum: 2, Log: zerolog.Nop(), Coordinators: coords,
	}), actors.CoordinatorKind, actor.WithID("0"))
	client := actor.NewPID(outsider.Addr, "client/1")
	sent := &messages.ClientPut{Key: key, Value: []byte("v"), W: 2, Hops: 1}
	engines[outsider.ID].SendWithSender(co, sent, client)

	select {
	case m := <-got:
		if m.Hops != 2 || string(m.Key) != string(key) || string(m.Value) != "v" || m.W != 2 {
			t.Fatalf("forwarded %+v; want the put with Hops 2", m)
		}
		if s := <-senders; s != client.String() {
			t.Fatalf("forwarded with sender %s; want the client %s", s, client)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing forwarded to the first replica's coordinator")
	}
	if sent.Hops != 1 {
		t.Fatalf("the client's message was modified: Hops %d", sent.Hops)
	}
}
