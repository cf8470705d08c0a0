package node

import (
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/hints"
	"github.com/dynamokv/dynamo/store"
	"github.com/dynamokv/dynamo/transport"
	"github.com/dynamokv/dynamo/version"
	"github.com/rs/zerolog"
)

// Behaviour is an actor behaviour a node runs beside its vnodes and
// coordinators: the failure detector and the hint buffer are two, and an
// application adds its own through Config.Behaviours. The node spawns
// each, in order, through its panic-guarding supervisor, with the Env it
// needs, once its vnodes exist and before it serves clients; and stops
// them in reverse order, after its coordinators and before its vnodes and
// store.
type Behaviour struct {
	// Kind and ID name the actor: its PID on any node is
	// actor.NewPID(addr, Kind+"/"+ID).
	Kind, ID string
	// New returns the behaviour's producer.
	New func(env Env) actor.Producer
}

// Env is what a node gives its behaviours.
type Env struct {
	Node   string // this node's member ID
	Engine *actor.Engine
	Store  store.Store
	// Ring is the ring requests are routed by; it changes with the
	// membership.
	Ring      *cluster.View
	Transport *transport.TCP
	// Peers is the failure detector's verdicts: read it, never write.
	Peers *actors.PeerView
	// Dots names the writes this node coordinates; a behaviour that
	// makes versions must take its dots from here.
	Dots *version.DotSource
	// Now is the node's wall clock in unix nanoseconds (Config.ClockOffset
	// applies).
	Now func() int64
	Log zerolog.Logger
}

// builtinBehaviours are the node's own: the failure detector, the hint
// buffer, which replays to the home nodes the detector clears, the Merkle
// syncer, which compares partitions with the replicas it clears, and the
// partition manager, which starts and hands over vnodes as the ring
// changes.
func (n *Node) builtinBehaviours() []Behaviour {
	return []Behaviour{
		{Kind: actors.DetectorKind, ID: actors.DetectorID, New: func(env Env) actor.Producer {
			return actors.NewDetector(actors.DetectorConfig{
				Self: env.Node, Ring: env.Ring,
				Links: func() []transport.PeerStats { return env.Transport.Stats().Peers },
				View:  env.Peers, Log: env.Log.With().Str("component", "detector").Logger(),
			})
		}},
		{Kind: actors.HintsKind, ID: actors.HintsID, New: func(env Env) actor.Producer {
			return actors.NewHints(actors.HintsConfig{
				Node: env.Node, Ring: env.Ring, Store: env.Store, Dots: env.Dots,
				Up:     func(home string) bool { return !env.Peers.Suspected(home) },
				Limits: hints.Limits{Window: n.cfg.HintWindow}, MaxSetBytes: n.cfg.MaxFrameSize - 64<<10,
				Now: env.Now, View: &n.hintView, Log: env.Log,
			})
		}},
		{Kind: actors.SyncerKind, ID: actors.SyncerID, New: func(env Env) actor.Producer {
			return actors.NewSyncer(actors.SyncerConfig{
				Node: env.Node, Addr: env.Transport.Address(), Ring: env.Ring, Partitions: n.partView.Held,
				Up:    func(id string) bool { return !env.Peers.Suspected(id) },
				Round: n.cfg.AntiEntropyRound, KeysPerSecond: n.cfg.AntiEntropyRate,
				HandoffKeysPerSecond: n.cfg.HandoffRate, TombstoneGrace: n.cfg.TombstoneGrace,
				Coordinator: func(key []byte) *actor.PID {
					return actors.CoordinatorPID(env.Transport.Address(), actors.CoordinatorFor(key, n.cfg.Coordinators))
				},
				Now: env.Now, View: &n.syncView, Log: env.Log,
			})
		}},
		{Kind: actors.PartitionsKind, ID: actors.PartitionsID, New: func(env Env) actor.Producer {
			initial := map[uint32]*actor.PID{}
			for _, p := range n.initial {
				initial[p] = actors.VnodePID(env.Transport.Address(), p)
			}
			return actors.NewPartitions(actors.PartitionsConfig{
				Node: env.Node, Ring: env.Ring, Store: env.Store, Spawn: n.spawnVnode, Initial: initial,
				Syncer: actors.SyncerPID(env.Transport.Address()), View: &n.partView,
				Log: env.Log.With().Str("node", env.Node).Str("component", "partitions").Logger(),
			})
		}},
	}
}

// spawnBehaviours starts every behaviour in order and returns their PIDs.
func (n *Node) spawnBehaviours(list []Behaviour) []*actor.PID {
	env := Env{Node: n.cfg.ID, Engine: n.engine, Store: n.store, Ring: n.ringView, Transport: n.transport,
		Peers: &n.peers, Dots: n.dots, Now: n.now, Log: n.base}
	var pids []*actor.PID
	for _, b := range list {
		pids = append(pids, n.supervisor.Spawn(n.engine, b.New(env), b.Kind, actor.WithID(b.ID)))
	}
	return pids
}

// stopInOrder poisons pids one after the other, each given until the
// deadline, so that a behaviour stops after those registered after it.
func (n *Node) stopInOrder(pids []*actor.PID, deadline time.Time) {
	for i := len(pids) - 1; i >= 0; i-- {
		ctx, cancel := contextUntil(deadline)
		<-n.engine.PoisonCtx(ctx, pids[i]).Done()
		cancel()
	}
}
