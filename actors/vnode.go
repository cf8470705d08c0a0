package actors

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/cespare/xxhash/v2"
	"github.com/dynamokv/dynamo/cache"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/merkle"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/store"
	"github.com/dynamokv/dynamo/version"
	"github.com/rs/zerolog"
)

// VnodeKind is the kind vnodes are spawned as; with VnodeID it makes the
// PID that any node can compute from an address and a partition.
const VnodeKind = "vnode"

// VnodeID returns the actor ID (actor.WithID) of partition p's vnode.
func VnodeID(p uint32) string { return strconv.FormatUint(uint64(p), 10) }

// VnodePID returns the PID of partition p's vnode on the node at addr.
func VnodePID(addr string, p uint32) *actor.PID {
	return actor.NewPID(addr, VnodeKind+"/"+VnodeID(p))
}

// VnodeConfig configures one vnode: one partition replica on one node.
type VnodeConfig struct {
	Node string // this node's member ID, which answers name
	// Dots names the versions this vnode coordinates. One source serves
	// every vnode of a node process, and it must be new at every start
	// (see version.DotSource and NewIncarnation): a reused dot looks to
	// the other replicas like a write they already hold. Nil means a
	// source of its own named Node.NewIncarnation().
	Dots      *version.DotSource
	Partition uint32
	Store     store.Store
	Log       zerolog.Logger
	// Now returns unix nanoseconds; injectable so tests control clock
	// stamps. Nil means the wall clock.
	Now func() int64
	// MaxClockEntries bounds a new version's clock; 0 means
	// version.MaxClockEntries.
	MaxClockEntries int
	// CacheBytes bounds the vnode's cache of decoded sibling sets (an
	// estimate of the memory they hold); 0 means DefaultVnodeCacheBytes
	// and a negative value turns the cache off. The cache is write-through
	// and needs every write to the partition's keys to go through the
	// vnode, which is already the rule.
	CacheBytes int
	// MaxSetBytes bounds the encoded sibling set of a key: a coordinated
	// write that would make it larger is refused (StatusTooLarge), since
	// every replica must be able to send the set in one message. Writes
	// from other coordinators are stored whatever their size; they were
	// checked there. 0 means no bound.
	MaxSetBytes int
	// Counters, shared by a node's vnodes, count what operators must
	// hear about; nil means counters of the vnode's own.
	Counters *VnodeCounters
	// TreeShape is the form of the partition's Merkle tree (zero means
	// merkle.DefaultShape); PartitionBits is log2(Q), the key-hash bits
	// that name the partition, above those that name its segments.
	TreeShape     merkle.Shape
	PartitionBits int
	// Ring, when set, is the node's ring: a replica request carrying
	// another membership version is reported to Membership (PeerVersion),
	// so that the two nodes' membership actors gossip at once.
	Ring       *cluster.View
	Membership *actor.PID
	// Partial says the partition is new to this node (gained by a
	// membership change): the vnode answers reads as partial until it is
	// filled, and has Syncer fill it (see messages.PartitionFilled). The
	// state is kept in the store, so a restart does not forget it.
	Partial bool
	Syncer  *actor.PID
}

// VnodeCounters are counters that a node's vnodes share, for its status
// and metrics.
type VnodeCounters struct {
	// Quarantined counts stored sibling sets found corrupt and moved aside.
	Quarantined atomic.Uint64
	// Filling counts the vnodes new to their partition and not filled yet.
	Filling atomic.Int64
	// RefusedTooLarge counts replica writes refused because the merged
	// set would outgrow one message.
	RefusedTooLarge atomic.Uint64
	// Reaped counts keys deleted from the store once their tombstones
	// were collected.
	Reaped atomic.Uint64
	// TreeBuilds counts Merkle trees built from stored keys (at start, or
	// after a write whose outcome was unknown), TreeBuildNanos their time.
	// A vnode started for a partition it gained builds none: its tree
	// grows with the keys handed to it.
	TreeBuilds, TreeBuildNanos atomic.Uint64
}

// DefaultVnodeCacheBytes is VnodeConfig.CacheBytes when it is 0. Every key
// is read on each of its replicas for every operation, so a cached key
// saves a store read and a decode on each of them.
const DefaultVnodeCacheBytes = 256 << 10

