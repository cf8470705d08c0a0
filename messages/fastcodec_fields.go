package messages

import (
	"fmt"

	"github.com/dynamokv/dynamo/internal/mpbuf"
)

// Hand-written msgpack for the messages sent most often (fastcodec.go,
// fastcodec_client.go, fastcodec_replica.go). Each appends the bytes
// msgpack's reflection writes for the struct tags with UseCompactInts: the
// same keys in field order, omitempty fields left out when zero, nil
// slices and clocks as nil. (By default reflection writes uint32 and
// uint64 fields at full width, 5 and 9 bytes; every decoder reads either
// form, so either side may use either.) Each decoder starts from a zero
// struct and reads nil and empty values as reflection does: nil stays nil,
// an empty byte string or array is an empty non-nil slice. Encoding
// appends to the frame and decoding indexes the frame's bytes
// (internal/mpbuf): a stream decoder's interface call per byte was a
// tenth of a node's CPU.

// sliceCodec is what a message with a hand-written codec implements; the
// registry and AppendFrame use it instead of msgpack's reflection.
type sliceCodec interface {
	appendBody(dst []byte) []byte
	decodeFrom(r *mpbuf.Reader) error
}

// maxPrealloc bounds the slice allocated for an array before its elements
// have been read: the length in the header is untrusted.
const maxPrealloc = 64

// readFields reads a map and calls field for each key; field returns
// false for a key it does not know, which is then skipped, so that newer
// senders may add fields.
func readFields(r *mpbuf.Reader, what string, field func(key []byte) (bool, error)) error {
	n, err := r.MapLen()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for i := 0; i < n; i++ {
		key, err := r.View()
		if err != nil {
			return fmt.Errorf("%s key: %w", what, err)
		}
		known, err := field(key)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", what, key, err)
		}
		if !known {
			if err := r.Skip(); err != nil {
				return fmt.Errorf("%s.%s: %w", what, key, err)
			}
		}
	}
	return nil
}

// appendKey appends a field's key.
func appendKey(dst []byte, key string) []byte { return mpbuf.AppendString(dst, key) }

// appendBytesList writes a [][]byte as reflection does: nil as nil,
// otherwise an array of byte strings (a nil element as nil).
func appendBytesList(dst []byte, v [][]byte) []byte {
	if v == nil {
		return mpbuf.AppendNil(dst)
	}
	dst = mpbuf.AppendArrayLen(dst, len(v))
	for _, b := range v {
		dst = mpbuf.AppendBytes(dst, b)
	}
	return dst
}

// readBytesList reads what appendBytesList writes: nil as nil, an empty
// array as an empty non-nil slice, as reflection does.
func readBytesList(r *mpbuf.Reader) ([][]byte, error) {
	n, err := r.ArrayLen()
	if err != nil || n < 0 {
		return nil, err
	}
	out := make([][]byte, 0, min(n, maxPrealloc))
	for i := 0; i < n; i++ {
		b, err := r.Bytes()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
