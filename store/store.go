// Package store is a node's local storage: opaque values grouped into
// partitions, so that a partition can be scanned, streamed to another node
// and dropped as a unit.
//
// Three implementations share one contract: OpenLog (a log of batches
// with every key indexed in memory, the nodes' default), OpenPebble
// (Pebble's LSM tree, for more keys than memory holds) and NewMemory (for
// tests).
package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// ErrNotFound is returned by Get when the key is absent.
var ErrNotFound = errors.New("store: key not found")

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("store: closed")

// ErrEmptyKey is returned when an operation names an empty key. Empty keys are
// rejected because they cannot be told apart from a partition's prefix.
var ErrEmptyKey = errors.New("store: empty key")

// Store is a node's storage. Implementations are safe for concurrent use.
type Store interface {
	// Get returns the value of key in partition, or ErrNotFound. The returned
	// slice belongs to the caller.
	Get(partition uint32, key []byte) ([]byte, error)

	// Apply applies every operation in b atomically: afterwards either all or
	// none of them are visible, also after a crash. How durable an applied
	// batch is depends on Options.Sync.
	Apply(b *Batch) error

	// Scan calls fn for the entries of partition in ascending key order,
	// starting after the key after (nil starts at the beginning), for at most
	// limit entries (limit <= 0 means all). The slices passed to fn are only
	// valid during the call.
	//
	// When the limit stopped the scan and more entries follow, next is the
	// last key passed to fn (pass it back as after to continue); when the
	// partition is exhausted next is nil. An error returned by fn stops the
	// scan and is returned unchanged. fn must not call Close.
	Scan(partition uint32, after []byte, limit int, fn func(key, value []byte) error) (next []byte, err error)

	// DropPartition deletes every key of partition at once.
	DropPartition(partition uint32) error

	// PartitionStats counts the live keys of partition and their size (sum of
	// key and value lengths). It reads the whole partition.
	PartitionStats(partition uint32) (keys int, bytes int64, err error)

	// Close releases the store. It waits for calls in flight; afterwards
	// every method returns ErrClosed. Closing twice returns ErrClosed.
	Close() error
}

// Options configures OpenLog and OpenPebble.
type Options struct {
	// Dir is the data directory. It is required.
	Dir string

	// Sync makes Apply return only after the batch has been fsynced, so that
	// it survives power loss. Without it, Apply returns once the batch has
	// been written to the operating system: an applied batch survives a crash
	// of the process (even kill -9) but may be lost if the machine loses power
	// or the kernel crashes. Either way a clean Close makes everything durable.
	Sync bool

	// CacheBytes is Pebble's block cache size; 0 means DefaultCacheBytes.
	CacheBytes int64
}

// DefaultCacheBytes is the block cache size used when Options.CacheBytes is 0.
const DefaultCacheBytes = 64 << 20

// Key layout.
//
// Every stored key is namespace byte | partition (4 bytes, big-endian) | user
// key. Big-endian keeps a partition's keys contiguous and partitions in
// numeric order, so a partition is one key range that can be scanned and
// range-deleted. The namespace byte keeps unrelated kinds of records out of
// each other's ranges.
const (
	// NamespaceData holds user data; it is the only namespace Store's
	// methods touch.
	NamespaceData byte = 'd'
	// NamespaceHints is reserved for hinted handoff records.
	NamespaceHints byte = 'h'
	// NamespaceMeta is reserved for node metadata.
	NamespaceMeta byte = 'm'
)

// PrefixLen is the length of the namespace and partition prefix.
const PrefixLen = 1 + 4

// PartitionPrefix returns the prefix shared by every key of partition in
// namespace ns.
func PartitionPrefix(ns byte, partition uint32) []byte {
	p := make([]byte, PrefixLen)
	p[0] = ns
	binary.BigEndian.PutUint32(p[1:], partition)
	return p
}

// EncodeKey returns the stored form of key in partition of namespace ns.
func EncodeKey(ns byte, partition uint32, key []byte) []byte {
	return AppendKey(make([]byte, 0, PrefixLen+len(key)), ns, partition, key)
}

// AppendKey appends the stored form of key to dst, as EncodeKey makes it.
func AppendKey(dst []byte, ns byte, partition uint32, key []byte) []byte {
	dst = append(dst, ns)
	dst = binary.BigEndian.AppendUint32(dst, partition)
	return append(dst, key...)
}

