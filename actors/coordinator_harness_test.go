package actors_test

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
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

// clusterSpec describes a test cluster; zero fields take the defaults of
// newTestCluster.
type clusterSpec struct {
	nodes        int // S
	partitions   int // Q
	replicas     int // N
	r, w         int
	timeout      time.Duration
	coordinators int // per node
	seed         int64
	// wrap, when set, wraps each node's store (to inject failures).
	wrap func(node string, s store.Store) store.Store
	// vnode, coord and syncer, when set, adjust each node's actor
	// configurations.
	vnode  func(cfg *actors.VnodeConfig)
	coord  func(cfg *actors.CoordinatorConfig)
	syncer func(cfg *actors.SyncerConfig)
}

// testCluster is S engines on one memnet, each with the vnodes of the
// partitions it replicates and its coordinators, built as a node would
// build them.
type testCluster struct {
	tb    testing.TB
	spec  clusterSpec
	net   *memnet.Network
	ring  *cluster.Ring
	view  *cluster.View
	nodes []*testNode
}

type testNode struct {
	id, addr string
	engine   *actor.Engine
	tr       *memnet.Transport
	store    store.Store
	sup      *actors.Supervisor
	coords   []*actor.PID
	pids     []*actor.PID
	vnodes   []*actor.PID // also in pids

	sync actors.SyncView

	mu   sync.Mutex
	down map[string]bool // what this node's Down reports
}

func (n *testNode) isDown(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.down[id]
}

// setDown makes the node's coordinators believe member id is down (or up).
func (n *testNode) setDown(id string, down bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.down == nil {
		n.down = map[string]bool{}
	}
	n.down[id] = down
}

func newTestCluster(tb testing.TB, spec clusterSpec) *testCluster {
	tb.Helper()
	if spec.nodes == 0 {
		spec.nodes = 3
	}
	if spec.partitions == 0 {
		spec.partitions = 16
	}
	if spec.replicas == 0 {
		spec.replicas = 3
	}
	if spec.r == 0 {
		spec.r = 2
	}
	if spec.w == 0 {
		spec.w = 2
	}
	if spec.timeout == 0 {
		spec.timeout = time.Second
	}
	if spec.coordinators == 0 {
		spec.coordinators = 2
	}
	if spec.seed == 0 {
		spec.seed = 1
	}
	members := make([]cluster.Member, spec.nodes)
	for i := range members {
		members[i] = cluster.Member{ID: fmt.Sprintf("n%d", i+1), Addr: fmt.Sprintf("n%d:7000", i+1)}
	}
	ring, err := cluster.NewRing(spec.partitions, spec.replicas, members)
	if err != nil {
		tb.Fatalf("ring: %v", err)
	}
	tc := &testCluster{tb: tb, spec: spec, net: memnet.New(spec.seed), ring: ring, view: cluster.NewView(ring, 1)}
	// Actors may still log after the test returns (late answers, timers),
	// which a test logger does not allow: logs go nowhere.
	log := zerolog.Nop()
	for _, m := range members {
		n := &testNode{id: m.ID, addr: m.Addr, tr: tc.net.Transport(m.Addr), store: store.NewMemory()}
		if spec.wrap != nil {
			n.store = spec.wrap(m.ID, n.store)
		}
		n.engine, err = actor.NewEngine(actor.NewEngineConfig().WithRemote(n.tr))
		if err != nil {
			tb.Fatalf("engine %s: %v", m.ID, err)
		}
		n.sup = actors.NewSupervisor(log)
		tc.spawnVnodes(n, "")
		for i := 0; i < spec.coordinators; i++ {
			cfg := actors.CoordinatorConfig{
				Node: m.ID, Addr: m.Addr, Ring: tc.view, ReadQuorum: spec.r, WriteQuorum: spec.w,
				Timeout: spec.timeout, Log: log, Suspected: n.isDown, Coordinators: spec.coordinators,
			}
			if spec.coord != nil {
				spec.coord(&cfg)
			}
			pid := n.sup.Spawn(n.engine, actors.NewCoordinator(cfg), actors.CoordinatorKind, actor.WithID(actors.CoordinatorID(i)))
			n.coords = append(n.coords, pid)
			n.pids = append(n.pids, pid)
		}
		tc.nodes = append(tc.nodes, n)
	}
	tb.Cleanup(tc.stop)
	return tc
}