// Vnode is the only writer of its partition on its node: every change to
// the partition's keys goes through its inbox, so a read-modify-write of a
// key's siblings needs no lock and cannot interleave with another.
type Vnode struct {
	cfg VnodeConfig
	log zerolog.Logger
	// cache holds what the store holds for recently used keys, nil for
	// absent ones. Being the only writer, the vnode keeps it exact by
	// updating it after each successful write. Cached sets are shared
	// with replies and must never be modified in place.
	cache *cache.LRU[cachedSet]
	// buf holds sets encoded for the store; one buffer serves every
	// write because the store's batch copies the value.
	buf []byte
	// batch is the store batch every write of the vnode reuses.
	batch *store.Batch
	// lostHistory is set once a corrupt set was quarantined: the vnode may
	// no longer hold every live version its node issued, which put reply
	// contexts rely on (version.ReplyContext), so they stay conservative.
	lostHistory bool
	// tree is the partition's Merkle tree; treeStale says a write's
	// outcome in the store is unknown, so it must be rebuilt.
	tree      *merkle.Tree
	treeStale bool
	// retired is set by the partition manager before the last round of a
	// handoff: the vnode then refuses writes, so that what the round
	// finds on the new owners is everything it ever acknowledged.
	retired bool
	// partial: new to the partition and not yet filled; fillRepeat asks
	// the syncer to fill it until it is.
	partial    bool
	fillRepeat *actor.SendRepeater
	fillAsked  time.Time // a fill in flight since then; zero for none
}

// NewVnode returns the producer of a vnode.
func NewVnode(cfg VnodeConfig) actor.Producer {
	if cfg.Now == nil {
		cfg.Now = func() int64 { return time.Now().UnixNano() }
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = DefaultVnodeCacheBytes
	}
	if cfg.Dots == nil {
		cfg.Dots = version.NewDotSource(cfg.Node + "." + NewIncarnation())
	}
	if cfg.Counters == nil {
		cfg.Counters = &VnodeCounters{}
	}
	if cfg.TreeShape == (merkle.Shape{}) {
		cfg.TreeShape = merkle.DefaultShape
	}
	log := cfg.Log.With().Str("node", cfg.Node).Uint32("partition", cfg.Partition).Logger()
	return func() actor.Receiver {
		return &Vnode{cfg: cfg, log: log, cache: cache.NewLRU[cachedSet](cfg.CacheBytes)}
	}
}

// errWrongPartition answers a message meant for another partition: a
// coordinator whose ring disagrees with ours, which must hear about it
// rather than wait for its timeout.
var errWrongPartition = errors.New("wrong partition")

// Receive implements actor.Receiver.
func (v *Vnode) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case *messages.CoordinatePut:
		c.Respond(v.coordinatePut(m))
	case *messages.ReplicaPut:
		v.noteVersion(c, m.Ring)
		ack := v.replicaPut(c, m)
		// Read repair sends ReqID 0 and waits for nothing.
		if m.ReqID != 0 {
			c.Respond(ack)
		}
	case *messages.ReplicaGet:
		v.noteVersion(c, m.Ring)
		c.Respond(v.replicaGet(c, m))
	case *VnodeRetire:
		v.retire(m)
	case *messages.PartitionFilled:
		v.filled("handed over by " + m.Node)
	case *RepairResult:
		v.fillResult(m)
	case vnodeFill:
		v.askFill(c)
	case *messages.ReplicaReap:
		v.replicaReap(c, m)
	case *messages.TreeRequest:
		c.Respond(v.treeRequest(m))
	case *messages.SegmentRequest:
		c.Respond(v.segmentRequest(m))
	case *messages.SyncGet:
		c.Respond(v.syncGet(c, m))
	case *messages.SyncPut:
		c.Respond(v.syncPut(c, m))
	case *messages.TombstoneScan:
		c.Respond(v.tombstoneScan(m))
	case actor.Started:
		if err := v.buildTree(); err != nil {
			v.log.Error().Err(err).Msg("vnode: tree not built; anti-entropy will retry")
		}
		v.startPartial(c)
	case actor.Stopped:
		if v.fillRepeat != nil {
			v.fillRepeat.Stop()
		}
		if v.partial {
			v.cfg.Counters.Filling.Add(-1)
		}
	case actor.Initialized:
	default:
		v.log.Warn().Str("message", messages.NameOf(m)).Str("peer", peer(c)).Msg("vnode: unexpected message dropped")
	}
}

