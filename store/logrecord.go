package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The log store's record format.
//
// A segment file is a sequence of records, one per applied batch:
//
//	u32 body length | u32 CRC-32C of the body | body
//
// The body is a uvarint count of operations, then each operation:
//
//	kind byte | u32 partition | uvarint key length | key
//	put:  uvarint value length | value | u32 CRC-32C of key and value
//
// (integers little-endian). The record's CRC makes a batch all or nothing
// on recovery: a record cut short or damaged is not applied at all. The
// CRC of each put covers what a Get reads back, so that a read from a
// segment is checked without reading its whole record.

var crcTable = crc32.MakeTable(crc32.Castagnoli)

const (
	recordHeader = 8
	// maxRecordBody bounds one record, so that a damaged length cannot make
	// recovery allocate without limit.
	maxRecordBody = 1 << 30
	logOpDrop     = opKind(2) // every key of a partition, at once
)

var (
	// errShortRecord is a record that ends past the end of the segment: the
	// tail of a write that did not finish.
	errShortRecord = errors.New("record cut short")
	// errCorruptRecord is a record whose bytes do not match its CRC or
	// cannot be parsed.
	errCorruptRecord = errors.New("record damaged")
)

// logOp is one decoded operation; key and value alias the record.
type logOp struct {
	kind      opKind
	partition uint32
	key       []byte
	value     []byte
	// keyAt is the offset of the key from the start of the record, where a
	// Get starts reading (key, value, CRC).
	keyAt int
}

// appendRecord appends the record of ops to dst.
func appendRecord(dst []byte, ops []op) []byte {
	dst, _ = appendRecordAt(dst, ops, nil)
	return dst
}

// appendRecordAt appends the record of ops to dst, and to keyAt where each
// op's key starts, counted from the record's start: what the index needs,
// so that a record just written is indexed without parsing it again.
func appendRecordAt(dst []byte, ops []op, keyAt []int) ([]byte, []int) {
	start := len(dst)
	dst = append(dst, make([]byte, recordHeader)...)
	dst = binary.AppendUvarint(dst, uint64(len(ops)))
	for _, o := range ops {
		dst = append(dst, byte(o.kind))
		dst = binary.LittleEndian.AppendUint32(dst, o.partition)
		dst = binary.AppendUvarint(dst, uint64(len(o.key)))
		at := len(dst)
		keyAt = append(keyAt, at-start)
		dst = append(dst, o.key...)
		if o.kind == opPut {
			dst = binary.AppendUvarint(dst, uint64(len(o.value)))
			dst = append(dst, o.value...)
			c := crc32.Update(crc32.Update(0, crcTable, dst[at:at+len(o.key)]), crcTable, o.value)
			dst = binary.LittleEndian.AppendUint32(dst, c)
		}
	}
	body := dst[start+recordHeader:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(body, crcTable))
	return dst, keyAt
}

// recordLen reads the length of a record's body from its header.
func recordLen(header []byte) (int, error) {
	n := binary.LittleEndian.Uint32(header)
	if n == 0 || n > maxRecordBody {
		return 0, fmt.Errorf("%w: body length %d", errCorruptRecord, n)
	}
	return int(n), nil
}

// putKeyAt is where the key starts in a record of one put whose key has
// klen bytes: after the header, the op count, the kind, the partition and
// the key's length.
func putKeyAt(klen int) int { return recordHeader + 1 + 1 + 4 + uvarintLen(uint64(klen)) }

// decodeBody checks a record's body against its CRC and calls fn for each
// operation; offsets in logOp.keyAt count from the record's start.
func decodeBody(body []byte, crc uint32, fn func(logOp)) error {
	if crc32.Checksum(body, crcTable) != crc {
		return fmt.Errorf("%w: CRC mismatch", errCorruptRecord)
	}
	return decodeOps(body, fn)
}

// decodeOps parses a record's body, calling fn for each operation once the
// whole body has parsed.
func decodeOps(body []byte, fn func(logOp)) error {
	r := body
	count, n := binary.Uvarint(r)
	if n <= 0 || count > uint64(len(body)) {
		return fmt.Errorf("%w: operation count", errCorruptRecord)
	}
	r = r[n:]
	var opsBuf [4]logOp
	ops := opsBuf[:0]
	for i := uint64(0); i < count; i++ {
		if len(r) < 5 {
			return fmt.Errorf("%w: operation %d", errCorruptRecord, i)
		}
		o := logOp{kind: opKind(r[0]), partition: binary.LittleEndian.Uint32(r[1:5])}
		r = r[5:]
		kl, n := binary.Uvarint(r)
		if n <= 0 || kl > uint64(len(r)-n) {
			return fmt.Errorf("%w: key of operation %d", errCorruptRecord, i)
		}
		r = r[n:]
		o.keyAt = recordHeader + len(body) - len(r)
		o.key, r = r[:kl:kl], r[kl:]
		switch o.kind {
		case opPut:
			vl, n := binary.Uvarint(r)
			if n <= 0 || vl > uint64(len(r)-n) || uint64(len(r)-n)-vl < 4 {
				return fmt.Errorf("%w: value of operation %d", errCorruptRecord, i)
			}
			r = r[n:]
			o.value, r = r[:vl:vl], r[vl+4:]
		case opDelete:
			if kl == 0 {
				return fmt.Errorf("%w: delete %d without a key", errCorruptRecord, i)
			}
		case logOpDrop:
			if kl != 0 {
				return fmt.Errorf("%w: drop %d with a key", errCorruptRecord, i)
			}
		default:
			return fmt.Errorf("%w: operation %d of kind %d", errCorruptRecord, i, o.kind)
		}
		if o.kind != logOpDrop && kl == 0 {
			return fmt.Errorf("%w: operation %d without a key", errCorruptRecord, i)
		}
		ops = append(ops, o)
	}
	if len(r) != 0 {
		return fmt.Errorf("%w: %d bytes after the last operation", errCorruptRecord, len(r))
	}
	// Only a whole record is applied.
	for _, o := range ops {
		fn(o)
	}
	return nil
}

// putSpan is how many bytes a Get reads for a put whose key and value have
// these lengths: the key, the value's length, the value and its CRC.
func putSpan(klen, vlen int) int {
	return klen + uvarintLen(uint64(vlen)) + vlen + 4
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// checkPut verifies what a Get read at a put's key: the key it expects,
// then the value and its CRC; it returns the value, aliasing span.
func checkPut(span, key []byte) ([]byte, error) {
	if len(span) < len(key)+5 || string(span[:len(key)]) != string(key) {
		return nil, fmt.Errorf("%w: the index points at another key", errCorruptRecord)
	}
	r := span[len(key):]
	vl, n := binary.Uvarint(r)
	if n <= 0 || uint64(len(r)-n) != vl+4 {
		return nil, fmt.Errorf("%w: value length", errCorruptRecord)
	}
	v := r[n : n+int(vl)]
	want := binary.LittleEndian.Uint32(r[n+int(vl):])
	if crc32.Update(crc32.Update(0, crcTable, key), crcTable, v) != want {
		return nil, fmt.Errorf("%w: value CRC mismatch", errCorruptRecord)
	}
	return v, nil
}

// crcOf returns the CRC a record's header holds.
func crcOf(header []byte) uint32 { return binary.LittleEndian.Uint32(header[4:]) }