// spawnVnodes starts node n's vnodes on n.store, naming their dots
// dotNode ("" for the member ID) from one source, as a node does.
func (tc *testCluster) spawnVnodes(n *testNode, dotNode string) {
	if dotNode == "" {
		dotNode = n.id
	}
	dots := version.NewDotSource(dotNode)
	hints := n.sup.Spawn(n.engine, actors.NewHints(actors.HintsConfig{Node: n.id, Ring: tc.view, Store: n.store,
		Dots: dots, Up: func(home string) bool { return !n.isDown(home) }, Log: zerolog.Nop()}),
		actors.HintsKind, actor.WithID(actors.HintsID))
	var parts []uint32
	for _, p := range tc.ring.PartitionsOf(n.id) {
		parts = append(parts, uint32(p))
	}
	syncCfg := actors.SyncerConfig{Node: n.id, Addr: n.addr, Ring: tc.view, Partitions: func() []uint32 { return parts }, Round: -1,
		StepTimeout: 300 * time.Millisecond, Up: func(id string) bool { return !n.isDown(id) }, View: &n.sync, Log: zerolog.Nop()}
	if tc.spec.syncer != nil {
		tc.spec.syncer(&syncCfg)
	}
	syncer := n.sup.Spawn(n.engine, actors.NewSyncer(syncCfg), actors.SyncerKind, actor.WithID(actors.SyncerID))
	n.vnodes = append(n.vnodes, hints, syncer)
	n.pids = append(n.pids, hints, syncer)
	for _, p := range tc.ring.PartitionsOf(n.id) {
		cfg := actors.VnodeConfig{Node: n.id, Dots: dots, Partition: uint32(p), Store: n.store, Log: zerolog.Nop(),
			PartitionBits: bits.Len(uint(tc.ring.Partitions())) - 1}
		if tc.spec.vnode != nil {
			tc.spec.vnode(&cfg)
		}
		pid := n.sup.Spawn(n.engine, actors.NewVnode(cfg), actors.VnodeKind, actor.WithID(actors.VnodeID(uint32(p))))
		n.vnodes = append(n.vnodes, pid)
		n.pids = append(n.pids, pid)
	}
}

func (tc *testCluster) stop() {
	for _, n := range tc.nodes {
		for _, pid := range n.pids {
			select {
			case <-n.engine.Poison(pid).Done():
			case <-time.After(5 * time.Second):
				tc.tb.Errorf("%s did not stop", pid)
			}
		}
		n.tr.Stop().Wait()
		if p := n.sup.Panics(); p != 0 {
			tc.tb.Errorf("node %s: %d actor panics", n.id, p)
		}
	}
}

// node returns the node with member ID id.
func (tc *testCluster) node(id string) *testNode {
	for _, n := range tc.nodes {
		if n.id == id {
			return n
		}
	}
	tc.tb.Fatalf("no node %s", id)
	return nil
}

// nodeIndex returns the position of member id in tc.nodes.
func (tc *testCluster) nodeIndex(id string) int {
	for i, n := range tc.nodes {
		if n.id == id {
			return i
		}
	}
	tc.tb.Fatalf("no node %s", id)
	return -1
}

func (tc *testCluster) pref(key []byte) []string {
	return tc.ring.PreferenceList(tc.ring.PartitionOf(key))
}

// coordFor returns the coordinator of node i that a client would pick for key.
func (tc *testCluster) coordFor(i int, key []byte) *actor.PID {
	n := tc.nodes[i]
	return n.coords[actors.CoordinatorFor(key, len(n.coords))]
}

// request asks a coordinator of node i, as a client on that node's engine
// would, and waits well past the coordinator's own timeout.
func (tc *testCluster) request(i int, key []byte, msg any) any {
	tc.tb.Helper()
	res, err := tc.nodes[i].engine.Request(tc.coordFor(i, key), msg, tc.spec.timeout*3+2*time.Second).Result()
	if err != nil {
		tc.tb.Fatalf("request %T to node %s: %v", msg, tc.nodes[i].id, err)
	}
	return res
}

func (tc *testCluster) putMsg(i int, m *messages.ClientPut) *messages.ClientPutReply {
	tc.tb.Helper()
	res := tc.request(i, m.Key, m)
	reply, ok := res.(*messages.ClientPutReply)
	if !ok {
		tc.tb.Fatalf("put answered %T", res)
	}
	return reply
}

func (tc *testCluster) put(i int, key, value string, ctx version.Clock) *messages.ClientPutReply {
	tc.tb.Helper()
	return tc.putMsg(i, &messages.ClientPut{Key: []byte(key), Value: []byte(value), Context: ctx})
}

func (tc *testCluster) mustPut(i int, key, value string, ctx version.Clock) version.Clock {
	tc.tb.Helper()
	reply := tc.put(i, key, value, ctx)
	if reply.Status != messages.StatusOK {
		tc.tb.Fatalf("put %s=%s via %s: %d %s", key, value, tc.nodes[i].id, reply.Status, reply.Err)
	}
	return reply.Context
}

func (tc *testCluster) getMsg(i int, m *messages.ClientGet) *messages.ClientGetReply {
	tc.tb.Helper()
	res := tc.request(i, m.Key, m)
	reply, ok := res.(*messages.ClientGetReply)
	if !ok {
		tc.tb.Fatalf("get answered %T", res)
	}
	return reply
}

