package version

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/dynamokv/dynamo/internal/intern"
	"slices"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// The hand-written codecs below produce exactly what msgpack's reflection
// would for the struct tags (with compact integers), so either side may
// use either form, but they never pay for reflection on the hot path.
// Field keys are one byte, so decoding them does not allocate.

var (
	// ErrClockUnsorted reports a decoded clock whose nodes are out of order.
	ErrClockUnsorted = errors.New("clock entries not sorted by node")
	// ErrClockDuplicate reports a decoded clock naming a node twice.
	ErrClockDuplicate = errors.New("duplicate node in clock")
	// ErrCorruptSiblings reports a stored sibling set that cannot be read.
	ErrCorruptSiblings = errors.New("version: corrupt sibling set")

	errTooDeep        = errors.New("msgpack nesting too deep")
	errTooManyEntries = errors.New("too many clock entries")
)

const (
	// maxSkipDepth bounds recursion when skipping unknown fields, so a
	// hostile input cannot make decoding recurse once per input byte.
	maxSkipDepth = 32
	// firstChunk is the most memory committed to a byte string before its
	// data has been seen.
	firstChunk = 512
)

func encodeTriple(e *msgpack.Encoder, node string, counter uint64, stamp int64) error {
	if err := e.EncodeMapLen(3); err != nil {
		return err
	}
	if err := e.EncodeString("n"); err != nil {
		return err
	}
	if err := e.EncodeString(node); err != nil {
		return err
	}
	if err := e.EncodeString("c"); err != nil {
		return err
	}
	if err := e.EncodeUint(counter); err != nil {
		return err
	}
	if err := e.EncodeString("t"); err != nil {
		return err
	}
	return e.EncodeInt(stamp)
}

