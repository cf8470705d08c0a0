// Package node wires one node process: from a Config it builds the logger,
// the msgpack transport, the actor engine, the store, the ring and the
// node's actors (ping, membership, one vnode per partition replica, the
// coordinators) and the HTTP API, and stops them in order.
package node

import (
	"context"
	"errors"
	"fmt"
	"github.com/dynamokv/dynamo/internal/growstack"
	"io"
	"math/bits"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/membership"
	"github.com/dynamokv/dynamo/store"
	"github.com/dynamokv/dynamo/transport"
	"github.com/dynamokv/dynamo/version"
	"github.com/rs/zerolog"
)

// Node is one running node.
type Node struct {
	cfg          Config
	log          zerolog.Logger
	base         zerolog.Logger
	engine       *actor.Engine
	transport    *transport.TCP
	supervisor   *actors.Supervisor
	store        store.Store
	ringView     *cluster.View
	state        membership.State // the membership the node started with
	initial      []uint32         // partitions whose vnodes started with the node
	joined       bool             // it joined a running cluster at this start
	partView     actors.PartitionView
	view         *actors.MemberView
	coordinators []*actor.PID
	actorPIDs    []*actor.PID // the node's own actors but its coordinators and behaviours
	behaviours   []*actor.PID // in registration order
	peers        actors.PeerView
	hintView     actors.HintView
	syncView     actors.SyncView
	metrics      *metrics
	http         *http.Server
	httpAddr     string // where the HTTP API listens
	httpAdvert   string // where clients reach it (Config.HTTPAdvertise, else httpAddr)
	stopOnce     sync.Once
	// dots names the writes this node coordinates: the member ID and an
	// incarnation new at every start, so that a node restarted on a store
	// that lost or rolled back data never reissues a dot.
	dots          *version.DotSource
	vnodeCounters actors.VnodeCounters
	stats         storeStats
}

