package store

import "fmt"

// The log store's scans and what it says of itself.

func (s *logStore) Scan(partition uint32, after []byte, limit int, fn func(key, value []byte) error) ([]byte, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	if fn == nil {
		return nil, fmt.Errorf("store: scan partition %d: nil callback", partition)
	}
	// Pages of entries are taken under the lock and read without it, so
	// that fn may write and writers do not wait for the reads.
	const page = 256
	seen := 0
	var last string
	var key, buf []byte
	for {
		want := page
		if limit > 0 {
			want = min(page, limit-seen+1)
		}
		entries := s.pageOf(partition, after, want)
		for i, e := range entries {
			if limit > 0 && seen == limit {
				releaseAll(entries[i:])
				return []byte(last), nil
			}
			// fn's slices are only valid during the call: one key and one
			// value buffer serve the whole scan.
			key = append(key[:0], e.key...)
			v, err := readPut(&buf, e.loc, key)
			e.loc.seg.release()
			if err == nil {
				err = fn(key, v)
			}
			if err != nil {
				releaseAll(entries[i+1:])
				return nil, err
			}
			seen++
			last = e.key
		}
		if len(entries) < want {
			return nil, nil
		}
		after = []byte(last)
	}
}

// pageOf takes up to n entries of partition after the key after, each
// with a reference to its segment.
func (s *logStore) pageOf(partition uint32, after []byte, n int) []logEntry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.index.parts[partition]
	if p == nil {
		return nil
	}
	out := make([]logEntry, 0, n)
	p.ascend(after, func(e *logEntry) bool {
		if after != nil && e.key == string(after) {
			return true
		}
		e.loc.seg.acquire()
		out = append(out, *e)
		return len(out) < n
	})
	return out
}

func releaseAll(es []logEntry) {
	for _, e := range es {
		e.loc.seg.release()
	}
}

func (s *logStore) PartitionStats(partition uint32) (int, int64, error) {
	if err := s.gate.enter(); err != nil {
		return 0, 0, err
	}
	defer s.gate.leave()
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.index.parts[partition]
	if p == nil {
		return 0, 0, nil
	}
	return len(p.locs), p.bytes, nil
}

// LogStats is what a log store keeps on disk.
type LogStats struct {
	Segments      int
	DiskBytes     int64 // records in the segments
	LiveBytes     int64 // of which the index still points at
	Merges        int64
	MergeFailures int64
	// AppendedBytes is what writes appended since the store opened,
	// CopiedBytes what merges copied: their ratio is what merging adds
	// to every byte written.
	AppendedBytes, CopiedBytes int64
	// MergeErr is the last merge's failure, until one succeeds.
	MergeErr string
}

// LogStatser is a store that can say what it keeps on disk: the log store.
type LogStatser interface {
	LogStats() LogStats
}

func (s *logStore) LogStats() LogStats {
	s.mu.RLock()
	st := LogStats{Segments: len(s.segs), DiskBytes: s.total, LiveBytes: s.index.live}
	s.mu.RUnlock()
	st.Merges, st.MergeFailures = s.merged.Load(), s.mergeFailures.Load()
	st.AppendedBytes, st.CopiedBytes = s.appended.Load(), s.copied.Load()
	if f := s.mergeErr.Load(); f != nil {
		st.MergeErr = f.err.Error()
	}
	return st
}
