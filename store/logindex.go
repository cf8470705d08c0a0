package store

import (
	"os"
	"sync/atomic"

	"github.com/google/btree"
)

// The log store's index and segments: where each key's value lies.

// segment is one file of the log. Segments are named by id; the active one
// (the highest) takes appends, the others are read only. Even ids are
// written by Apply, odd ones by a merge (see logmerge.go).
type segment struct {
	id   uint64
	path string
	f    *os.File
	size int64 // bytes of whole records; under the store's lock
	// live is the footprint of the index's entries that point into the
	// segment; under the store's lock.
	live int64
	// synced is how much of the file is known to be on disk.
	synced atomic.Int64
	// refs counts a reference held while the segment is in the store's
	// list, plus one per read in flight; the file is closed, and removed
	// if retired, when it falls to zero.
	refs    atomic.Int32
	retired atomic.Bool
}

func (sg *segment) acquire() { sg.refs.Add(1) }

func (sg *segment) release() {
	if sg.refs.Add(-1) != 0 {
		return
	}
	_ = sg.f.Close()
	if sg.retired.Load() {
		_ = os.Remove(sg.path)
	}
}

// logLoc is where a Get reads a key's put: span bytes at off in seg.
type logLoc struct {
	seg  *segment
	off  int64
	span int32
}

// footprint is what a put takes in its segment, header share included,
// for the store's count of live bytes.
func (l logLoc) footprint() int64 { return int64(l.span) + 7 }

type logEntry struct {
	key  string
	loc  logLoc
	vlen int
}

// logPartition is the index of one partition: a map for point reads and
// writes, which an overwrite (the common write) touches alone, and the
// keys in order for scans.
type logPartition struct {
	locs  map[string]*logEntry
	keys  *btree.BTreeG[string]
	bytes int64 // keys' and values' lengths, for PartitionStats
}

func newLogPartition() *logPartition {
	return &logPartition{locs: make(map[string]*logEntry), keys: btree.NewG(32, func(a, b string) bool { return a < b })}
}

// ascend calls fn for the entries from the first key at or after from (all
// with from nil) in key order, until fn returns false.
func (p *logPartition) ascend(from []byte, fn func(*logEntry) bool) {
	visit := func(k string) bool { return fn(p.locs[k]) }
	if from == nil {
		p.keys.Ascend(visit)
		return
	}
	p.keys.AscendGreaterOrEqual(string(from), visit)
}

// logIndex maps every live key to its value's place. Callers hold the
// store's lock.
type logIndex struct {
	parts map[uint32]*logPartition
	live  int64 // footprints of the entries
}

func newLogIndex() logIndex { return logIndex{parts: make(map[uint32]*logPartition)} }

func (ix *logIndex) get(partition uint32, key []byte) (logEntry, bool) {
	p := ix.parts[partition]
	if p == nil {
		return logEntry{}, false
	}
	if e := p.locs[string(key)]; e != nil {
		return *e, true
	}
	return logEntry{}, false
}

// put points key at loc.
func (ix *logIndex) put(partition uint32, key []byte, loc logLoc, vlen int) {
	p := ix.parts[partition]
	if p == nil {
		p = newLogPartition()
		ix.parts[partition] = p
	}
	e := p.locs[string(key)]
	if e != nil {
		ix.forget(p, *e)
	} else {
		e = &logEntry{key: string(key)}
		p.locs[e.key] = e
		p.keys.ReplaceOrInsert(e.key)
	}
	e.loc, e.vlen = loc, vlen
	p.bytes += int64(len(e.key) + vlen)
	ix.live += loc.footprint()
	loc.seg.live += loc.footprint()
}

func (ix *logIndex) remove(partition uint32, key []byte) {
	p := ix.parts[partition]
	if p == nil {
		return
	}
	if e := p.locs[string(key)]; e != nil {
		ix.forget(p, *e)
		delete(p.locs, e.key)
		p.keys.Delete(e.key)
	}
	if len(p.locs) == 0 {
		delete(ix.parts, partition)
	}
}

func (ix *logIndex) drop(partition uint32) {
	p := ix.parts[partition]
	if p == nil {
		return
	}
	for _, e := range p.locs {
		ix.live -= e.loc.footprint()
		e.loc.seg.live -= e.loc.footprint()
	}
	delete(ix.parts, partition)
}

func (ix *logIndex) forget(p *logPartition, e logEntry) {
	p.bytes -= int64(len(e.key) + e.vlen)
	ix.live -= e.loc.footprint()
	e.loc.seg.live -= e.loc.footprint()
}

// apply indexes one decoded operation of a record at recordAt in seg.
func (ix *logIndex) apply(o logOp, seg *segment, recordAt int64) {
	switch o.kind {
	case opPut:
		loc := logLoc{seg: seg, off: recordAt + int64(o.keyAt), span: int32(putSpan(len(o.key), len(o.value)))}
		ix.put(o.partition, o.key, loc, len(o.value))
	case opDelete:
		ix.remove(o.partition, o.key)
	case logOpDrop:
		ix.drop(o.partition)
	}
}
