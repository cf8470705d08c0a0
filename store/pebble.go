package store

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Durability without Options.Sync.
//
// Pebble's NoSync commit only copies the batch into a WAL buffer inside the
// process; a background goroutine writes it to the file later, so kill -9 can
// lose batches that Apply already acknowledged. A Sync commit instead waits
// until its WAL record has been written to the file and fsynced. To get
// "written to the OS, not fsynced" we always commit with pebble.Sync and,
// when Options.Sync is off, open Pebble on a file system whose WAL files turn
// fsync into a no-op while they are being appended to. Closing a WAL file (on
// rotation or Close) still fsyncs it, as Pebble always does, so only the
// active WAL's tail is exposed to power loss; Pebble's recovery tolerates a
// torn tail in the last WAL but treats one in an older WAL as corruption.

type pebbleStore struct {
	gate gate
	db   *pebble.DB
	dir  string
}

// OpenPebble opens (creating if needed) a Pebble-backed Store in opts.Dir.
func OpenPebble(opts Options) (Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("store: open pebble: Options.Dir is empty")
	}
	if err := otherEngine(opts.Dir, "pebble"); err != nil {
		return nil, fmt.Errorf("store: open pebble: %w", err)
	}
	if opts.CacheBytes < 0 {
		return nil, fmt.Errorf("store: open pebble: negative CacheBytes %d", opts.CacheBytes)
	}
	cacheBytes := opts.CacheBytes
	if cacheBytes == 0 {
		cacheBytes = DefaultCacheBytes
	}
	cache := pebble.NewCache(cacheBytes)
	// The DB takes its own reference; ours is dropped whatever Open returns.
	defer cache.Unref()

	var fs vfs.FS = vfs.Default
	if !opts.Sync {
		fs = walNoSyncFS{FS: vfs.Default}
	}
	po := &pebble.Options{
		FS:                 fs,
		Cache:              cache,
		FormatMajorVersion: pebble.FormatNewest,
		// Flush memtables holding range deletions soon, so that a dropped
		// partition's disk space is reclaimed without waiting for other
		// writes to fill the memtable.
		FlushDelayDeleteRange: 10 * time.Second,
		Logger:                quietLogger{},
		// Each write stores the key's whole sibling set again, so under
		// load the same keys are rewritten over and over. A memtable of 64
		// MiB instead of 4 absorbs the rewrites: fewer, smaller flushes
		// and compactions (measured with 1 KiB values, YCSB A: 113 -> 98
		// µs of node CPU per operation, p99 18.8 -> 12.4 ms). It is
		// allocated as it fills.
		MemTableSize: 64 << 20,
	}
	// Every read is a point read of one key, which without filters searches
	// the index and a data block of each overlapping table of every level;
	// bloom filters (10 bits per key, about 1% false positives) let it skip
	// the tables that cannot hold the key.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(opts.Dir, po)
	if err != nil {
		return nil, fmt.Errorf("store: open pebble in %s: %w", opts.Dir, err)
	}
	return &pebbleStore{db: db, dir: opts.Dir}, nil
}

func (s *pebbleStore) Get(partition uint32, key []byte) ([]byte, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	if err := checkKey("get", partition, key); err != nil {
		return nil, err
	}
	v, closer, err := s.db.Get(EncodeKey(NamespaceData, partition, key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: get partition %d key %q: %w", partition, key, err)
	}
	// v is only valid until closer is closed.
	out := append(make([]byte, 0, len(v)), v...)
	if err := closer.Close(); err != nil {
		return nil, fmt.Errorf("store: get partition %d key %q: release: %w", partition, key, err)
	}
	return out, nil
}

func (s *pebbleStore) Apply(b *Batch) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := b.validate(); err != nil {
		return err
	}
	n := len(b.ops)
	if n == 0 {
		return nil
	}
	pb := s.db.NewBatch()
	defer pb.Close()
	var kb [128]byte // Set and Delete copy the key
	for _, o := range b.ops {
		k := AppendKey(kb[:0], NamespaceData, o.partition, o.key)
		var err error
		switch o.kind {
		case opPut:
			err = pb.Set(k, o.value, nil)
		case opDelete:
			err = pb.Delete(k, nil)
		}
		if err != nil {
			return fmt.Errorf("store: apply batch of %d ops: encode: %w", n, err)
		}
	}
	// Always Sync: see the note at the top of this file.
	if err := s.db.Apply(pb, pebble.Sync); err != nil {
		return fmt.Errorf("store: apply batch of %d ops: %w", n, err)
	}
	return nil
}

