package actors

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
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
	Node string // this node's member ID, which answers name
	// DotNode names the dots of the versions this vnode coordinates; ""
	// means Node. It must change whenever the node's store starts empty
	// (see LoadIncarnation): counters restart at 1 with the store, and a
	// reused dot looks to the other replicas like a write they already
	// have, so they would acknowledge a new write without storing it.
	DotNode   string
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

// NewVnode returns the producer of a vnode.
func NewVnode(cfg VnodeConfig) actor.Producer {
	if cfg.Now == nil {
		cfg.Now = func() int64 { return time.Now().UnixNano() }
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = DefaultVnodeCacheBytes
	}
	if cfg.DotNode == "" {
		cfg.DotNode = cfg.Node
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
	done := &messages.CoordinatePutDone{ReqID: m.ReqID, Node: v.cfg.Node, Partition: m.Partition, Key: m.Key}
	if err := v.checkPartition(m.Partition); err != nil {
		done.Err = err.Error()
		return done
	}
	local, err := v.load(m.Key)
	if err != nil {
		done.Err = v.failed("coordinate put", m.Key, "", err)
		return done
	}
	ver := version.NewVersion(v.cfg.DotNode, local, m.Context, m.Value, m.Delete,
		v.cfg.Now(), v.cfg.MaxClockEntries)
	next := local.Add(ver)
	raw, err := v.encode(next)
	if err != nil {
		done.Err = v.failed("coordinate put", m.Key, "", err)
		return done
	}
	if v.cfg.MaxSetBytes > 0 && len(raw) > v.cfg.MaxSetBytes {
		v.trimBuffer()
		done.Status = messages.StatusTooLarge
		done.Err = fmt.Sprintf("the key's %d versions would take %d bytes, over the limit of %d: "+
			"read the key and write with its context to resolve its siblings", len(next), len(raw), v.cfg.MaxSetBytes)
		v.log.Warn().Uint64("key_hash", keyHash(m.Key)).Int("versions", len(next)).Int("bytes", len(raw)).
			Msg("vnode: write refused, sibling set too large")
		return done
	}
	if err := v.write(m.Key, next, raw); err != nil {
		done.Err = v.failed("coordinate put", m.Key, "", err)
		return done
	}
	done.Version, done.Set = ver, next
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
	v.checkReplySize(m.Key, local)
	return reply
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
	raw, err := v.encode(s)
	size := len(raw)
	v.trimBuffer()
	if err != nil || size <= v.cfg.MaxSetBytes {
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

// Where a store keeps its incarnation. The Store interface reaches only the
// data namespace, so the incarnation takes a partition number no ring uses
// (rings have at most 65536 partitions): scans, stats and drops of real
// partitions never see it.
const (
	IncarnationPartition uint32 = 0xFFFFFFFF
	IncarnationKey              = "incarnation"
)

// incarnationEncoding renders incarnations in lower case without padding,
// so they read well inside a clock's node names.
var incarnationEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// LoadIncarnation returns st's incarnation: a short random name made the
// first time the store is used and kept in it. It stays the same across
// restarts with the same data and is new whenever the data is gone
// (memory storage, a wiped or replaced disk), which is exactly when the
// node's dot counters start again at 1. Naming dots "<member>.<incarnation>"
// (VnodeConfig.DotNode) keeps such a node from reissuing a dot that other
// replicas already hold. A damaged record is replaced: a new incarnation
// costs a clock entry, never a write.
func LoadIncarnation(st store.Store) (string, error) {
	raw, err := st.Get(IncarnationPartition, []byte(IncarnationKey))
	switch {
	case err == nil && validIncarnation(raw):
		return string(raw), nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return "", fmt.Errorf("read the store's incarnation: %w", err)
	}
	var b [5]byte
	_, _ = rand.Read(b[:]) // never fails
	inc := incarnationEncoding.EncodeToString(b[:])
	batch := store.NewBatch()
	batch.Put(IncarnationPartition, []byte(IncarnationKey), []byte(inc))
	if err := st.Apply(batch); err != nil {
		return "", fmt.Errorf("record the store's incarnation: %w", err)
	}
	return inc, nil
}

func validIncarnation(b []byte) bool {
	if len(b) == 0 || len(b) > 32 {
		return false
	}
	_, err := incarnationEncoding.DecodeString(string(b))
	return err == nil
}
