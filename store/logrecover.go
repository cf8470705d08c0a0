package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Recovery: the index is rebuilt by replaying the segments in order.
//
// A merge writes the live values of every segment below its own id into
// one new segment (an odd id, just above theirs) and then removes them; a
// crash may leave some of them behind. They hold nothing the merged
// segment lacks, so recovery removes every segment below the highest
// merged one, whichever the merge had removed, and replays from it.

func (s *logStore) recover() error {
	names, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var ids []uint64
	var merged uint64
	for _, de := range names {
		name := de.Name()
		switch {
		case strings.HasSuffix(name, ".seg.tmp"):
			// A merge that did not finish.
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
				return err
			}
		case strings.HasSuffix(name, ".seg"):
			id, err := strconv.ParseUint(strings.TrimSuffix(name, ".seg"), 16, 64)
			if err != nil || id == 0 {
				return fmt.Errorf("unexpected file %s among the segments", name)
			}
			ids = append(ids, id)
			if id%2 == 1 {
				merged = max(merged, id)
			}
		}
	}
	slices.Sort(ids)
	for i, id := range ids {
		if id < merged {
			if err := os.Remove(segmentPath(s.dir, id)); err != nil {
				return err
			}
			continue
		}
		seg, err := s.replay(id, i == len(ids)-1)
		if err != nil {
			return err
		}
		s.segs = append(s.segs, seg)
		s.total += seg.size
	}
	if len(s.segs) == 0 || s.active().id%2 == 1 {
		next := uint64(2)
		if len(s.segs) > 0 {
			next = s.active().id + 1
		}
		seg, err := createSegment(s.dir, next)
		if err != nil {
			return err
		}
		s.segs = append(s.segs, seg)
	}
	return nil
}

// replay indexes the records of segment id. In the last segment a damaged
// or unfinished tail is what a crash leaves (a power loss, or a write cut
// short): it is cut off. Anywhere else it is damage, and an error.
func (s *logStore) replay(id uint64, last bool) (*segment, error) {
	path := segmentPath(s.dir, id)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	seg := &segment{id: id, path: path, f: f}
	seg.refs.Store(1)
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 1<<20)
	var header [recordHeader]byte
	var body []byte
	var at int64
	for {
		err := readRecord(r, header[:], &body)
		if err == io.EOF {
			break
		}
		if err == nil {
			err = decodeBody(body, crcOf(header[:]), func(o logOp) { s.index.apply(o, seg, at) })
		}
		if err != nil {
			if !last || !isTail(f, at, err, len(body)) {
				seg.release()
				return nil, fmt.Errorf("segment %s at offset %d: %w", filepath.Base(path), at, err)
			}
			if err := f.Truncate(at); err != nil {
				seg.release()
				return nil, fmt.Errorf("segment %s: cut off its damaged tail at %d: %w", filepath.Base(path), at, err)
			}
			break
		}
		at += int64(recordHeader + len(body))
	}
	seg.size = at
	return seg, nil
}

// isTail reports whether err, met reading the record at offset at of a
// segment's file, is the unfinished or damaged last record that a crash
// leaves, rather than damage before other records.
func isTail(f *os.File, at int64, err error, bodyLen int) bool {
	if errors.Is(err, errShortRecord) {
		return true
	}
	if !errors.Is(err, errCorruptRecord) {
		return false
	}
	fi, serr := f.Stat()
	return serr == nil && at+int64(recordHeader+bodyLen) >= fi.Size()
}

// readRecord reads one record's header and body; io.EOF means the segment
// ended between records.
func readRecord(r *bufio.Reader, header []byte, body *[]byte) error {
	// Until a length is read, the body is empty, not the last record's.
	*body = (*body)[:0]
	if _, err := io.ReadFull(r, header); err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return errShortRecord
	}
	n, err := recordLen(header)
	if err != nil {
		return err
	}
	if cap(*body) < n {
		*body = make([]byte, n)
	}
	*body = (*body)[:n]
	if _, err := io.ReadFull(r, *body); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
			return errShortRecord
		}
		return err
	}
	return nil
}