func (v *Vnode) coordinatePut(m *messages.CoordinatePut) *messages.CoordinatePutDone {
	done := &messages.CoordinatePutDone{ReqID: m.ReqID, Node: v.cfg.Node, Partition: m.Partition, Key: m.Key}
	if err := v.checkPartition(m.Partition); err != nil {
		done.Err = err.Error()
		return done
	}
	if v.retired {
		done.Err = v.retiredError()
		return done
	}
	held, err := v.loadCached(m.Key)
	if err != nil {
		done.Err = v.failed("coordinate put", m.Key, "", err)
		return done
	}
	local := held.set
	ver := v.cfg.Dots.NewVersion(local, m.Context, m.Also, m.Value, m.Delete, v.cfg.Now(), v.cfg.MaxClockEntries)
	next := local.Add(ver)
	raw := v.encode(next)
	if v.cfg.MaxSetBytes > 0 && len(raw) > v.cfg.MaxSetBytes {
		v.trimBuffer()
		done.Status = messages.StatusTooLarge
		done.Err = fmt.Sprintf("the key's %d versions would take %d bytes, over the limit of %d: "+
			"read the key and write with its context to resolve its siblings", len(next), len(raw), v.cfg.MaxSetBytes)
		v.log.Warn().Uint64("key_hash", keyHash(m.Key)).Int("versions", len(next)).Int("bytes", len(raw)).
			Msg("vnode: write refused, sibling set too large")
		return done
	}
	if err := v.write(m.Key, next, raw, held.hash); err != nil {
		done.Err = v.failed("coordinate put", m.Key, "", err)
		done.MaybeStored = true
		return done
	}
	done.Version, done.Set = ver, next
	if v.lostHistory {
		done.Reply, done.ReplyAlso = version.OwnReplyContext(ver)
	} else {
		done.Reply, done.ReplyAlso = version.ReplyContext(ver, local)
	}
	return done
}

func (v *Vnode) replicaPut(c *actor.Context, m *messages.ReplicaPut) *messages.ReplicaPutAck {
	ack := &messages.ReplicaPutAck{ReqID: m.ReqID, Node: v.cfg.Node}
	if err := v.checkPartition(m.Partition); err != nil {
		ack.Err = err.Error()
		return ack
	}
	if v.retired {
		ack.Err = v.retiredError()
		return ack
	}
	if err := v.merge(m.Key, m.Versions, peer(c)); err != nil {
		ack.Err = err.Error()
	}
	return ack
}

// merge adds versions to what the vnode holds for key (keeping siblings,
// dropping what they obsolete) and stores the result: replica writes,
// read repair, handed-over hints and anti-entropy all come through here.
func (v *Vnode) merge(key []byte, versions version.Siblings, from string) error {
	held, err := v.loadCached(key)
	if err != nil {
		return errors.New(v.failed("replica put", key, from, err))
	}
	local := held.set
	// One reconciliation of the union, not an Add per incoming version:
	// the same set (Add and Reconcile are order-independent), without
	// pruning the set again for each of a hot key's siblings.
	next := version.Reconcile(local, versions)
	// Repeats are common (retries, duplicated frames, read repair racing
	// the write it repairs); skipping the write keeps them cheap.
	if unchanged(next, local) {
		return nil
	}
	raw := v.encode(next)
	// Every replica must be able to send what it holds in one message, or
	// reads of the key would time out for good: a merge that outgrows it
	// is refused, and the versions stay where they are until a write with
	// a read's context resolves the siblings.
	if v.cfg.MaxSetBytes > 0 && len(raw) > v.cfg.MaxSetBytes {
		v.trimBuffer()
		v.cfg.Counters.RefusedTooLarge.Add(1)
		v.log.Warn().Uint64("key_hash", keyHash(key)).Int("versions", len(next)).Int("bytes", len(raw)).
			Str("peer", from).Msg("vnode: replica write refused, sibling set too large")
		return fmt.Errorf("the key's %d versions would take %d bytes on %s, over the limit of %d: "+
			"read the key and write with its context to resolve its siblings", len(next), len(raw), v.cfg.Node, v.cfg.MaxSetBytes)
	}
	if err := v.write(key, next, raw, held.hash); err != nil {
		return errors.New(v.failed("replica put", key, from, err))
	}
	return nil
}