func decodeTriple(d *msgpack.Decoder) (node string, counter uint64, stamp int64, err error) {
	n, err := d.DecodeMapLen()
	if err != nil {
		return "", 0, 0, err
	}
	for i := 0; i < n; i++ {
		var key string
		if key, err = decodeString(d); err != nil {
			return "", 0, 0, err
		}
		switch key {
		case "n":
			node, err = decodeString(d)
		case "c":
			counter, err = d.DecodeUint64()
		case "t":
			stamp, err = d.DecodeInt64()
		default:
			err = skipValue(d, 0)
		}
		if err != nil {
			return "", 0, 0, err
		}
	}
	return node, counter, stamp, nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (x Entry) EncodeMsgpack(e *msgpack.Encoder) error {
	return encodeTriple(e, x.Node, x.Counter, x.Stamp)
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (x *Entry) DecodeMsgpack(d *msgpack.Decoder) error {
	node, counter, stamp, err := decodeTriple(d)
	if err != nil {
		return err
	}
	*x = Entry{Node: node, Counter: counter, Stamp: stamp}
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (x Dot) EncodeMsgpack(e *msgpack.Encoder) error {
	return encodeTriple(e, x.Node, x.Counter, x.Stamp)
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (x *Dot) DecodeMsgpack(d *msgpack.Decoder) error {
	node, counter, stamp, err := decodeTriple(d)
	if err != nil {
		return err
	}
	*x = Dot{Node: node, Counter: counter, Stamp: stamp}
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (c Clock) EncodeMsgpack(e *msgpack.Encoder) error {
	if c == nil {
		return e.EncodeNil()
	}
	if err := e.EncodeArrayLen(len(c)); err != nil {
		return err
	}
	for _, x := range c {
		if err := encodeTriple(e, x.Node, x.Counter, x.Stamp); err != nil {
			return err
		}
	}
	return nil
}

// DecodeMsgpack implements msgpack.CustomDecoder. It rejects clocks that
// break the sorted, one-entry-per-node invariant every method relies on.
func (c *Clock) DecodeMsgpack(d *msgpack.Decoder) error {
	v, err := decodeClock(d, -1)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// decodeClock reads a clock of at most limit entries (no bound if limit < 0).
func decodeClock(d *msgpack.Decoder, limit int) (Clock, error) {
	n, err := d.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, nil
	}
	if limit >= 0 && n > limit {
		return nil, fmt.Errorf("%w: %d > %d", errTooManyEntries, n, limit)
	}
	// The header is untrusted; grow with the entries actually decoded.
	c := make(Clock, 0, min(n, 16))
	for i := 0; i < n; i++ {
		node, counter, stamp, err := decodeTriple(d)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			switch prev := c[i-1].Node; {
			case node == prev:
				return nil, fmt.Errorf("%w: %q", ErrClockDuplicate, node)
			case node < prev:
				return nil, fmt.Errorf("%w: %q after %q", ErrClockUnsorted, node, prev)
			}
		}
		c = append(c, Entry{Node: node, Counter: counter, Stamp: stamp})
	}
	return c, nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (v Version) EncodeMsgpack(e *msgpack.Encoder) error {
	if err := e.EncodeMapLen(4); err != nil {
		return err
	}
	if err := e.EncodeString("d"); err != nil {
		return err
	}
	if err := encodeTriple(e, v.Dot.Node, v.Dot.Counter, v.Dot.Stamp); err != nil {
		return err
	}
	if err := e.EncodeString("c"); err != nil {
		return err
	}
	if err := v.Context.EncodeMsgpack(e); err != nil {
		return err
	}
	if err := e.EncodeString("v"); err != nil {
		return err
	}
	if err := e.EncodeBytes(v.Value); err != nil {
		return err
	}
	if err := e.EncodeString("x"); err != nil {
		return err
	}
	return e.EncodeBool(v.Deleted)
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (v *Version) DecodeMsgpack(d *msgpack.Decoder) error {
	n, err := d.DecodeMapLen()
	if err != nil {
		return err
	}
	var out Version
	for i := 0; i < n; i++ {
		key, err := decodeString(d)
		if err != nil {
			return err
		}
		switch key {
		case "d":
			err = out.Dot.DecodeMsgpack(d)
		case "c":
			out.Context, err = decodeClock(d, -1)
		case "v":
			out.Value, err = decodeBytes(d)
		case "x":
			out.Deleted, err = d.DecodeBool()
		default:
			err = skipValue(d, 0)
		}
		if err != nil {
			return err
		}
	}
	*v = out
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (s Siblings) EncodeMsgpack(e *msgpack.Encoder) error {
	if s == nil {
		return e.EncodeNil()
	}
	if err := e.EncodeArrayLen(len(s)); err != nil {
		return err
	}
	for _, v := range s {
		if err := v.EncodeMsgpack(e); err != nil {
			return err
		}
	}
	return nil
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (s *Siblings) DecodeMsgpack(d *msgpack.Decoder) error {
	n, err := d.DecodeArrayLen()
	if err != nil {
		return err
	}
	if n < 0 {
		*s = nil
		return nil
	}
	out := make(Siblings, 0, min(n, 8))
	for i := 0; i < n; i++ {
		var v Version
		if err := v.DecodeMsgpack(d); err != nil {
			return err
		}
		out = append(out, v)
	}
	*s = out
	return nil
}

// MarshalBinary encodes the sibling set for storage.
func (s Siblings) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(s.sizeHint())
	enc := msgpack.GetEncoder()
	enc.Reset(&buf)
	err := s.EncodeMsgpack(enc)
	msgpack.PutEncoder(enc)
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sizeHint over-estimates the encoded size so encoding allocates once.
func (s Siblings) sizeHint() int {
	n := 5
	for _, v := range s {
		n += 48 + len(v.Dot.Node) + len(v.Value)
		for _, e := range v.Context {
			n += 26 + len(e.Node)
		}
	}
	return n
}

// UnmarshalSiblings decodes a set written by MarshalBinary. Any damage,
// including trailing bytes or a version without a dot, is reported as an
// error wrapping ErrCorruptSiblings.
func UnmarshalSiblings(data []byte) (Siblings, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrCorruptSiblings)
	}
	r := bytes.NewReader(data)
	dec := msgpack.GetDecoder()
	dec.Reset(r)
	var s Siblings
	err := s.DecodeMsgpack(dec)
	msgpack.PutDecoder(dec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptSiblings, err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorruptSiblings, r.Len())
	}
	for i, v := range s {
		if v.Dot.Node == "" || v.Dot.Counter == 0 {
			return nil, fmt.Errorf("%w: version %d has no dot", ErrCorruptSiblings, i)
		}
	}
	return s, nil
}

// decodeBytes reads a bin or str value; nil stays nil. The buffer grows
// as data actually arrives, so a forged length in a short input costs
// little memory; msgpack's own readers would allocate up to a megabyte.
func decodeBytes(d *msgpack.Decoder) ([]byte, error) {
	n, err := d.DecodeBytesLen()
	if err != nil || n < 0 {
		return nil, err
	}
	b := make([]byte, 0, min(n, firstChunk))
	for len(b) < n {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(n-len(b), len(b)))
		}
		start := len(b)
		b = b[:min(n, cap(b))]
		if err := d.ReadFull(b[start:]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// decodeString is DecodeString with the same protection as decodeBytes.
// Short strings, which is all well-formed input has, take the fast path.
func decodeString(d *msgpack.Decoder) (string, error) {
	c, err := d.PeekCode()
	if err != nil {
		return "", err
	}
	if msgpcode.IsFixedString(c) {
		// Keys and member IDs: short, and the same in every message.
		return intern.Decode(d)
	}
	if c == msgpcode.Str8 || c == msgpcode.Bin8 || c == msgpcode.Nil {
		return d.DecodeString()
	}
	b, err := decodeBytes(d)
	return string(b), err
}

// discard skips n bytes without holding them all in memory.
func discard(d *msgpack.Decoder, n int) error {
	buf := make([]byte, min(n, firstChunk))
	for n > 0 {
		k := min(n, len(buf))
		if err := d.ReadFull(buf[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// skipValue skips one value of an unknown field with bounded recursion.
func skipValue(d *msgpack.Decoder, depth int) error {
	if depth > maxSkipDepth {
		return errTooDeep
	}
	c, err := d.PeekCode()
	if err != nil {
		return err
	}
	n := 0
	switch {
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err = d.DecodeArrayLen()
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err = d.DecodeMapLen()
		n *= 2
	case c == msgpcode.Str16 || c == msgpcode.Str32 || c == msgpcode.Bin16 || c == msgpcode.Bin32:
		if n, err = d.DecodeBytesLen(); err != nil {
			return err
		}
		return discard(d, n)
	case c == msgpcode.Ext16 || c == msgpcode.Ext32:
		if _, n, err = d.DecodeExtHeader(); err != nil {
			return err
		}
		return discard(d, n)
	default:
		// Everything else is a scalar or at most 255 bytes long.
		return d.Skip()
	}
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if err := skipValue(d, depth+1); err != nil {
			return err
		}
	}
	return nil
}
