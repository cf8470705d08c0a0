package version

import (
	"errors"
	"fmt"

	"github.com/dynamokv/dynamo/internal/mpbuf"
	"github.com/vmihailenco/msgpack/v5"
)

// The codecs below write exactly what msgpack's reflection would for the
// struct tags (with compact integers), so either side may use either form.
// They append to and read from byte slices (internal/mpbuf): every message
// and every stored set goes through them, and a stream decoder's interface
// call per byte was a tenth of a node's CPU. The msgpack.CustomEncoder and
// CustomDecoder methods remain for messages encoded by reflection, and go
// through the same code.

var (
	// ErrClockUnsorted reports a decoded clock whose nodes are out of order.
	ErrClockUnsorted = errors.New("clock entries not sorted by node")
	// ErrClockDuplicate reports a decoded clock naming a node twice.
	ErrClockDuplicate = errors.New("duplicate node in clock")
	// ErrCorruptSiblings reports a stored sibling set that cannot be read.
	ErrCorruptSiblings = errors.New("version: corrupt sibling set")

	errTooManyEntries = errors.New("too many clock entries")
)

// maxPrealloc bounds the slice made for an array before its elements have
// been read: the length in the header is untrusted.
const maxPrealloc = 16

func appendTriple(dst []byte, node string, counter uint64, stamp int64) []byte {
	dst = append(dst, 0x83, 0xa1, 'n')
	dst = mpbuf.AppendString(dst, node)
	dst = append(dst, 0xa1, 'c')
	dst = mpbuf.AppendUint(dst, counter)
	dst = append(dst, 0xa1, 't')
	return mpbuf.AppendInt(dst, stamp)
}

func readTriple(r *mpbuf.Reader) (node string, counter uint64, stamp int64, err error) {
	n, err := r.MapLen()
	if err != nil {
		return "", 0, 0, err
	}
	for i := 0; i < n; i++ {
		var key []byte
		if key, err = r.View(); err != nil {
			return "", 0, 0, err
		}
		switch string(key) {
		case "n":
			node, err = r.Interned()
		case "c":
			counter, err = r.Uint64()
		case "t":
			stamp, err = r.Int64()
		default:
			err = r.Skip()
		}
		if err != nil {
			return "", 0, 0, err
		}
	}
	return node, counter, stamp, nil
}

// encodeVia and decodeVia adapt the slice codecs to msgpack's stream
// interfaces, for values inside messages that reflection encodes.
func encodeVia(e *msgpack.Encoder, b []byte) error {
	_, err := e.Writer().Write(b)
	return err
}

func decodeVia(d *msgpack.Decoder, from func(*mpbuf.Reader) error) error {
	raw, err := d.DecodeRaw()
	if err != nil {
		return err
	}
	r := mpbuf.NewReader(raw)
	return from(&r)
}

// AppendMsgpack appends the entry's encoding to dst.
func (x Entry) AppendMsgpack(dst []byte) []byte {
	return appendTriple(dst, x.Node, x.Counter, x.Stamp)
}

