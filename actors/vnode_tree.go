package actors

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/merkle"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/version"
)

// The vnode's Merkle tree: built from the store when the vnode starts,
// kept current by every write the vnode applies (write and remove XOR the
// change in), and compared by a syncer through the messages below. A
// write whose outcome in the store is unknown marks the tree stale; it is
// rebuilt before it is next compared.

// errNoTree answers tree requests of a vnode whose tree cannot be built.
var errNoTree = errors.New("no tree")

// buildTree hashes every key of the partition into a fresh tree.
func (v *Vnode) buildTree() error {
	if v.tree == nil {
		t, err := merkle.New(v.cfg.TreeShape, v.cfg.PartitionBits)
		if err != nil {
			return err
		}
		v.tree = t
	}
	start := time.Now()
	v.tree.Reset()
	keys := 0
	_, err := v.cfg.Store.Scan(v.cfg.Partition, nil, 0, func(k, raw []byte) error {
		v.tree.Update(v.tree.Segment(k), merkle.ItemHash(k, raw))
		keys++
		return nil
	})
	if err != nil {
		v.treeStale = true
		return fmt.Errorf("vnode %s/%d: build the tree: %w", v.cfg.Node, v.cfg.Partition, err)
	}
	v.treeStale = false
	took := time.Since(start)
	if keys == 0 {
		return nil // nothing was hashed: a new partition, not a rebuild
	}
	v.cfg.Counters.TreeBuilds.Add(1)
	v.cfg.Counters.TreeBuildNanos.Add(uint64(took))
	// Worth an operator's notice only when it takes time.
	ev := v.log.Debug()
	if took >= 100*time.Millisecond {
		ev = v.log.Info()
	}
	ev.Int("keys", keys).Dur("took", took).Msg("vnode: Merkle tree built")
	return nil
}

func (v *Vnode) updateTree(key []byte, delta uint64) {
	if v.tree != nil && delta != 0 {
		v.tree.Update(v.tree.Segment(key), delta)
	}
}

// readyTree returns the tree, rebuilt first when stale.
func (v *Vnode) readyTree() (*merkle.Tree, error) {
	if v.tree == nil || v.treeStale {
		if err := v.buildTree(); err != nil {
			return nil, err
		}
	}
	return v.tree, nil
}

func (v *Vnode) treeRequest(m *messages.TreeRequest) *messages.TreeReply {
	reply := &messages.TreeReply{ReqID: m.ReqID, Node: v.cfg.Node, Partition: m.Partition}
	if err := v.checkPartition(m.Partition); err != nil {
		reply.Err = err.Error()
		return reply
	}
	t, err := v.readyTree()
	if err != nil {
		reply.Err = fmt.Sprintf("%v: %v", errNoTree, err)
		return reply
	}
	reply.Fanout, reply.Depth = t.Shape().Fanout, t.Shape().Depth
	reply.Partial = v.partial
	if m.Level == 0 && len(m.Nodes) == 0 {
		reply.Hashes = []uint32{merkle.Fold(t.Root())}
		return reply
	}
	nodes := make([]int, len(m.Nodes))
	for i, n := range m.Nodes {
		nodes[i] = int(n)
	}
	reply.Hashes = merkle.FoldAll(t.Children(m.Level, nodes))
	return reply
}

// maxSegmentScan bounds how many stored entries one SegmentRequest scans,
// so a syncer's scan never holds the vnode from its clients for long.
const maxSegmentScan = 2000

func (v *Vnode) segmentRequest(m *messages.SegmentRequest) *messages.SegmentReply {
	reply := &messages.SegmentReply{ReqID: m.ReqID, Node: v.cfg.Node, Partition: m.Partition}
	if err := v.checkPartition(m.Partition); err != nil {
		reply.Err = err.Error()
		return reply
	}
	t, err := v.readyTree()
	if err != nil {
		reply.Err = fmt.Sprintf("%v: %v", errNoTree, err)
		return reply
	}
	want := make(map[int]bool, len(m.Segments))
	for _, s := range m.Segments {
		want[int(s)] = true
	}
	limit := m.Limit
	if limit <= 0 || limit > maxSegmentScan {
		limit = maxSegmentScan
	}
	after := m.After
	if len(after) == 0 {
		after = nil
	}
	next, err := v.cfg.Store.Scan(v.cfg.Partition, after, limit, func(k, raw []byte) error {
		if want[t.Segment(k)] {
			reply.Keys = append(reply.Keys, slices.Clone(k))
			reply.Hashes = append(reply.Hashes, merkle.ItemHash(k, raw))
		}
		return nil
	})
	if err != nil {
		reply.Err = fmt.Sprintf("scan: %v", err)
		return reply
	}
	reply.Next = next
	return reply
}

func (v *Vnode) syncGet(c *actor.Context, m *messages.SyncGet) *messages.SyncSets {
	reply := &messages.SyncSets{ReqID: m.ReqID, Node: v.cfg.Node, Partition: m.Partition}
	if err := v.checkPartition(m.Partition); err != nil {
		reply.Err = err.Error()
		return reply
	}
	for _, k := range m.Keys {
		s, err := v.load(k)
		if err != nil {
			reply.Err = v.failed("sync get", k, peer(c), err)
			return reply
		}
		reply.Sets = append(reply.Sets, s)
	}
	return reply
}

func (v *Vnode) syncPut(c *actor.Context, m *messages.SyncPut) *messages.SyncPutAck {
	ack := &messages.SyncPutAck{ReqID: m.ReqID, Node: v.cfg.Node}
	if err := v.checkPartition(m.Partition); err != nil {
		ack.Err = err.Error()
		return ack
	}
	if len(m.Keys) != len(m.Sets) {
		ack.Err = fmt.Sprintf("%d keys with %d sets", len(m.Keys), len(m.Sets))
		return ack
	}
	for i, k := range m.Keys {
		if err := v.merge(k, m.Sets[i], peer(c)); err != nil && ack.Err == "" {
			ack.Err = err.Error()
		}
	}
	return ack
}

// tombstoneScan lists keys holding old tombstones only.
func (v *Vnode) tombstoneScan(m *messages.TombstoneScan) *messages.TombstoneKeys {
	reply := &messages.TombstoneKeys{ReqID: m.ReqID}
	if v.checkPartition(m.Partition) != nil {
		return reply
	}
	after := m.After
	if len(after) == 0 {
		after = nil
	}
	limit := min(max(m.Limit, 1), maxSegmentScan)
	next, _ := v.cfg.Store.Scan(v.cfg.Partition, after, limit, func(k, raw []byte) error {
		s, err := version.UnmarshalSiblings(raw)
		if err != nil || len(s) == 0 {
			return nil
		}
		for _, ver := range s {
			if !ver.Deleted || ver.Dot.Stamp >= m.Before {
				return nil
			}
		}
		reply.Keys = append(reply.Keys, slices.Clone(k))
		return nil
	})
	reply.Next = next
	return reply
}
