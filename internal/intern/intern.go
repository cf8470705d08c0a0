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

// Decode reads a msgpack string (or byte string, or nil for "") as
// Decoder.DecodeString does, interning it when it is short.
func Decode(d *msgpack.Decoder) (string, error) {
	n, err := d.DecodeBytesLen()
	if err != nil || n <= 0 {
		return "", err
	}
	if n > MaxLen {
		// The length is untrusted: grow with what actually arrives.
		var b []byte
		for len(b) < n {
			k := min(n-len(b), 4096)
			b = append(b, make([]byte, k)...)
			if err := d.ReadFull(b[len(b)-k:]); err != nil {
				return "", err
			}
		}
		return string(b), nil
	}
	var buf [MaxLen]byte
	// Byte by byte from the decoder's reader: a slice handed to ReadFull
	// goes through an interface and would put buf on the heap.
	if br, ok := d.Buffered().(io.ByteReader); ok {
		for i := 0; i < n; i++ {
			c, err := br.ReadByte()
			if err != nil {
				return "", io.ErrUnexpectedEOF
			}
			buf[i] = c
		}
		return Bytes(buf[:n]), nil
	}
	b := make([]byte, n)
	if err := d.ReadFull(b); err != nil {
		return "", err
	}
	return Bytes(b), nil
}