func (s *pebbleStore) Scan(partition uint32, after []byte, limit int, fn func(key, value []byte) error) (next []byte, err error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	if fn == nil {
		return nil, fmt.Errorf("store: scan partition %d: nil callback", partition)
	}
	lower, upper := PartitionBounds(NamespaceData, partition)
	if after != nil {
		// The smallest key greater than after is after+0x00.
		lower = append(EncodeKey(NamespaceData, partition, after), 0)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("store: scan partition %d: %w", partition, err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			next, err = nil, fmt.Errorf("store: scan partition %d: close iterator: %w", partition, cerr)
		}
	}()

	seen := 0
	var last []byte
	for ok := it.First(); ok; ok = it.Next() {
		if limit > 0 && seen == limit {
			// One more entry exists, so the caller must come back for it.
			return last, nil
		}
		v, verr := it.ValueAndErr()
		if verr != nil {
			return nil, fmt.Errorf("store: scan partition %d: read value: %w", partition, verr)
		}
		key := it.Key()[PrefixLen:]
		if ferr := fn(key, v); ferr != nil {
			return nil, ferr
		}
		seen++
		if limit > 0 && seen == limit {
			last = append(last[:0], key...)
		}
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("store: scan partition %d: %w", partition, err)
	}
	return nil, nil
}

func (s *pebbleStore) DropPartition(partition uint32) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	lower, upper := PartitionBounds(NamespaceData, partition)
	if err := s.db.DeleteRange(lower, upper, pebble.Sync); err != nil {
		return fmt.Errorf("store: drop partition %d: %w", partition, err)
	}
	return nil
}

func (s *pebbleStore) PartitionStats(partition uint32) (keys int, bytes int64, err error) {
	if err := s.gate.enter(); err != nil {
		return 0, 0, err
	}
	defer s.gate.leave()
	lower, upper := PartitionBounds(NamespaceData, partition)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, 0, fmt.Errorf("store: stats of partition %d: %w", partition, err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		keys++
		// A lazy value knows its length without fetching separated values.
		lv := it.LazyValue()
		bytes += int64(len(it.Key())-PrefixLen) + int64(lv.Len())
	}
	err = errors.Join(it.Error(), it.Close())
	if err != nil {
		return 0, 0, fmt.Errorf("store: stats of partition %d: %w", partition, err)
	}
	return keys, bytes, nil
}

func (s *pebbleStore) Close() error {
	if err := s.gate.close(); err != nil {
		return err
	}
	// Closing the WAL fsyncs it, so a clean Close loses nothing.
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close pebble in %s: %w", s.dir, err)
	}
	return nil
}

// walWriteback is how much WAL a walFile lets accumulate in the page cache
// before it asks the kernel to start writing it to disk.
const walWriteback = 1 << 20

// walNoSyncFS makes fsync a no-op for WAL files while they are written; see
// the note at the top of this file. All other files are untouched.
type walNoSyncFS struct {
	vfs.FS
}

func isWAL(name string) bool { return strings.HasSuffix(name, ".log") }

func (fs walNoSyncFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	if err != nil || !isWAL(name) {
		return f, err
	}
	return &walFile{File: f}, nil
}

func (fs walNoSyncFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	if err != nil || !isWAL(newname) {
		return f, err
	}
	return &walFile{File: f}, nil
}

func (fs walNoSyncFS) Unwrap() vfs.FS { return fs.FS }

// walFile is an active WAL: appends reach the OS on Write, and fsync is
// deferred to Close. Close's fsync stalls every commit while Pebble
// switches memtables, and it has to write out whatever is still dirty: a
// whole 64 MiB WAL took 40-70 ms here, each time a memtable filled. So
// each call that would have synced starts the writeback of what has
// accumulated since the last one once that passes walWriteback, without
// waiting for it, and Close finds little left to write.
type walFile struct {
	vfs.File
	written atomic.Int64 // bytes appended
	started atomic.Int64 // writeback asked for up to here
}

func (f *walFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	f.written.Add(int64(n))
	return n, err
}

func (f *walFile) Sync() error     { f.writeback(); return nil }
func (f *walFile) SyncData() error { f.writeback(); return nil }
func (f *walFile) SyncTo(int64) (fullSync bool, err error) {
	f.writeback()
	return false, nil
}

func (f *walFile) writeback() {
	from, to := f.started.Load(), f.written.Load()
	to -= to % 4096 // whole pages: the last one is still being appended to
	if to-from < walWriteback {
		return
	}
	if fd := f.Fd(); fd != vfs.InvalidFd {
		startWriteback(fd, from, to-from)
	}
	f.started.Store(to)
}

func (f *walFile) Close() error {
	return errors.Join(f.File.Sync(), f.File.Close())
}

// quietLogger drops Pebble's informational chatter but keeps its errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	pebble.DefaultLogger.Errorf(format, args...)
}
func (quietLogger) Fatalf(format string, args ...any) {
	pebble.DefaultLogger.Fatalf(format, args...)
}