func (tc *testCluster) get(i int, key string) *messages.ClientGetReply {
	tc.tb.Helper()
	return tc.getMsg(i, &messages.ClientGet{Key: []byte(key)})
}

// stats returns the counters of node i's coordinators, summed.
func (tc *testCluster) stats(i int) actors.CoordinatorStats {
	tc.tb.Helper()
	var sum actors.CoordinatorStats
	n := tc.nodes[i]
	for _, pid := range n.coords {
		res, err := n.engine.Request(pid, &actors.CoordinatorStatsRequest{}, 5*time.Second).Result()
		if err != nil {
			tc.tb.Fatalf("stats of %s: %v", pid, err)
		}
		s := res.(*actors.CoordinatorStats)
		sum.Open += s.Open
		sum.Puts += s.Puts
		sum.Gets += s.Gets
		sum.Forwarded += s.Forwarded
		sum.Rejected += s.Rejected
		sum.TooLarge += s.TooLarge
		sum.Unavailable += s.Unavailable
		sum.Late += s.Late
		sum.Repairs += s.Repairs
		sum.Reaps += s.Reaps
		sum.StandIn += s.StandIn
		sum.Hinted += s.Hinted
		sum.Aborted += s.Aborted
		sum.Hedged += s.Hedged
	}
	return sum
}

// stored reads key straight from node id's store, bypassing the actors.
func (tc *testCluster) stored(id, key string) version.Siblings {
	tc.tb.Helper()
	p := uint32(tc.ring.PartitionOf([]byte(key)))
	raw, err := tc.node(id).store.Get(p, []byte(key))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		tc.tb.Fatalf("store of %s: %v", id, err)
	}
	s, err := version.UnmarshalSiblings(raw)
	if err != nil {
		tc.tb.Fatalf("store of %s: %v", id, err)
	}
	return s
}

// findKey returns the first of a bounded run of candidate keys whose
// preference list satisfies ok.
func (tc *testCluster) findKey(prefix string, ok func(pref []string) bool) string {
	tc.tb.Helper()
	for i := 0; i < 10000; i++ {
		k := fmt.Sprintf("%s-%d", prefix, i)
		if ok(tc.pref([]byte(k))) {
			return k
		}
	}
	tc.tb.Fatalf("no key with prefix %s fits", prefix)
	return ""
}

// outsiderKey returns a key and a node outside its preference list.
func (tc *testCluster) outsiderKey(prefix string) (key, outsider string) {
	tc.tb.Helper()
	key = tc.findKey(prefix, func(pref []string) bool {
		for _, n := range tc.nodes {
			if !slices.Contains(pref, n.id) {
				outsider = n.id
				return true
			}
		}
		return false
	})
	return key, outsider
}

// eventually polls cond until it holds or the deadline passes; the poll
// interval is short and the number of polls bounded by the deadline.
func eventually(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not true within %s", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clientActor stands in for a client: it records every message it gets,
// so a test can see that a request was answered exactly once.
type clientActor struct {
	mu   sync.Mutex
	got  []any
	seen atomic.Int64
}

// flushMsg goes through the client's inbox behind everything sent to it
// before; seeing it means those messages were recorded.
type flushMsg struct{ n int64 }

func spawnClient(e *actor.Engine) (*clientActor, *actor.PID) {
	ca := &clientActor{}
	pid := e.SpawnFunc(func(c *actor.Context) {
		switch m := c.Message().(type) {
		case *flushMsg:
			ca.seen.Store(m.n)
		case actor.Initialized, actor.Started, actor.Stopped:
		default:
			ca.mu.Lock()
			ca.got = append(ca.got, m)
			ca.mu.Unlock()
		}
	}, "testclient")
	return ca, pid
}

// replies returns what the client got, once everything sent to it before
// the call has been through its inbox.
func (ca *clientActor) replies(tb testing.TB, e *actor.Engine, pid *actor.PID) []any {
	tb.Helper()
	n := ca.seen.Load() + 1
	e.Send(pid, &flushMsg{n: n})
	eventually(tb, 5*time.Second, "client inbox flushed", func() bool { return ca.seen.Load() >= n })
	ca.mu.Lock()
	defer ca.mu.Unlock()
	return append([]any(nil), ca.got...)
}

// values returns a reply's values as strings, in reply order.
func values(r *messages.ClientGetReply) []string {
	out := make([]string, len(r.Values))
	for i, v := range r.Values {
		out[i] = string(v)
	}
	return out
}

// failingStore fails every call while failing is set.
type failingStore struct {
	store.Store
	failing atomic.Bool
}

var errInjected = errors.New("injected disk failure")

func (s *failingStore) Get(p uint32, key []byte) ([]byte, error) {
	if s.failing.Load() {
		return nil, errInjected
	}
	return s.Store.Get(p, key)
}

func (s *failingStore) Apply(b *store.Batch) error {
	if s.failing.Load() {
		return errInjected
	}
	return s.Store.Apply(b)
}
