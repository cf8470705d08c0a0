package actors

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/cespare/xxhash/v2"
	"github.com/dynamokv/dynamo/cache"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/store"
	"github.com/dynamokv/dynamo/version"
	"github.com/rs/zerolog"
	"github.com/vmihailenco/msgpack/v5"
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
	Node      string // this node's member ID: the dot of every version it coordinates
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
	cache *cache.LRU[version.Siblings]
	// buf and enc encode sets for the store; one buffer serves every
	// write because the store's batch copies the value.
	buf bytes.Buffer
	enc *msgpack.Encoder
}

// maxKeptBuffer is the largest encoding buffer a vnode keeps between
// writes, so that one large value does not pin memory in every vnode.
const maxKeptBuffer = 64 << 10

// NewVnode returns the producer of a vnode.
func NewVnode(cfg VnodeConfig) actor.Producer {
	if cfg.Now == nil {
		cfg.Now = func() int64 { return time.Now().UnixNano() }
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = DefaultVnodeCacheBytes
	}
	log := cfg.Log.With().Str("node", cfg.Node).Uint32("partition", cfg.Partition).Logger()
	return func() actor.Receiver {
		return &Vnode{cfg: cfg, log: log, cache: cache.NewLRU[version.Siblings](cfg.CacheBytes)}
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
		ack := v.replicaPut(c, m)
		// Read repair sends ReqID 0 and waits for nothing.
		if m.ReqID != 0 {
			c.Respond(ack)
		}
	case *messages.ReplicaGet:
		c.Respond(v.replicaGet(c, m))
	case actor.Initialized, actor.Started, actor.Stopped:
	default:
		v.log.Warn().Str("message", messages.NameOf(m)).Str("peer", peer(c)).Msg("vnode: unexpected message dropped")
	}
}

func (v *Vnode) coordinatePut(m *messages.CoordinatePut) *messages.CoordinatePutDone {
	done := &messages.CoordinatePutDone{ReqID: m.ReqID, Node: v.cfg.Node}
	if err := v.checkPartition(m.Partition); err != nil {
		done.Err = err.Error()
		return done
	}
	local, err := v.load(m.Key)
	if err != nil {
		done.Err = v.failed("coordinate put", m.Key, "", err)
		return done
	}
	ver := version.NewVersion(v.cfg.Node, local, m.Context, m.Value, m.Delete,
		v.cfg.Now(), v.cfg.MaxClockEntries)
	if err := v.save(m.Key, local.Add(ver)); err != nil {
		done.Err = v.failed("coordinate put", m.Key, "", err)
		return done
	}
	done.Version = ver
	return done
}

func (v *Vnode) replicaPut(c *actor.Context, m *messages.ReplicaPut) *messages.ReplicaPutAck {
	ack := &messages.ReplicaPutAck{ReqID: m.ReqID, Node: v.cfg.Node}
	if err := v.checkPartition(m.Partition); err != nil {
		ack.Err = err.Error()
		return ack
	}
	local, err := v.load(m.Key)
	if err != nil {
		ack.Err = v.failed("replica put", m.Key, peer(c), err)
		return ack
	}
	next := local
	for _, ver := range m.Versions {
		next = next.Add(ver)
	}
	// Repeats are common (retries, duplicated frames, read repair racing
	// the write it repairs); skipping the write keeps them cheap.
	if unchanged(next, local) {
		return ack
	}
	if err := v.save(m.Key, next); err != nil {
		ack.Err = v.failed("replica put", m.Key, peer(c), err)
	}
	return ack
}

func (v *Vnode) replicaGet(c *actor.Context, m *messages.ReplicaGet) *messages.ReplicaGetReply {
	reply := &messages.ReplicaGetReply{ReqID: m.ReqID, Node: v.cfg.Node}
	if err := v.checkPartition(m.Partition); err != nil {
		reply.Err = err.Error()
		return reply
	}
	local, err := v.load(m.Key)
	if err != nil {
		reply.Err = v.failed("replica get", m.Key, peer(c), err)
		return reply
	}
	reply.Versions = local
	return reply
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

// load returns the key's stored siblings; an absent key has none. Only
// what the store returned is cached: a failed or corrupt read is retried
// (and reported) every time.
func (v *Vnode) load(key []byte) (version.Siblings, error) {
	if s, ok := v.cache.Get(key); ok {
		return s, nil
	}
	raw, err := v.cfg.Store.Get(v.cfg.Partition, key)
	if errors.Is(err, store.ErrNotFound) {
		v.cache.Put(key, nil, cachedSize(key, nil))
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vnode %s/%d: read: %w", v.cfg.Node, v.cfg.Partition, err)
	}
	s, err := version.UnmarshalSiblings(raw)
	if err != nil {
		return nil, fmt.Errorf("vnode %s/%d: decode stored siblings: %w", v.cfg.Node, v.cfg.Partition, err)
	}
	v.cache.Put(key, s, cachedSize(key, s))
	return s, nil
}

// save writes s as key's siblings and caches it once the store has it.
func (v *Vnode) save(key []byte, s version.Siblings) error {
	// A write that failed, or panicked, may or may not be in the store:
	// forget the key so that the next read asks the store.
	saved := false
	defer func() {
		if !saved {
			v.cache.Remove(key)
		}
	}()
	if v.enc == nil {
		v.enc = msgpack.NewEncoder(&v.buf)
	}
	v.buf.Reset()
	// The same bytes as s.MarshalBinary, without a new buffer each time.
	if err := s.EncodeMsgpack(v.enc); err != nil {
		return fmt.Errorf("vnode %s/%d: encode siblings: %w", v.cfg.Node, v.cfg.Partition, err)
	}
	b := store.NewBatch()
	b.Put(v.cfg.Partition, key, v.buf.Bytes())
	if v.buf.Cap() > maxKeptBuffer {
		v.buf = bytes.Buffer{}
	}
	if err := v.cfg.Store.Apply(b); err != nil {
		return fmt.Errorf("vnode %s/%d: write: %w", v.cfg.Node, v.cfg.Partition, err)
	}
	v.cache.Put(key, s, cachedSize(key, s))
	saved = true
	return nil
}

// Sizes of what a cached entry holds besides its bytes of data, so that
// the bound tracks memory rather than data: the cache's entry and map slot,
// a Version, a clock Entry.
const (
	cacheEntryOverhead = 128
	versionOverhead    = 96
	clockEntryOverhead = 32
)

// cachedSize estimates the memory a cached set takes.
func cachedSize(key []byte, s version.Siblings) int {
	n := cacheEntryOverhead + len(key)
	for _, ver := range s {
		n += versionOverhead + len(ver.Dot.Node) + len(ver.Value)
		for _, e := range ver.Context {
			n += clockEntryOverhead + len(e.Node)
		}
	}
	return n
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