// New validates cfg (after defaults), starts the node and returns it. Log
// output goes to logOut (stderr when nil).
func New(cfg Config, logOut io.Writer) (*Node, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("node config: %w", err)
	}
	log, err := NewLogger(logOut, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	// Actor wake-ups are new goroutines: start them on stacks deep enough
	// for a vnode's write (see package growstack).
	growstack.RaiseStartingStack()
	base := log // the vnode and coordinator actors add the node field themselves
	log = log.With().Str("node", cfg.ID).Logger()
	RouteSlog(log)

	tlsConf, err := loadTLS(cfg.TLSCert, cfg.TLSKey, cfg.TLSCA)
	if err != nil {
		return nil, err
	}
	st, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	// The membership: what the store holds from an earlier run, else the
	// static member list; a node joining asks a member below, once its
	// transport runs.
	state, found, err := actors.LoadMembership(st)
	if err == nil && !found && cfg.Join == "" {
		state, err = bootstrap(cfg)
	}
	if err == nil && found {
		err = checkStored(cfg, state)
	}
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("node config: %w", err)
	}
	n := &Node{cfg: cfg, log: log, base: base, store: st, view: &actors.MemberView{},
		dots: version.NewDotSource(cfg.ID + "." + actors.NewIncarnation())}
	n.supervisor = actors.NewSupervisor(log)
	n.metrics = newMetrics(n)
	n.supervisor.OnPanic = func(kind, msg string) { n.metrics.panics.WithLabelValues(kind, msg).Inc() }

	n.transport, err = transport.NewTCP(transport.TCPConfig{
		ListenAddr:    cfg.Listen,
		AdvertiseAddr: cfg.Advertise,
		Cluster:       cfg.Cluster,
		TLS:           tlsConf,
		DialTimeout:   cfg.DialTimeout,
		// Heartbeats feed the failure detector, which suspects a peer
		// after a second of silence; the connection itself is dropped
		// only after three.
		HeartbeatInterval: 200 * time.Millisecond,
		HeartbeatTimeout:  3 * time.Second,
		// A peer that was down is redialled at least twice a second, so
		// it is cleared soon after it answers again.
		BackoffMax:   500 * time.Millisecond,
		QueueBytes:   cfg.PeerQueueBytes,
		MaxFrameSize: cfg.MaxFrameSize,
		Logger:       log.With().Str("component", "transport").Logger(),
	})
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("start transport on %s: %w", cfg.Listen, err)
	}
	n.engine, err = actor.NewEngine(actor.NewEngineConfig().WithRemote(n.transport))
	if err != nil {
		n.transport.Stop().Wait()
		_ = st.Close()
		return nil, fmt.Errorf("start actor engine: %w", err)
	}
	var ringSet atomic.Pointer[cluster.View] // the ring, once the node has one
	// Requests that find no actor are answered from the first moment: a
	// joining node is in the members' rings before its actors run.
	n.actorPIDs = append(n.actorPIDs, n.supervisor.Spawn(n.engine, actors.NewMisdirected(actors.MisdirectedConfig{
		Node: cfg.ID, Membership: actors.MembershipPID(n.transport.Address()),
		Version: func() uint64 {
			if v := ringSet.Load(); v != nil {
				return v.Version()
			}
			return 0
		},
	}), actors.MisdirectedKind, actor.WithID(actors.MisdirectedID)))
	var httpListener net.Listener
	if cfg.HTTP != "" {
		// Listen before the actors start (and before joining, so the
		// members learn the real address), so a port in use fails the start.
		l, err := net.Listen("tcp", cfg.HTTP)
		httpListener = l
		if err != nil {
			n.transport.Stop().Wait()
			_ = st.Close()
			return nil, fmt.Errorf("listen for HTTP on %s: %w", cfg.HTTP, err)
		}
		n.httpAddr = l.Addr().String()
		n.httpAdvert = n.httpAddr
		if cfg.HTTPAdvertise != "" {
			n.httpAdvert = cfg.HTTPAdvertise
		}
		// Bounded reads and writes: a client that trickles a body or never
		// reads the answer must not hold a goroutine and a buffer forever.
		n.http = &http.Server{
			Handler:           (&httpAPI{n: n}).routes(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
		}
	}
	fail := func(err error) (*Node, error) {
		if httpListener != nil {
			_ = httpListener.Close()
		}
		n.transport.Stop().Wait()
		_ = st.Close()
		return nil, err
	}
	if !found && cfg.Join != "" {
		if state, err = n.joinCluster(n.httpAdvert); err != nil {
			return fail(err)
		}
		n.joined = true // every partition it holds is new to it
	}
	if err := actors.SaveMembership(st, state); err != nil {
		return fail(fmt.Errorf("store the membership: %w", err))
	}
	ring, err := state.Ring()
	if err != nil {
		return fail(fmt.Errorf("node config: %w", err))
	}
	n.ringView = cluster.NewView(ring, state.Version)
	ringSet.Store(n.ringView)
	n.state = state
	n.spawnActors()
	if n.http != nil {
		// Serve only once the coordinators exist: a request must find them.
		go func(l net.Listener) {
			if err := n.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error().Err(err).Msg("HTTP server stopped")
			}
		}(httpListener)
	}
	log.Info().Str("listen", n.transport.Address()).Str("http", n.httpAddr).Str("http_advertise", n.httpAdvert).Str("data", dataWhere(cfg)).Str("dot_node", n.dots.Node()).
		Int("vnodes", len(n.partView.Held())).Int("members", len(state.Members())).Uint64("membership", state.Version).
		Msg("node started")
	return n, nil
}

// dataWhere says where the node keeps its data, for its log.
func dataWhere(cfg Config) string {
	if cfg.Storage == "memory" {
		return "memory (lost on exit)"
	}
	if abs, err := filepath.Abs(cfg.DataDir); err == nil {
		return abs
	}
	return cfg.DataDir
}

