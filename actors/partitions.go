package actors

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/handoff"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/store"
	"github.com/rs/zerolog"
)

// PartitionsKind and PartitionsID name a node's partition manager.
const (
	PartitionsKind = "partitions"
	PartitionsID   = "local"
)

// PartitionsConfig configures a node's partition manager.
type PartitionsConfig struct {
	Node  string
	Ring  *cluster.View
	Store store.Store
	// Spawn starts the vnode of partition p and returns its PID; the node
	// gives it the vnode configuration, partial for a partition gained
	// (VnodeConfig.Partial). Called inside Receive.
	Spawn func(p uint32, partial bool) *actor.PID
	// Initial are the vnodes the node started before the manager.
	Initial map[uint32]*actor.PID
	// Syncer hands lost partitions over (HandoffRequest) and fills gained
	// ones from their other replicas (RepairRequest).
	Syncer *actor.PID
	// Retry is how often unfinished handoffs are tried again; default 2s.
	Retry time.Duration
	View  *PartitionView
	Log   zerolog.Logger
}

// HandoffRequest asks the syncer, on the local engine, to compare
// Partition, which this node no longer owns, with every home node of it,
// sending each what it lacks, and to answer *HandoffDone.
type HandoffRequest struct{ Partition uint32 }

// HandoffDone answers HandoffRequest. Complete says every home node was
// compared and already held everything this node holds: nothing had to be
// sent.
type HandoffDone struct {
	Partition uint32
	Complete  bool
	Keys      int // keys sent to the home nodes in this round
	Err       string
}

// Handoff is one partition on its way out, as /status shows it; the
// rounds follow package handoff.
type Handoff struct {
	Partition uint32
	Since     time.Time
	Total     int // keys the partition held here when the handoff began
	handoff.State
}

// PartitionView is what the manager publishes: the partitions whose
// vnodes run here (owned, and on their way out), and the handoffs.
type PartitionView struct {
	held     atomic.Pointer[[]uint32]
	handoffs atomic.Pointer[[]Handoff]
	Dropped  atomic.Uint64 // partitions handed over and dropped
}

// Held returns the partitions whose vnodes run on this node, sorted.
func (v *PartitionView) Held() []uint32 {
	if p := v.held.Load(); p != nil {
		return *p
	}
	return nil
}

// Handoffs returns the partitions being handed over.
func (v *PartitionView) Handoffs() []Handoff {
	if p := v.handoffs.Load(); p != nil {
		return *p
	}
	return nil
}

type partitionsTick struct{}

// Partitions runs the vnodes of the partitions this node holds: when the
// ring changes it starts the vnodes of partitions it gained (and has the
// syncer fill them from their other replicas), and hands over those it
// lost, dropping each only once every new home node holds what it holds.
type Partitions struct {
	cfg      PartitionsConfig
	vnodes   map[uint32]*actor.PID
	handoffs map[uint32]*Handoff
	asked    map[uint32]bool // a HandoffRequest in flight
	dropping map[uint32]bool // handed over, its vnode stopping and its data going
	repeat   *actor.SendRepeater
}

// partitionDropped tells the manager a dropped partition's data is gone.
type partitionDropped struct{ partition uint32 }

// NewPartitions returns the producer of a node's partition manager.
func NewPartitions(cfg PartitionsConfig) actor.Producer {
	if cfg.Retry <= 0 {
		cfg.Retry = 2 * time.Second
	}
	if cfg.View == nil {
		cfg.View = &PartitionView{}
	}
	return func() actor.Receiver {
		p := &Partitions{cfg: cfg, vnodes: map[uint32]*actor.PID{}, handoffs: map[uint32]*Handoff{}, asked: map[uint32]bool{},
			dropping: map[uint32]bool{}}
		for part, pid := range cfg.Initial {
			p.vnodes[part] = pid
		}
		p.publish()
		return p
	}
}

// Receive implements actor.Receiver.
func (p *Partitions) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Started:
		r := c.SendRepeat(c.PID(), partitionsTick{}, p.cfg.Retry)
		p.repeat = &r
		p.resumeHandoffs()
		p.reconcile(c)
	case actor.Stopped:
		if p.repeat != nil {
			p.repeat.Stop()
		}
	case *RingChanged:
		p.reconcile(c)
	case partitionsTick:
		p.reconcile(c)
	case *HandoffDone:
		p.handoffDone(c, m)
	case partitionDropped:
		delete(p.dropping, m.partition)
		p.reconcile(c) // in case the node owns it again meanwhile
	}
}