// DecodeKey splits a stored key into its namespace, partition and user key.
// The user key aliases k.
func DecodeKey(k []byte) (ns byte, partition uint32, key []byte, err error) {
	if len(k) < PrefixLen {
		return 0, 0, nil, fmt.Errorf("store: decode key: %d bytes is shorter than the %d-byte prefix", len(k), PrefixLen)
	}
	return k[0], binary.BigEndian.Uint32(k[1:PrefixLen]), k[PrefixLen:], nil
}

// PartitionBounds returns the range [lower, upper) holding every key of
// partition in namespace ns.
func PartitionBounds(ns byte, partition uint32) (lower, upper []byte) {
	lower = PartitionPrefix(ns, partition)
	return lower, prefixEnd(lower)
}

// prefixEnd returns the smallest key greater than every key starting with p.
// It carries into the namespace byte for the last partition, so that
// partition 0xffffffff still has a finite bound.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

type opKind uint8

const (
	opPut opKind = iota
	opDelete
)

type op struct {
	kind      opKind
	partition uint32
	key       []byte
	value     []byte
}

// Batch is a group of writes applied atomically by Store.Apply. It copies
// keys and values, so callers may reuse their buffers. A Batch is not safe
// for concurrent use.
type Batch struct {
	ops []op
	err error // first invalid operation; Apply refuses the whole batch
	// arena holds the batch's copies of keys and values. Growing it
	// leaves the earlier copies where they were, so ops stay valid.
	arena []byte
}

// NewBatch returns an empty batch.
func NewBatch() *Batch { return &Batch{} }

// Reset empties the batch and keeps its memory for the next one, for a
// caller that writes one batch after another (a vnode). Stores do not
// keep a batch's memory once Apply returns. Past maxKeptArena the memory
// is let go, so that one large value does not stay pinned.
func (b *Batch) Reset() {
	clear(b.ops)
	b.ops, b.arena, b.err = b.ops[:0], b.arena[:0], nil
	if cap(b.arena) > maxKeptArena {
		b.arena = nil
	}
}

const maxKeptArena = 64 << 10

// keep copies p into the arena.
func (b *Batch) keep(p []byte) []byte {
	if cap(b.arena)-len(b.arena) < len(p) {
		b.arena = make([]byte, 0, max(2*cap(b.arena), len(p), 256))
	}
	start := len(b.arena)
	b.arena = append(b.arena, p...)
	return b.arena[start:len(b.arena):len(b.arena)]
}

// Put sets key in partition to value. An empty key makes Apply fail.
func (b *Batch) Put(partition uint32, key, value []byte) {
	b.add(opPut, partition, key, value)
}

// Delete removes key from partition; deleting an absent key is not an error.
// An empty key makes Apply fail.
func (b *Batch) Delete(partition uint32, key []byte) {
	b.add(opDelete, partition, key, nil)
}

// Len returns the number of operations in the batch.
func (b *Batch) Len() int { return len(b.ops) }

func (b *Batch) add(kind opKind, partition uint32, key, value []byte) {
	if len(key) == 0 {
		if b.err == nil {
			b.err = fmt.Errorf("store: batch op %d in partition %d: %w", len(b.ops), partition, ErrEmptyKey)
		}
		return
	}
	o := op{kind: kind, partition: partition, key: b.keep(key)}
	if kind == opPut {
		// keep returns a non-nil slice, so an empty value reads back as
		// empty, not nil.
		o.value = b.keep(value)
	}
	b.ops = append(b.ops, o)
}

// validate reports why b cannot be applied.
func (b *Batch) validate() error {
	if b == nil {
		return errors.New("store: apply nil batch")
	}
	return b.err
}

// gate lets Close wait for calls in flight and turns later calls away. It is
// a counter rather than an RWMutex so that a Scan callback may call other
// methods without deadlocking against a pending Close.
type gate struct {
	mu     sync.Mutex
	idle   sync.Cond
	n      int
	closed bool
}

func (g *gate) enter() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	g.n++
	return nil
}

func (g *gate) leave() {
	g.mu.Lock()
	g.n--
	if g.n == 0 && g.closed {
		g.idle.Broadcast()
	}
	g.mu.Unlock()
}

// close marks the gate closed and waits until no call is in flight. It
// returns ErrClosed if the gate was already closed.
func (g *gate) close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	g.closed = true
	if g.idle.L == nil {
		g.idle.L = &g.mu
	}
	for g.n > 0 {
		g.idle.Wait()
	}
	return nil
}

func checkKey(op string, partition uint32, key []byte) error {
	if len(key) == 0 {
		return fmt.Errorf("store: %s in partition %d: %w", op, partition, ErrEmptyKey)
	}
	return nil
}