func (v *Vnode) replicaGet(c *actor.Context, m *messages.ReplicaGet) *messages.ReplicaGetReply {
	reply := &messages.ReplicaGetReply{ReqID: m.ReqID, Node: v.cfg.Node}
	if err := v.checkPartition(m.Partition); err != nil {
		reply.Err = err.Error()
		return reply
	}
	held, err := v.loadCached(m.Key)
	if err != nil {
		reply.Err = v.failed("replica get", m.Key, peer(c), err)
		return reply
	}
	reply.Hash, reply.Partial = held.hash, v.partial
	if m.Digest {
		reply.Digest = true
		return reply
	}
	reply.Versions = held.set
	v.checkReplySize(m.Key, held.set)
	return reply
}

// replicaReap deletes a key whose only versions are the tombstones a
// coordinator found on every replica; anything else it holds now (a write
// that arrived since) keeps the key.
func (v *Vnode) replicaReap(c *actor.Context, m *messages.ReplicaReap) {
	if v.checkPartition(m.Partition) != nil {
		return
	}
	held, err := v.loadCached(m.Key)
	if err != nil || len(held.set) == 0 || len(held.set) != len(m.Dots) {
		return
	}
	for _, ver := range held.set {
		if !ver.Deleted || !slices.Contains(m.Dots, ver.Dot) {
			return
		}
	}
	if err := v.remove(m.Key, held.hash); err != nil {
		v.failed("reap", m.Key, peer(c), err)
		return
	}
	v.cfg.Counters.Reaped.Add(1)
}

// checkReplySize logs, as an error, a set over MaxSetBytes about to be
// sent: the transport may refuse the reply as oversized, and the reader
// would only see a timeout. Such sets come from replica writes, which are
// stored whatever their size, when replicas diverged. Only sets whose
// values alone come near the bound are encoded to measure them.
func (v *Vnode) checkReplySize(key []byte, s version.Siblings) {
	if v.cfg.MaxSetBytes <= 0 {
		return
	}
	n := 0
	for _, ver := range s {
		n += len(ver.Value)
	}
	if n <= v.cfg.MaxSetBytes/2 {
		return
	}
	size := len(v.encode(s))
	v.trimBuffer()
	if size <= v.cfg.MaxSetBytes {
		return
	}
	v.log.Error().Uint64("key_hash", keyHash(key)).Int("versions", len(s)).Int("bytes", size).
		Int("limit", v.cfg.MaxSetBytes).
		Msg("vnode: sibling set over the size limit, the read reply may be refused by the transport; " +
			"a write with the context of a read resolves it")
}

// unchanged reports whether merging left the set as it was. A new write
// usually brings a dot the local set lacks, which settles it without the
// copies Equal makes.
func unchanged(next, local version.Siblings) bool {
	if len(next) != len(local) {
		return false
	}
	for _, n := range next {
		if !slices.ContainsFunc(local, func(l version.Version) bool { return l.Dot == n.Dot }) {
			return false
		}
	}
	return next.Equal(local)
}

func (v *Vnode) checkPartition(p uint32) error {
	if p != v.cfg.Partition {
		return fmt.Errorf("vnode %s/%d: message for partition %d: %w", v.cfg.Node, v.cfg.Partition, p, errWrongPartition)
	}
	return nil
}

// failed logs a storage failure and returns the text for the reply. A
// corrupt value is an error worth an operator's attention; the others
// (a closed store at shutdown, an empty key) are warnings.
func (v *Vnode) failed(op string, key []byte, from string, err error) string {
	ev := v.log.Warn()
	if errors.Is(err, version.ErrCorruptSiblings) {
		ev = v.log.Error()
	}
	ev.Err(err).Str("op", op).Uint64("key_hash", keyHash(key)).Str("peer", from).Msg("vnode: request failed")
	return fmt.Sprintf("%s: %v", op, err)
}

// keyHash identifies a key in logs without writing user data into them.
func keyHash(key []byte) uint64 { return xxhash.Sum64(key) }

// peer names a message's sender for logs: its address, or "local".
func peer(c *actor.Context) string {
	s := c.Sender()
	switch {
	case s == nil:
		return ""
	case s.Address == c.Engine().Address():
		return "local"
	}
	return s.Address
}
