// Package intern turns the short strings that recur in every message
// (member IDs in dots and clocks, field keys) into shared strings instead
// of a new allocation per decode.
//
// The table is a fixed array of slots, each holding the last string that
// hashed to it: no lock, no growth, and a string that is rare only costs
// the allocation it would have cost anyway. It is safe for concurrent use.
package intern

import (
	"io"
	"sync/atomic"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// MaxLen is the longest string kept; longer ones are allocated as usual.
const MaxLen = 32

const slots = 1 << 9

var table [slots]atomic.Pointer[string]

// Bytes returns string(b), shared with earlier calls for the same bytes
// when b is at most MaxLen long.
func Bytes(b []byte) string {
	if len(b) > MaxLen || len(b) == 0 {
		return string(b)
	}
	h := uint32(2166136261) // FNV-1a
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	slot := &table[h&(slots-1)]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}

// Decode reads a msgpack string as Decoder.DecodeString does. A fixed
// string (up to 31 bytes: field keys, member IDs) is read straight from
// the decoder's reader and interned, without an allocation once it is
// known; anything else is left to DecodeString.
func Decode(d *msgpack.Decoder) (string, error) {
	c, err := d.PeekCode()
	if err != nil {
		return "", err
	}
	br, ok := d.Buffered().(io.ByteReader)
	if !ok || !msgpcode.IsFixedString(c) {
		return d.DecodeString()
	}
	if _, err := br.ReadByte(); err != nil { // the code, peeked above
		return "", err
	}
	// Byte by byte: a slice handed to the reader would go through an
	// interface and put buf on the heap.
	var buf [MaxLen]byte
	n := int(c & msgpcode.FixedStrMask)
	for i := 0; i < n; i++ {
		if buf[i], err = br.ReadByte(); err != nil {
			return "", io.ErrUnexpectedEOF
		}
	}
	return Bytes(buf[:n]), nil
}