func openStore(cfg Config) (store.Store, error) {
	if cfg.Storage == "memory" {
		return store.NewMemory(), nil
	}
	open := store.OpenPebble
	if cfg.Storage == "log" {
		open = store.OpenLog
	}
	st, err := open(store.Options{Dir: cfg.DataDir, Sync: cfg.SyncWrites})
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", cfg.DataDir, err)
	}
	return st, nil
}

func (n *Node) spawnActors() {
	cfg, e, sup := n.cfg, n.engine, n.supervisor
	n.actorPIDs = append(n.actorPIDs,
		sup.Spawn(e, actors.NewPinger(cfg.ID), actors.PingKind, actor.WithID(actors.PingID)))
	// The vnodes of the partitions owned now start here, before anything
	// is served or gossiped; the partition manager starts and stops them afterwards.
	for _, p := range n.ringView.Load().PartitionsOf(cfg.ID) {
		n.initial = append(n.initial, uint32(p))
		n.spawnVnode(uint32(p), n.joined)
	}
	n.actorPIDs = append(n.actorPIDs, sup.Spawn(e, actors.NewMembership(actors.MembershipConfig{
		Self: cfg.ID, Addr: n.transport.Address(), HTTP: n.httpAdvert, Coordinators: cfg.Coordinators,
		State: n.state, Store: n.store, Ring: n.ringView, View: n.view,
		Up:      func(id string) bool { return !n.peers.Suspected(id) },
		Changed: actor.NewPID(n.transport.Address(), actors.PartitionsKind+"/"+actors.PartitionsID),
		Log:     n.log.With().Str("component", "membership").Logger(),
	}), actors.PingKind, actor.WithID(actors.MembershipID)))

	n.behaviours = n.spawnBehaviours(append(n.builtinBehaviours(), cfg.Behaviours...))
	refuse := func() string {
		if problems := n.view.Problems(); len(problems) > 0 {
			return "cluster configuration mismatch: " + strings.Join(problems, "; ")
		}
		return ""
	}
	// "Up" means one thing everywhere: the failure detector's verdict; a
	// member whose configuration disagrees is not sent work either.
	suspected := func(id string) bool { return n.peers.Suspected(id) || n.view.Problem(id) != "" }
	detector := actor.NewPID(n.transport.Address(), actors.DetectorKind+"/"+actors.DetectorID)
	for i := 0; i < cfg.Coordinators; i++ {
		pid := sup.Spawn(e, actors.NewCoordinator(actors.CoordinatorConfig{
			Node: cfg.ID, Addr: n.transport.Address(), Ring: n.ringView, ReadQuorum: cfg.ReadQuorum, WriteQuorum: cfg.WriteQuorum,
			Timeout: cfg.RequestTimeout, ReadHedge: cfg.ReadHedge, NoDigests: cfg.NoReadDigests, Suspected: suspected, Detector: detector, Coordinators: cfg.Coordinators,
			MaxKeySize: cfg.MaxKeySize, MaxValueSize: cfg.MaxValueSize, Refuse: refuse,
			MaxReplyBytes: cfg.MaxFrameSize - 64<<10, TombstoneGrace: cfg.TombstoneGrace, Now: n.now, Metrics: n.metrics.requests,
			Log: n.base.With().Str("component", "coordinator").Logger(),
		}), actors.CoordinatorKind, actor.WithID(fmt.Sprint(i)))
		n.coordinators = append(n.coordinators, pid)
	}
}

