package actors

import (
	"fmt"

	"github.com/anthdm/hollywood/actor"
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
		v.log.Info().Bool("retired", m.Retired).Msg("vnode: handoff: writes refused from now on")
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
