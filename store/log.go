package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// The log store: every applied batch is one record appended to the active
// segment file, and an ordered index in memory says where each key's
// latest value lies (the design of Bitcask, riak_kv's default backend).
// A write is one append and an index update; there is no memtable to
// flush and no levels to compact, only a merge, now and then, that
// copies the live values out of the old segments and removes them. The
// price is memory: the index holds every key (about 145 bytes each plus
// the key). Values are read from the segments (through the page cache)
// when the vnodes' caches miss.
//
// Durability is Pebble's: without Options.Sync an applied batch has been
// written to the OS, so it survives kill -9; with it, it has been synced
// (concurrent batches share a sync; a batch is visible to readers from
// its write, before its sync, which Apply waits for).
// A segment is synced when the next one starts, with its writeback
// started as it grows (as the Pebble store's WAL files), so only the
// active segment's tail can be lost to a power loss; recovery drops a
// damaged tail of the last segment and refuses any other damage.

const (
	// defaultSegmentBytes is the size at which a new segment starts.
	defaultSegmentBytes = 64 << 20
	// defaultMergeMin is how many dead bytes (values overwritten or
	// deleted, tombstones) the sealed segments must hold before a merge,
	// which also waits until they outweigh the live ones.
	defaultMergeMin = 64 << 20
)

type logStore struct {
	gate gate
	dir  string
	sync bool

	segmentBytes int64
	mergeMin     int64

	mu     sync.RWMutex
	index  logIndex
	segs   []*segment // ascending ids; the last is active
	total  int64      // bytes of records in segs
	buf    []byte     // the record being appended
	keyAt  []int      // where its keys start
	failed error      // a write that could not be undone: no more writes
	// started is how far the active segment's writeback was started.
	started int64

	syncMu        sync.Mutex // one fsync of the active segment at a time, with Sync
	merging       atomic.Bool
	merged        atomic.Int64 // merges done, for tests and stats
	appended      atomic.Int64 // bytes of records Apply and DropPartition wrote
	copied        atomic.Int64 // bytes of records merges wrote
	mergeFailures atomic.Int64
	// mergeErr is the last merge's failure, until one succeeds.
	mergeErr atomic.Pointer[mergeFailure]
	merges   sync.WaitGroup
	closing  atomic.Bool
}

// OpenLog opens (creating if needed) a log-structured Store in opts.Dir.
func OpenLog(opts Options) (Store, error) {
	return openLog(opts, defaultSegmentBytes, defaultMergeMin)
}

func openLog(opts Options, segmentBytes, mergeMin int64) (*logStore, error) {
	if opts.Dir == "" {
		return nil, errors.New("store: open log: Options.Dir is empty")
	}
	if err := otherEngine(opts.Dir, "log"); err != nil {
		return nil, fmt.Errorf("store: open log: %w", err)
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: open log: %w", err)
	}
	s := &logStore{dir: opts.Dir, sync: opts.Sync, segmentBytes: segmentBytes, mergeMin: mergeMin, index: newLogIndex()}
	if err := s.recover(); err != nil {
		s.closeSegments()
		return nil, fmt.Errorf("store: open log in %s: %w", opts.Dir, err)
	}
	return s, nil
}

func segmentPath(dir string, id uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%016x.seg", id))
}

func (s *logStore) active() *segment { return s.segs[len(s.segs)-1] }

func (s *logStore) Get(partition uint32, key []byte) ([]byte, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	if err := checkKey("get", partition, key); err != nil {
		return nil, err
	}
	s.mu.RLock()
	e, ok := s.index.get(partition, key)
	if ok {
		e.loc.seg.acquire()
	}
	s.mu.RUnlock()
	if !ok {
		return nil, ErrNotFound
	}
	defer e.loc.seg.release()
	var buf []byte
	v, err := readPut(&buf, e.loc, key)
	if err != nil {
		return nil, fmt.Errorf("store: get partition %d key %q: %w", partition, key, err)
	}
	return v, nil
}

// readPut reads the put at loc, which must be key's, into *buf, grown when
// it is too small; the value returned aliases *buf, so that a scan or a
// merge reading many values reuses one buffer.
func readPut(buf *[]byte, loc logLoc, key []byte) ([]byte, error) {
	if cap(*buf) < int(loc.span) {
		*buf = make([]byte, loc.span)
	}
	span := (*buf)[:loc.span]
	if _, err := loc.seg.f.ReadAt(span, loc.off); err != nil {
		return nil, fmt.Errorf("read segment %s at %d: %w", filepath.Base(loc.seg.path), loc.off, err)
	}
	v, err := checkPut(span, key)
	if err != nil {
		return nil, fmt.Errorf("segment %s at %d: %w", filepath.Base(loc.seg.path), loc.off, err)
	}
	return v, nil
}

func (s *logStore) Apply(b *Batch) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := b.validate(); err != nil {
		return err
	}
	if len(b.ops) == 0 {
		return nil
	}
	err := s.write(b.ops)
	if err != nil {
		return fmt.Errorf("store: apply batch of %d ops: %w", len(b.ops), err)
	}
	return nil
}

// write appends the record of ops and indexes it as recovery would; with
// Sync it returns once the record is on disk.
func (s *logStore) write(ops []op) error {
	seg, end, err := s.writeLocked(ops)
	if err != nil || !s.sync {
		return err
	}
	defer seg.release()
	return s.syncSegment(seg, end)
}

