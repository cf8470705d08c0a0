package store

import (
	"fmt"
	"slices"
	"sync"
)

// memStore keeps each partition as a sorted key slice plus a map, which is
// plenty for tests and keeps scans ordered without a tree.
type memStore struct {
	gate  gate
	mu    sync.RWMutex
	parts map[uint32]*memPartition
}

type memPartition struct {
	keys  []string // sorted
	vals  map[string][]byte
	bytes int64 // sum of key and value lengths
}

// NewMemory returns an in-memory Store with the same semantics as a Pebble
// store, minus persistence. It is safe for concurrent use.
func NewMemory() Store {
	return &memStore{parts: make(map[uint32]*memPartition)}
}

func (s *memStore) Get(partition uint32, key []byte) ([]byte, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	if err := checkKey("get", partition, key); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p := s.parts[partition]; p != nil {
		if v, ok := p.vals[string(key)]; ok {
			return slices.Clone(v), nil
		}
	}
	return nil, ErrNotFound
}

func (s *memStore) Apply(b *Batch) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := b.validate(); err != nil {
		return err
	}
	// Validation is complete and nothing below can fail, so holding the lock
	// across all ops is what makes the batch atomic.
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range b.ops {
		switch o.kind {
		case opPut:
			s.put(o.partition, string(o.key), o.value)
		case opDelete:
			s.delete(o.partition, string(o.key))
		}
	}
	return nil
}

func (s *memStore) put(partition uint32, key string, value []byte) {
	p := s.parts[partition]
	if p == nil {
		p = &memPartition{vals: make(map[string][]byte)}
		s.parts[partition] = p
	}
	if old, ok := p.vals[key]; ok {
		p.bytes -= int64(len(old))
	} else {
		i, _ := slices.BinarySearch(p.keys, key)
		p.keys = slices.Insert(p.keys, i, key)
		p.bytes += int64(len(key))
	}
	// The batch's memory is reused after Apply (Batch.Reset): keep a copy.
	value = append(make([]byte, 0, len(value)), value...)
	p.vals[key] = value
	p.bytes += int64(len(value))
}

func (s *memStore) delete(partition uint32, key string) {
	p := s.parts[partition]
	if p == nil {
		return
	}
	old, ok := p.vals[key]
	if !ok {
		return
	}
	delete(p.vals, key)
	i, _ := slices.BinarySearch(p.keys, key)
	p.keys = slices.Delete(p.keys, i, i+1)
	p.bytes -= int64(len(key) + len(old))
	if len(p.keys) == 0 {
		delete(s.parts, partition)
	}
}

type memEntry struct {
	key   string
	value []byte
}

func (s *memStore) Scan(partition uint32, after []byte, limit int, fn func(key, value []byte) error) ([]byte, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	if fn == nil {
		return nil, fmt.Errorf("store: scan partition %d: nil callback", partition)
	}
	page, more := s.page(partition, after, limit)
	// fn runs without the lock so it may write to the store, as it may with
	// a Pebble iterator.
	for _, e := range page {
		if err := fn([]byte(e.key), slices.Clone(e.value)); err != nil {
			return nil, err
		}
	}
	if !more {
		return nil, nil
	}
	return []byte(page[len(page)-1].key), nil
}

// page copies out up to limit entries after the key after, and reports
// whether more follow.
func (s *memStore) page(partition uint32, after []byte, limit int) ([]memEntry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.parts[partition]
	if p == nil {
		return nil, false
	}
	start := 0
	if after != nil {
		var found bool
		start, found = slices.BinarySearch(p.keys, string(after))
		if found {
			start++
		}
	}
	end := len(p.keys)
	if limit > 0 && start+limit < end {
		end = start + limit
	}
	page := make([]memEntry, 0, max(end-start, 0))
	for _, k := range p.keys[start:end] {
		page = append(page, memEntry{key: k, value: p.vals[k]})
	}
	return page, end < len(p.keys)
}

func (s *memStore) DropPartition(partition uint32) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.parts, partition)
	return nil
}

func (s *memStore) PartitionStats(partition uint32) (int, int64, error) {
	if err := s.gate.enter(); err != nil {
		return 0, 0, err
	}
	defer s.gate.leave()
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.parts[partition]
	if p == nil {
		return 0, 0, nil
	}
	return len(p.keys), p.bytes, nil
}

func (s *memStore) Close() error {
	if err := s.gate.close(); err != nil {
		return err
	}
	s.mu.Lock()
	s.parts = nil
	s.mu.Unlock()
	return nil
}
