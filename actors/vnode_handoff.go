package actors

import (
	"fmt"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/store"
)

// VnodeRetire is sent by the partition manager, on the local engine, to
// the vnode of a partition its node is handing over: with Retired set the
// vnode refuses writes from then on (it still serves reads and the
// handoff's exchanges), so that one more exchange finding every new owner
// holding all it holds proves nothing it acknowledged is left behind.
// With Retired clear (the node owns the partition again) it takes writes
// again. It is not answered: the exchanges that follow reach the vnode
// after it, from the same engine.
type VnodeRetire struct{ Retired bool }

// PeerVersion is sent, on the local engine, to the membership actor by a
// vnode or the partition manager that saw a request carrying another
// membership version than the node's: the membership actor then gossips
// with the node at Addr at once, and whichever of the two is behind
// catches up.
type PeerVersion struct {
	Addr    string
	Version uint64
}

func (v *Vnode) retire(m *VnodeRetire) {
	if v.retired != m.Retired {
		v.log.Debug().Bool("retired", m.Retired).Msg("vnode: handoff: writes refused from now on")
	}
	v.retired = m.Retired
}

func (v *Vnode) retiredError() string {
	return fmt.Sprintf("partition %d is being handed over by %s: its writes go to its new owners", v.cfg.Partition, v.cfg.Node)
}

// noteVersion reports a request from a node on another membership version.
func (v *Vnode) noteVersion(c *actor.Context, ring uint64) {
	if ring == 0 || v.cfg.Ring == nil || v.cfg.Membership == nil || c.Sender() == nil {
		return
	}
	if ring != v.cfg.Ring.Version() {
		c.Send(v.cfg.Membership, &PeerVersion{Addr: c.Sender().Address, Version: ring})
	}
}

// FillingPartition is where a node keeps, by partition (key VnodeID), the
// partitions it gained and has not filled yet: a partition no ring has.
const FillingPartition uint32 = 0xFFFFFFFB

// fillEvery is how often a partial vnode asks its syncer to fill it.
const fillEvery = 2 * time.Second

type vnodeFill struct{}

// startPartial takes up the partial state: given by the config (the
// partition was just gained; it is recorded) or recorded by an earlier
// run that ended before the partition was filled.
func (v *Vnode) startPartial(c *actor.Context) {
	key := []byte(VnodeID(v.cfg.Partition))
	if v.cfg.Partial {
		b := store.NewBatch()
		b.Put(FillingPartition, key, []byte{1})
		if err := v.cfg.Store.Apply(b); err != nil {
			v.log.Error().Err(err).Msg("vnode: the partial state is not recorded")
		}
		v.partial = true
	} else if _, err := v.cfg.Store.Get(FillingPartition, key); err == nil {
		v.partial = true
	}
	if !v.partial {
		return
	}
	v.cfg.Counters.Filling.Add(1)
	v.log.Debug().Msg("vnode: new to this partition; reads count once it is filled")
	if v.cfg.Syncer == nil {
		return
	}
	// The first ask waits a tick: at a node's start its syncer starts
	// after its vnodes.
	r := c.SendRepeat(c.PID(), vnodeFill{}, fillEvery)
	v.fillRepeat = &r
}

// askFill has the syncer pull the partition from every other home node.
func (v *Vnode) askFill(c *actor.Context) {
	// One fill at a time; one lost (the syncer restarted) is asked again.
	if v.partial && v.cfg.Syncer != nil && time.Since(v.fillAsked) > 30*time.Second {
		v.fillAsked = time.Now()
		c.Send(v.cfg.Syncer, &RepairRequest{Partition: int(v.cfg.Partition), Fill: true})
	}
}

// fillResult ends the partial state once a fill heard from every other
// home node, none of them partial itself: the vnode then holds all any of
// them held.
func (v *Vnode) fillResult(m *RepairResult) {
	v.fillAsked = time.Time{}
	if !v.partial || len(m.Exchanges) == 0 {
		return
	}
	for _, e := range m.Exchanges {
		if e.Partition != v.cfg.Partition || e.Err != "" || e.RemotePartial {
			return
		}
	}
	v.filled("pulled from every other home node")
}

func (v *Vnode) filled(how string) {
	if !v.partial {
		return
	}
	v.partial = false
	v.cfg.Counters.Filling.Add(-1)
	if v.fillRepeat != nil {
		v.fillRepeat.Stop()
		v.fillRepeat = nil
	}
	b := store.NewBatch()
	b.Delete(FillingPartition, []byte(VnodeID(v.cfg.Partition)))
	if err := v.cfg.Store.Apply(b); err != nil {
		v.log.Error().Err(err).Msg("vnode: the filled state is not recorded; it is filled again after a restart")
	}
	v.log.Debug().Str("how", how).Msg("vnode: partition filled; its reads count")
}