// DecodeFrom reads an entry from r.
func (x *Entry) DecodeFrom(r *mpbuf.Reader) error {
	node, counter, stamp, err := readTriple(r)
	if err != nil {
		return err
	}
	*x = Entry{Node: node, Counter: counter, Stamp: stamp}
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (x Entry) EncodeMsgpack(e *msgpack.Encoder) error { return encodeVia(e, x.AppendMsgpack(nil)) }

// DecodeMsgpack implements msgpack.CustomDecoder.
func (x *Entry) DecodeMsgpack(d *msgpack.Decoder) error { return decodeVia(d, x.DecodeFrom) }

// AppendMsgpack appends the dot's encoding to dst.
func (x Dot) AppendMsgpack(dst []byte) []byte {
	return appendTriple(dst, x.Node, x.Counter, x.Stamp)
}

// DecodeFrom reads a dot from r.
func (x *Dot) DecodeFrom(r *mpbuf.Reader) error {
	node, counter, stamp, err := readTriple(r)
	if err != nil {
		return err
	}
	*x = Dot{Node: node, Counter: counter, Stamp: stamp}
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (x Dot) EncodeMsgpack(e *msgpack.Encoder) error { return encodeVia(e, x.AppendMsgpack(nil)) }

// DecodeMsgpack implements msgpack.CustomDecoder.
func (x *Dot) DecodeMsgpack(d *msgpack.Decoder) error { return decodeVia(d, x.DecodeFrom) }

// EncodeMsgpack implements msgpack.CustomEncoder.
func (ds Dots) EncodeMsgpack(e *msgpack.Encoder) error { return encodeVia(e, ds.AppendMsgpack(nil)) }

// DecodeMsgpack implements msgpack.CustomDecoder.
func (ds *Dots) DecodeMsgpack(d *msgpack.Decoder) error { return decodeVia(d, ds.DecodeFrom) }

// AppendMsgpack appends the clock's encoding to dst: nil as nil.
func (c Clock) AppendMsgpack(dst []byte) []byte {
	if c == nil {
		return mpbuf.AppendNil(dst)
	}
	dst = mpbuf.AppendArrayLen(dst, len(c))
	for _, x := range c {
		dst = appendTriple(dst, x.Node, x.Counter, x.Stamp)
	}
	return dst
}

// DecodeFrom reads a clock from r. It rejects clocks that break the
// sorted, one-entry-per-node invariant every method relies on.
func (c *Clock) DecodeFrom(r *mpbuf.Reader) error {
	v, err := readClock(r, -1)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (c Clock) EncodeMsgpack(e *msgpack.Encoder) error { return encodeVia(e, c.AppendMsgpack(nil)) }

// DecodeMsgpack implements msgpack.CustomDecoder.
func (c *Clock) DecodeMsgpack(d *msgpack.Decoder) error { return decodeVia(d, c.DecodeFrom) }

// readClock reads a clock of at most limit entries (no bound if limit < 0).
func readClock(r *mpbuf.Reader, limit int) (Clock, error) {
	n, err := r.ArrayLen()
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, nil
	}
	if limit >= 0 && n > limit {
		return nil, fmt.Errorf("%w: %d > %d", errTooManyEntries, n, limit)
	}
	c := make(Clock, 0, min(n, maxPrealloc))
	for i := 0; i < n; i++ {
		node, counter, stamp, err := readTriple(r)
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

// AppendMsgpack appends the version's encoding to dst.
func (v Version) AppendMsgpack(dst []byte) []byte {
	fields := byte(0x84)
	if len(v.Also) > 0 {
		fields++
	}
	dst = append(dst, fields, 0xa1, 'd')
	dst = appendTriple(dst, v.Dot.Node, v.Dot.Counter, v.Dot.Stamp)
	dst = append(dst, 0xa1, 'c')
	dst = v.Context.AppendMsgpack(dst)
	dst = append(dst, 0xa1, 'v')
	dst = mpbuf.AppendBytes(dst, v.Value)
	dst = append(dst, 0xa1, 'x')
	dst = mpbuf.AppendBool(dst, v.Deleted)
	if len(v.Also) > 0 {
		dst = v.Also.AppendMsgpack(append(dst, 0xa1, 'a'))
	}
	return dst
}

// DecodeFrom reads a version from r.
func (v *Version) DecodeFrom(r *mpbuf.Reader) error {
	n, err := r.MapLen()
	if err != nil {
		return err
	}
	var out Version
	for i := 0; i < n; i++ {
		key, err := r.View()
		if err != nil {
			return err
		}
		switch string(key) {
		case "d":
			err = out.Dot.DecodeFrom(r)
		case "c":
			out.Context, err = readClock(r, -1)
		case "v":
			out.Value, err = r.Bytes()
		case "x":
			out.Deleted, err = r.Bool()
		case "a":
			err = out.Also.DecodeFrom(r)
		default:
			err = r.Skip()
		}
		if err != nil {
			return err
		}
	}
	*v = out
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (v Version) EncodeMsgpack(e *msgpack.Encoder) error { return encodeVia(e, v.AppendMsgpack(nil)) }

// DecodeMsgpack implements msgpack.CustomDecoder.
func (v *Version) DecodeMsgpack(d *msgpack.Decoder) error { return decodeVia(d, v.DecodeFrom) }

// AppendMsgpack appends the set's encoding to dst: nil as nil.
func (s Siblings) AppendMsgpack(dst []byte) []byte {
	if s == nil {
		return mpbuf.AppendNil(dst)
	}
	dst = mpbuf.AppendArrayLen(dst, len(s))
	for _, v := range s {
		dst = v.AppendMsgpack(dst)
	}
	return dst
}

// DecodeFrom reads a sibling set from r.
func (s *Siblings) DecodeFrom(r *mpbuf.Reader) error {
	n, err := r.ArrayLen()
	if err != nil {
		return err
	}
	if n < 0 {
		*s = nil
		return nil
	}
	out := make(Siblings, 0, min(n, maxPrealloc))
	for i := 0; i < n; i++ {
		var v Version
		if err := v.DecodeFrom(r); err != nil {
			return err
		}
		out = append(out, v)
	}
	*s = out
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (s Siblings) EncodeMsgpack(e *msgpack.Encoder) error { return encodeVia(e, s.AppendMsgpack(nil)) }

// DecodeMsgpack implements msgpack.CustomDecoder.
func (s *Siblings) DecodeMsgpack(d *msgpack.Decoder) error { return decodeVia(d, s.DecodeFrom) }

// MarshalBinary encodes the sibling set for storage.
func (s Siblings) MarshalBinary() ([]byte, error) {
	return s.AppendMsgpack(make([]byte, 0, s.sizeHint())), nil
}

// sizeHint over-estimates the encoded size so encoding allocates once.
func (s Siblings) sizeHint() int {
	n := 5
	for _, v := range s {
		n += 48 + len(v.Dot.Node) + len(v.Value)
		for _, e := range v.Context {
			n += 26 + len(e.Node)
		}
		for _, d := range v.Also {
			n += 26 + len(d.Node)
		}
		if len(v.Also) > 0 {
			n += 7
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
	r := mpbuf.NewReader(data)
	var s Siblings
	if err := s.DecodeFrom(&r); err != nil {
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