// writeLocked appends and indexes the record. With Sync it returns the
// segment written, referenced, and the offset the record ends at, which
// the caller must sync before the record counts as written.
func (s *logStore) writeLocked(ops []op) (*segment, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf, s.keyAt = appendRecordAt(s.buf[:0], ops, s.keyAt[:0])
	defer s.trimBuffer()
	if n := len(s.buf) - recordHeader; n > maxRecordBody {
		return nil, 0, fmt.Errorf("%d bytes, over the %d one record may take", n, maxRecordBody)
	}
	at, err := s.appendLocked(s.buf)
	if err != nil {
		return nil, 0, err
	}
	seg := s.active()
	for i, o := range ops {
		s.index.apply(logOp{kind: o.kind, partition: o.partition, key: o.key, value: o.value, keyAt: s.keyAt[i]}, seg, at)
	}
	end := seg.size
	if s.sync {
		seg.acquire()
	}
	if err := s.afterAppendLocked(); err != nil {
		if s.sync {
			seg.release()
		}
		return nil, 0, err
	}
	return seg, end, nil
}

// syncSegment returns once seg is on disk up to end. One fsync covers
// every record appended before it starts, so writers that arrive while
// one is under way share the next: with many writers, a sync serves many
// batches (as Pebble's WAL does).
func (s *logStore) syncSegment(seg *segment, end int64) error {
	if seg.synced.Load() >= end {
		return nil
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if seg.synced.Load() >= end {
		return nil
	}
	s.mu.RLock()
	upto, failed := seg.size, s.failed
	s.mu.RUnlock()
	if failed != nil {
		return failed
	}
	if err := syncData(seg.f); err != nil {
		// Whether these records are on disk is unknown, and so is every
		// later one: stop here.
		s.mu.Lock()
		s.failed = fmt.Errorf("sync segment %s: %w; reopen the store", filepath.Base(seg.path), err)
		s.mu.Unlock()
		return s.failed
	}
	seg.synced.Store(max(seg.synced.Load(), upto))
	return nil
}

func (s *logStore) DropPartition(partition uint32) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := s.write([]op{{kind: logOpDrop, partition: partition}}); err != nil {
		return fmt.Errorf("store: drop partition %d: %w", partition, err)
	}
	return nil
}

// appendLocked writes a record at the end of the active segment and
// returns where it starts. A write that fails is cut off again; if that
// fails too, the store takes no more writes.
func (s *logStore) appendLocked(rec []byte) (int64, error) {
	if s.failed != nil {
		return 0, s.failed
	}
	seg := s.active()
	at := seg.size
	if _, err := seg.f.WriteAt(rec, at); err != nil {
		if terr := seg.f.Truncate(at); terr != nil {
			s.failed = fmt.Errorf("segment %s is damaged after a failed write (%v) and could not be cut back (%w); reopen the store", filepath.Base(seg.path), err, terr)
			return 0, s.failed
		}
		return 0, fmt.Errorf("write segment %s: %w", filepath.Base(seg.path), err)
	}
	seg.size += int64(len(rec))
	s.total += int64(len(rec))
	s.appended.Add(int64(len(rec)))
	return at, nil
}

// afterAppendLocked starts the active segment's writeback as it grows,
// starts a new segment once it is full, and a merge once the dead bytes
// call for one.
func (s *logStore) afterAppendLocked() error {
	seg := s.active()
	if to := seg.size - seg.size%4096; to-s.started >= walWriteback {
		startWriteback(seg.f.Fd(), s.started, to-s.started)
		s.started = to
	}
	if seg.size >= s.segmentBytes {
		// A segment that cannot be started (a full disk) leaves the full
		// one active, and the next append tries again; only a failed sync
		// of the full one fails the store.
		if err := s.rotateLocked(); err != nil && s.failed != nil {
			return err
		}
	}
	if s.mergeDueLocked() && s.mayMerge() && s.merging.CompareAndSwap(false, true) {
		s.merges.Add(1)
		go s.merge()
	}
	return nil
}

// rotateLocked syncs the active segment and starts the next one.
func (s *logStore) rotateLocked() error {
	old := s.active()
	if err := old.f.Sync(); err != nil {
		s.failed = fmt.Errorf("sync segment %s: %w; reopen the store", filepath.Base(old.path), err)
		return s.failed
	}
	old.synced.Store(old.size)
	seg, err := createSegment(s.dir, (old.id|1)+1)
	if err != nil {
		// The old segment stays active; the next append tries again.
		return fmt.Errorf("start a new segment: %w", err)
	}
	s.segs = append(s.segs, seg)
	s.started = 0
	return nil
}

// createSegment creates an empty segment file and makes its name durable.
func createSegment(dir string, id uint64) (*segment, error) {
	path := segmentPath(dir, id)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syncDir(dir); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, err
	}
	seg := &segment{id: id, path: path, f: f}
	seg.refs.Store(1)
	return seg, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

func (s *logStore) trimBuffer() {
	if cap(s.buf) > maxKeptBuffer {
		s.buf = nil
	}
}

const maxKeptBuffer = 1 << 20

func (s *logStore) Close() error {
	if err := s.gate.close(); err != nil {
		return err
	}
	s.closing.Store(true)
	s.merges.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.active().f.Sync()
	s.closeSegments()
	if err != nil {
		return fmt.Errorf("store: close log: sync: %w", err)
	}
	return nil
}

// closeSegments drops the store's reference to every segment.
func (s *logStore) closeSegments() {
	for _, seg := range s.segs {
		seg.release()
	}
	s.segs = nil
	s.index = newLogIndex()
}
