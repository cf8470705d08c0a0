package actors

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dynamokv/dynamo/store"
	"github.com/dynamokv/dynamo/version"
	"github.com/vmihailenco/msgpack/v5"
)

// The vnode's storage: reading and writing a key's sibling set through the
// cache of decoded sets.

// maxKeptBuffer is the largest encoding buffer a vnode keeps between
// writes, so that one large value does not pin memory in every vnode.
const maxKeptBuffer = 64 << 10

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
	raw, err := v.encode(s)
	if err != nil {
		v.cache.Remove(key)
		return err
	}
	return v.write(key, s, raw)
}

// encode returns s as stored, in the vnode's buffer: valid until the next
// encode or write.
func (v *Vnode) encode(s version.Siblings) ([]byte, error) {
	if v.enc == nil {
		v.enc = msgpack.NewEncoder(&v.buf)
	}
	v.buf.Reset()
	// The same bytes as s.MarshalBinary, without a new buffer each time.
	if err := s.EncodeMsgpack(v.enc); err != nil {
		return nil, fmt.Errorf("vnode %s/%d: encode siblings: %w", v.cfg.Node, v.cfg.Partition, err)
	}
	return v.buf.Bytes(), nil
}

// trimBuffer drops a large encoding buffer, so that one large value does
// not pin memory in every vnode. It invalidates what encode returned.
func (v *Vnode) trimBuffer() {
	if v.buf.Cap() > maxKeptBuffer {
		v.buf = bytes.Buffer{}
	}
}

// write stores raw, the encoding of s, as key's siblings and caches s.
func (v *Vnode) write(key []byte, s version.Siblings, raw []byte) error {
	// A write that failed, or panicked, may or may not be in the store:
	// forget the key so that the next read asks the store.
	saved := false
	defer func() {
		if !saved {
			v.cache.Remove(key)
		}
	}()
	b := store.NewBatch()
	b.Put(v.cfg.Partition, key, raw)
	v.trimBuffer()
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