// reconcile starts the vnodes of owned partitions that have none and
// hands over those not owned any more.
func (p *Partitions) reconcile(c *actor.Context) {
	ring := p.cfg.Ring.Load()
	if ring == nil {
		return
	}
	var owned, held []uint32
	for _, part := range ring.PartitionsOf(p.cfg.Node) {
		owned = append(owned, uint32(part))
	}
	for part := range p.vnodes {
		held = append(held, part)
	}
	start, handOver := handoff.Plan(owned, held, func(part uint32) bool { return p.dropping[part] })
	for _, part := range start {
		// New here: it fills itself from the other home nodes (and the
		// old owners push it too).
		p.vnodes[part] = p.cfg.Spawn(part, true)
	}
	for part, h := range p.handoffs {
		if slices.Contains(handOver, part) {
			continue
		}
		p.cfg.Log.Info().Uint32("partition", part).Int("rounds", h.Rounds).Msg("partitions: owned again; handoff dropped")
		if h.Retired {
			c.Send(p.vnodes[part], &VnodeRetire{Retired: false})
		}
		delete(p.handoffs, part)
	}
	for _, part := range handOver {
		if _, ok := p.handoffs[part]; !ok {
			h := &Handoff{Partition: part, Since: time.Now()}
			if keys, _, err := p.cfg.Store.PartitionStats(part); err == nil {
				h.Total = keys
			}
			p.handoffs[part] = h
			p.cfg.Log.Debug().Uint32("partition", part).Int("keys", h.Total).Msg("partitions: not owned any more; handing it over")
		}
		p.askHandoff(c, part)
	}
	p.publish()
}

// resumeHandoffs starts the vnodes of partitions the store holds keys of
// but the node does not own: a handoff a crash or a stop interrupted,
// which reconcile then takes up again.
func (p *Partitions) resumeHandoffs() {
	ring := p.cfg.Ring.Load()
	if ring == nil {
		return
	}
	for part := uint32(0); part < uint32(ring.Partitions()); part++ {
		if _, ok := p.vnodes[part]; ok {
			continue
		}
		found := false
		_, err := p.cfg.Store.Scan(part, nil, 1, func(_, _ []byte) error { found = true; return nil })
		if err != nil {
			p.cfg.Log.Error().Err(err).Uint32("partition", part).Msg("partitions: cannot read the store")
			continue
		}
		if found {
			p.cfg.Log.Info().Uint32("partition", part).Msg("partitions: keys of a partition not owned here; handing them over")
			p.vnodes[part] = p.cfg.Spawn(part, false)
		}
	}
}

func (p *Partitions) askHandoff(c *actor.Context, part uint32) {
	if !p.asked[part] && p.cfg.Syncer != nil {
		p.asked[part] = true
		c.Send(p.cfg.Syncer, &HandoffRequest{Partition: part})
	}
}

func (p *Partitions) handoffDone(c *actor.Context, m *HandoffDone) {
	p.asked[m.Partition] = false
	h, ok := p.handoffs[m.Partition]
	if !ok {
		return
	}
	switch h.Round(m.Complete, m.Keys, m.Err) {
	case handoff.Wait: // the next tick asks again
		p.publish()
		return
	case handoff.Again:
		p.askHandoff(c, m.Partition)
		p.publish()
		return
	case handoff.Retire:
		c.Send(p.vnodes[m.Partition], &VnodeRetire{Retired: true})
		p.askHandoff(c, m.Partition)
		p.publish()
		return
	}
	// Every home node holds all this node held: their vnodes' reads count.
	ring := p.cfg.Ring.Load()
	for _, id := range ring.PreferenceList(int(m.Partition)) {
		if mem, ok := ring.Member(id); ok && id != p.cfg.Node {
			c.Send(VnodePID(mem.Addr, m.Partition), &messages.PartitionFilled{Partition: m.Partition, Node: p.cfg.Node})
		}
	}
	pid := p.vnodes[m.Partition]
	delete(p.vnodes, m.Partition)
	delete(p.handoffs, m.Partition)
	// The vnode handles what is in its inbox before it stops; the data
	// goes only then.
	part := m.Partition
	p.dropping[part] = true
	engine, self, st, log, view := c.Engine(), c.PID(), p.cfg.Store, p.cfg.Log, p.cfg.View
	go func() {
		<-engine.Poison(pid).Done()
		defer engine.Send(self, partitionDropped{partition: part})
		if err := st.DropPartition(part); err != nil {
			// Left in the store: the next start hands it over again.
			log.Error().Err(err).Uint32("partition", part).Msg("partitions: drop after handoff failed")
			return
		}
		b := store.NewBatch()
		b.Delete(FillingPartition, []byte(VnodeID(part))) // had it not been filled yet
		_ = st.Apply(b)
		view.Dropped.Add(1)
		log.Info().Uint32("partition", part).Int("keys", h.Keys).Int("rounds", h.Rounds).
			Msg("partitions: handed over and dropped")
	}()
	p.publish()
}

func (p *Partitions) publish() {
	held := make([]uint32, 0, len(p.vnodes))
	for part := range p.vnodes {
		held = append(held, part)
	}
	slices.Sort(held)
	p.cfg.View.held.Store(&held)
	hs := make([]Handoff, 0, len(p.handoffs))
	for _, h := range p.handoffs {
		hs = append(hs, *h)
	}
	slices.SortFunc(hs, func(a, b Handoff) int { return int(a.Partition) - int(b.Partition) })
	p.cfg.View.handoffs.Store(&hs)
}
