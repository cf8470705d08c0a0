package messages

import (
	"github.com/dynamokv/dynamo/version"
	"github.com/vmihailenco/msgpack/v5"
)

// Hand-written msgpack for the key-value messages (kv.go), in the style of
// fastcodec.go. Each encoder writes the bytes msgpack's reflection writes
// for the struct tags with UseCompactInts: the same keys in field order,
// omitempty fields left out when zero, nil slices and clocks as nil. (By
// default reflection writes uint32 and uint64 fields at full width, 5 and
// 9 bytes; every decoder reads either form.) Each decoder zeroes its
// struct first, so that fields absent from the input are zero even in a
// reused struct, and reads nil and empty values as reflection does: nil
// stays nil, an empty byte string or array is an empty non-nil slice.

// maxPrealloc bounds the slice allocated for an array before its elements
// have been read: the length in the header is untrusted.
const maxPrealloc = 64

// fieldWriter writes a map's fields in turn and keeps the first error, so
// that an encoder reads as the list of its fields. Each field is its key,
// then its value.
type fieldWriter struct {
	e   *msgpack.Encoder
	err error
}

// field writes key and, if that went well, the value put writes.
func (w *fieldWriter) field(key string, put func() error) {
	if w.err == nil {
		if w.err = w.e.EncodeString(key); w.err == nil {
			w.err = put()
		}
	}
}

func (w *fieldWriter) mapLen(n int) {
	if w.err == nil {
		w.err = w.e.EncodeMapLen(n)
	}
}

func (w *fieldWriter) uint(key string, v uint64) {
	w.field(key, func() error { return w.e.EncodeUint(v) })
}
func (w *fieldWriter) int(key string, v int64) {
	w.field(key, func() error { return w.e.EncodeInt(v) })
}
func (w *fieldWriter) bytes(key string, v []byte) {
	w.field(key, func() error { return w.e.EncodeBytes(v) })
}
func (w *fieldWriter) str(key, v string) { w.field(key, func() error { return w.e.EncodeString(v) }) }
func (w *fieldWriter) bool(key string, v bool) {
	w.field(key, func() error { return w.e.EncodeBool(v) })
}
func (w *fieldWriter) clock(key string, v version.Clock) {
	w.field(key, func() error { return v.EncodeMsgpack(w.e) })
}
func (w *fieldWriter) siblings(key string, v version.Siblings) {
	w.field(key, func() error { return v.EncodeMsgpack(w.e) })
}
func (w *fieldWriter) version(key string, v version.Version) {
	w.field(key, func() error { return v.EncodeMsgpack(w.e) })
}

// bytesList writes a [][]byte as reflection does: nil as nil, otherwise an
// array of byte strings (a nil element as nil).
func (w *fieldWriter) bytesList(key string, v [][]byte) {
	w.field(key, func() error {
		if v == nil {
			return w.e.EncodeNil()
		}
		if err := w.e.EncodeArrayLen(len(v)); err != nil {
			return err
		}
		for _, b := range v {
			if err := w.e.EncodeBytes(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// decodeBytesList reads what fieldWriter.bytesList writes: nil as nil, an
// empty array as an empty non-nil slice, as reflection does.
func decodeBytesList(d *msgpack.Decoder) ([][]byte, error) {
	n, err := d.DecodeArrayLen()
	if err != nil || n < 0 {
		return nil, err
	}
	out := make([][]byte, 0, min(n, maxPrealloc))
	for i := 0; i < n; i++ {
		b, err := d.DecodeBytes()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
