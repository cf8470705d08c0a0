package store

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Merge: the log store's only background work. Once the sealed segments
// (all but the active one) hold more dead bytes (overwritten and deleted
// values, tombstones) than both mergeMin and their live bytes, a merge
// copies their live values into one new segment and removes them. The
// active segment is left out: where keys are rewritten it holds most of
// the live values, which later writes would soon make dead, so copying
// them would be wasted. The new segment's id is one above the highest it
// replaces, below the active one, so that replaying in id order still
// ends with the newest writes; recovery treats it as replacing every
// segment below it (see logrecover.go), so a crash at any point of a
// merge loses nothing. Writes and reads go on meanwhile: a value
// overwritten while it was being copied keeps its newer place.

// move is one live value a merge copies.
type move struct {
	partition uint32
	key       string
	from, to  logLoc
}

func (s *logStore) merge() {
	defer s.merges.Done()
	defer s.merging.Store(false)
	// A failed merge (a full disk, say) leaves the store as it was, and
	// the next one waits a while: each attempt writes until it fails.
	if err := s.mergeOnce(); err != nil {
		s.mergeFailures.Add(1)
		s.mergeErr.Store(&mergeFailure{err: err, retryAt: time.Now().Add(mergeRetry)})
		return
	}
	s.mergeErr.Store(nil)
}

// A merge copies at mergeRate or, when it has more to copy than that rate
// gets through in mergeSpread, spreads its copying over mergeSpread; it
// stops to pace itself after each mergeStep bytes. Every node of a
// cluster holds the same writes, so they all merge at about the same
// time: unpaced, a merge of tens of megabytes took a core for a fraction
// of a second on each, and the whole cluster's throughput dipped by a
// third and its p99 tripled every few seconds under rewrites.
const (
	mergeRate   = 32 << 20 // bytes per second
	mergeSpread = time.Second
	mergeStep   = 256 << 10
)

// mergePause is how long a merge that has copied done of total bytes,
// elapsed into its copying, waits before going on: so that it copies no
// faster than max(mergeRate, total/mergeSpread).
func mergePause(done, total int64, elapsed time.Duration) time.Duration {
	rate := max(float64(mergeRate), float64(total)/mergeSpread.Seconds())
	due := time.Duration(float64(done) / rate * float64(time.Second))
	return max(due-elapsed, 0)
}

// mergeRetry is how long after a failed merge the next may start.
const mergeRetry = 10 * time.Second

type mergeFailure struct {
	err     error
	retryAt time.Time
}

// mergeableLocked reports whether the sealed segments can be merged: the
// newest of them must have been written by Apply (an even id), so that the
// id above it is free for the merged segment.
func (s *logStore) mergeableLocked() bool {
	n := len(s.segs)
	return n >= 2 && s.segs[n-2].id%2 == 0
}

// mergeDueLocked reports whether the sealed segments are dead enough to
// merge.
func (s *logStore) mergeDueLocked() bool {
	if !s.mergeableLocked() {
		return false
	}
	act := s.active()
	live := s.index.live - act.live
	dead := s.total - act.size - live
	return dead >= s.mergeMin && dead > live
}

// mayMerge reports whether a merge may start now.
func (s *logStore) mayMerge() bool {
	f := s.mergeErr.Load()
	return f == nil || time.Now().After(f.retryAt)
}

func (s *logStore) mergeOnce() error {
	s.mu.Lock()
	if !s.mergeableLocked() {
		s.mu.Unlock()
		return nil
	}
	inputs := append([]*segment(nil), s.segs[:len(s.segs)-1]...)
	last := inputs[len(inputs)-1].id
	var moves []move
	for partition, p := range s.index.parts {
		for _, e := range p.locs {
			if e.loc.seg.id <= last {
				e.loc.seg.acquire()
				moves = append(moves, move{partition: partition, key: e.key, from: e.loc})
			}
		}
	}
	s.mu.Unlock()
	defer func() {
		for _, m := range moves {
			m.from.seg.release()
		}
	}()

	id := last + 1
	out, err := s.writeMerged(id, moves)
	if err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.segs = append([]*segment{out}, s.segs[len(inputs):]...)
	s.total += out.size
	for _, m := range moves {
		// A copy has the span of its original, so the live bytes stay.
		if p := s.index.parts[m.partition]; p != nil {
			if e := p.locs[m.key]; e != nil && e.loc == m.from {
				e.loc = m.to
				m.from.seg.live -= m.from.footprint()
				out.live += m.to.footprint()
			}
		}
	}
	for _, seg := range inputs {
		s.total -= seg.size
		seg.retired.Store(true)
		seg.release()
	}
	s.merged.Add(1)
	return nil
}

// writeMerged writes the values of moves into a new segment id, through a
// temporary file renamed once it is synced, and sets each move's new place.
func (s *logStore) writeMerged(id uint64, moves []move) (*segment, error) {
	path := segmentPath(s.dir, id)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	fail := func(err error) (*segment, error) {
		_ = f.Close()
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("merge into %s: %w", filepath.Base(path), err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	seg := &segment{id: id, path: path, f: f}
	var rec []byte
	var at, flushed, total int64
	for _, m := range moves {
		total += int64(m.from.span)
	}
	// In the order they lie on disk, so that the reads go through the
	// segments front to back.
	slices.SortFunc(moves, func(a, b move) int {
		if c := cmp.Compare(a.from.seg.id, b.from.seg.id); c != 0 {
			return c
		}
		return cmp.Compare(a.from.off, b.from.off)
	})
	var buf, key []byte
	begun := time.Now()
	for i := range moves {
		if s.closing.Load() {
			return fail(errors.New("the store is closing"))
		}
		m := &moves[i]
		key = append(key[:0], m.key...)
		v, err := readPut(&buf, m.from, key)
		if err != nil {
			return fail(err)
		}
		rec = appendRecord(rec[:0], []op{{kind: opPut, partition: m.partition, key: key, value: v}})
		if _, err := w.Write(rec); err != nil {
			return fail(err)
		}
		m.to = logLoc{seg: seg, off: at + int64(putKeyAt(len(m.key))), span: m.from.span}
		at += int64(len(rec))
		if at-flushed >= mergeStep {
			// Write back as the file grows, so that its sync at the end
			// finds little left, and pace the copying (see mergePause).
			if err := w.Flush(); err != nil {
				return fail(err)
			}
			startWriteback(f.Fd(), flushed, at-flushed)
			flushed = at
			time.Sleep(mergePause(at, total, time.Since(begun)))
		}
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	if err := syncDir(s.dir); err != nil {
		// Its name might not survive a power loss, so the segments it
		// replaces must stay.
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("merge into %s: %w", filepath.Base(path), err)
	}
	seg.size = at
	seg.refs.Store(1)
	s.copied.Add(at)
	return seg, nil
}
