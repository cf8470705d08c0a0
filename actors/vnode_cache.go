package actors

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dynamokv/dynamo/merkle"

	"github.com/dynamokv/dynamo/store"
	"github.com/dynamokv/dynamo/version"
)

// The vnode's storage: reading and writing a key's sibling set through the
// cache of decoded sets.

// maxKeptBuffer is the largest encoding buffer a vnode keeps between
// writes, so that one large value does not pin memory in every vnode.
const maxKeptBuffer = 64 << 10

// cachedSet is what the cache keeps of a key: its decoded siblings and
// their item hash in the partition's Merkle tree (0 for none), so that a
// write updates the tree without encoding the old set again.
type cachedSet struct {
	set  version.Siblings
	hash uint64
}

// load returns the key's stored siblings; an absent key has none. Only
// what the store returned is cached: a failed or corrupt read is retried
// (and reported) every time.
func (v *Vnode) load(key []byte) (version.Siblings, error) {
	c, err := v.loadCached(key)
	return c.set, err
}

func (v *Vnode) loadCached(key []byte) (cachedSet, error) {
	if c, ok := v.cache.Get(key); ok {
		return c, nil
	}
	raw, err := v.cfg.Store.Get(v.cfg.Partition, key)
	if errors.Is(err, store.ErrNotFound) {
		v.cache.Put(key, cachedSet{}, cachedSize(key, nil))
		return cachedSet{}, nil
	}
	if err != nil {
		return cachedSet{}, fmt.Errorf("vnode %s/%d: read: %w", v.cfg.Node, v.cfg.Partition, err)
	}
	s, err := version.UnmarshalSiblings(raw)
	if err != nil {
		return cachedSet{}, v.quarantine(key, raw, err)
	}
	c := cachedSet{set: s, hash: merkle.ItemHash(key, raw)}
	v.cache.Put(key, c, cachedSize(key, s))
	return c, nil
}

// QuarantinePartition holds stored sibling sets that could not be
// decoded, under QuarantineKey, for an operator to inspect. Rings have at
// most 65536 partitions, so no vnode's scans, stats or drops reach it.
const QuarantinePartition uint32 = 0xFFFFFFFE

// QuarantineKey is where partition p's key is kept in QuarantinePartition.
func QuarantineKey(p uint32, key []byte) []byte {
	out := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(key)), p)
	return append(out, key...)
}

// quarantine moves a corrupt stored set aside and answers as if the key
// were absent: left in place it would make the key unwritable here and
// unrepairable, since every write starts by reading it. The other
// replicas' copies come back through read repair (or anti-entropy), and
// the bytes stay in QuarantinePartition. Until the process restarts, put
// replies here no longer assume this vnode knows every version its node
// wrote.
func (v *Vnode) quarantine(key, raw []byte, cause error) error {
	b := store.NewBatch()
	b.Put(QuarantinePartition, QuarantineKey(v.cfg.Partition, key), raw)
	b.Delete(v.cfg.Partition, key)
	if err := v.cfg.Store.Apply(b); err != nil {
		v.treeStale = true
		return fmt.Errorf("vnode %s/%d: decode stored siblings: %w; moving them aside: %w",
			v.cfg.Node, v.cfg.Partition, cause, err)
	}
	v.updateTree(key, merkle.ItemHash(key, raw))
	v.lostHistory = true
	v.cfg.Counters.Quarantined.Add(1)
	v.log.Error().Err(cause).Uint64("key_hash", keyHash(key)).Int("bytes", len(raw)).
		Msg("vnode: corrupt sibling set quarantined; the key is repaired from the other replicas")
	v.cache.Put(key, cachedSet{}, cachedSize(key, nil))
	return nil
}

// encode returns s as stored, in the vnode's buffer: valid until the next
// encode or write.
func (v *Vnode) encode(s version.Siblings) []byte {
	// The same bytes as s.MarshalBinary, without a new buffer each time.
	v.buf = s.AppendMsgpack(v.buf[:0])
	return v.buf
}

// newBatch returns the vnode's write batch, emptied: one write follows
// another on this goroutine, and the store keeps none of its memory.
func (v *Vnode) newBatch() *store.Batch {
	if v.batch == nil {
		v.batch = store.NewBatch()
	}
	v.batch.Reset()
	return v.batch
}

// trimBuffer drops a large encoding buffer, so that one large value does
// not pin memory in every vnode. It invalidates what encode returned.
func (v *Vnode) trimBuffer() {
	if cap(v.buf) > maxKeptBuffer {
		v.buf = nil
	}
}

// write stores raw, the encoding of s, as key's siblings over what it held,
// whose item hash was old; it caches s and updates the tree.
func (v *Vnode) write(key []byte, s version.Siblings, raw []byte, old uint64) error {
	// A write that failed, or panicked, may or may not be in the store:
	// forget the key so that the next read asks the store, and rebuild
	// the tree before it is next compared.
	saved := false
	defer func() {
		if !saved {
			v.cache.Remove(key)
			v.treeStale = true
		}
	}()
	h := merkle.ItemHash(key, raw)
	b := v.newBatch()
	b.Put(v.cfg.Partition, key, raw)
	v.trimBuffer()
	if err := v.cfg.Store.Apply(b); err != nil {
		return fmt.Errorf("vnode %s/%d: write: %w", v.cfg.Node, v.cfg.Partition, err)
	}
	v.cache.Put(key, cachedSet{set: s, hash: h}, cachedSize(key, s))
	v.updateTree(key, old^h)
	saved = true
	return nil
}

// remove deletes key, whose item hash was old, from the store.
func (v *Vnode) remove(key []byte, old uint64) error {
	b := v.newBatch()
	b.Delete(v.cfg.Partition, key)
	if err := v.cfg.Store.Apply(b); err != nil {
		v.cache.Remove(key)
		v.treeStale = true
		return err
	}
	v.cache.Put(key, cachedSet{}, cachedSize(key, nil))
	v.updateTree(key, old)
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