// spawnVnode starts the vnode of partition p; partial for one the node
// just gained, which fills itself from the other replicas.
func (n *Node) spawnVnode(p uint32, partial bool) *actor.PID {
	cfg := n.cfg
	return n.supervisor.Spawn(n.engine, actors.NewVnode(actors.VnodeConfig{
		Node: cfg.ID, Dots: n.dots, Partition: p, Store: n.store,
		Log:             n.base,
		Now:             n.now,
		MaxClockEntries: 0,
		// The vnodes share one budget, so that the cache's memory does
		// not grow with the number of partitions.
		CacheBytes: cfg.VnodeCacheBytes / max(len(n.ringView.Load().PartitionsOf(cfg.ID)), 1),
		Counters:   &n.vnodeCounters,
		// Room for the key and the message around the set, so every
		// replica can send what it holds in one frame.
		MaxSetBytes:   cfg.MaxFrameSize - 64<<10,
		PartitionBits: bits.Len(uint(cfg.Partitions)) - 1,
		Ring:          n.ringView,
		Membership:    actors.MembershipPID(n.transport.Address()),
		Partial:       partial,
		Syncer:        actors.SyncerPID(n.transport.Address()),
	}), actors.VnodeKind, actor.WithID(actors.VnodeID(p)))
}

// now is the node's wall clock in unix nanoseconds, set off by
// Config.ClockOffset; it stamps versions. Timers use the real clock.
func (n *Node) now() int64 { return time.Now().Add(n.cfg.ClockOffset).UnixNano() }

// poisonAll stops pids at once and waits for them until the deadline.
func (n *Node) poisonAll(pids []*actor.PID, deadline time.Time) {
	ctx, cancel := contextUntil(deadline)
	defer cancel()
	var wg sync.WaitGroup
	for _, pid := range pids {
		wg.Add(1)
		go func(pid *actor.PID) {
			defer wg.Done()
			<-n.engine.PoisonCtx(ctx, pid).Done()
		}(pid)
	}
	wg.Wait()
}

func contextUntil(deadline time.Time) (context.Context, context.CancelFunc) {
	return context.WithDeadline(context.Background(), deadline)
}

// Peers returns the failure detector's verdicts.
func (n *Node) Peers() *actors.PeerView { return &n.peers }

// Engine returns the node's actor engine, for spawning more actors.
func (n *Node) Engine() *actor.Engine { return n.engine }

// Supervisor returns the panic guard the node's actors are spawned with.
func (n *Node) Supervisor() *actors.Supervisor { return n.supervisor }

// Address returns the node's advertised peer address.
func (n *Node) Address() string { return n.transport.Address() }

// HTTPAddr returns the address the HTTP API listens on, "" when none.
func (n *Node) HTTPAddr() string { return n.httpAddr }

// Logger returns the node's logger.
func (n *Node) Logger() zerolog.Logger { return n.log }

// Transport returns the node's transport, for its counters.
func (n *Node) Transport() transport.Transport { return n.transport }

// Ring returns the node's ring.
func (n *Node) Ring() *cluster.Ring { return n.ringView.Load() }

// Stop stops the node: HTTP first (no new work), then the actors (what is
// in their inboxes is handled), the transport, and the store last, so that
// every write a vnode acknowledged is in the store when it closes. It is
// safe to call more than once.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		if n.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = n.http.Shutdown(ctx)
			cancel()
		}
		// Every actor handles what is already in its inbox. Coordinators go
		// first (no new work), then the behaviours in reverse order, then
		// the vnodes and the rest at once: all under one deadline, so a
		// stuck actor cannot hold the others for long.
		deadline := time.Now().Add(10 * time.Second)
		n.poisonAll(n.coordinators, deadline)
		n.stopInOrder(n.behaviours, deadline)
		var vnodes []*actor.PID
		for _, p := range n.partView.Held() {
			vnodes = append(vnodes, actors.VnodePID(n.transport.Address(), p))
		}
		n.poisonAll(vnodes, deadline)
		n.poisonAll(n.actorPIDs, deadline)
		if time.Now().After(deadline) {
			n.log.Warn().Msg("some actors did not stop within 10s")
		}
		n.transport.Stop().Wait()
		if err := n.store.Close(); err != nil {
			n.log.Error().Err(err).Msg("close store")
		}
		n.log.Info().Msg("node stopped")
	})
}
