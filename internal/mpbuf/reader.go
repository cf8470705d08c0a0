package mpbuf

import (
	"errors"
	"fmt"

	"github.com/dynamokv/dynamo/internal/intern"
)

// ErrShort reports input that ends inside a value.
var ErrShort = errors.New("msgpack: unexpected end of input")

// MaxDepth bounds the nesting Skip walks, so that a body of nested
// one-element arrays cannot exhaust the stack.
const MaxDepth = 64

// Reader reads msgpack values from the front of a byte slice. The zero
// Reader is empty. Byte strings it returns are copies unless a method says
// otherwise, so the input may be reused once decoding is done.
type Reader struct{ b []byte }

// NewReader returns a Reader of b.
func NewReader(b []byte) Reader { return Reader{b: b} }

// Len is the number of bytes not yet read.
func (r *Reader) Len() int { return len(r.b) }

// IsNil reports whether the next value is nil, without reading it.
func (r *Reader) IsNil() bool { return len(r.b) > 0 && r.b[0] == codeNil }

// IsMap reports whether the next value is a map, without reading it.
func (r *Reader) IsMap() bool {
	if len(r.b) == 0 {
		return false
	}
	c := r.b[0]
	return c&0xf0 == fixMap || c == codeMap16 || c == codeMap32
}

func invalid(c byte, what string) error {
	return fmt.Errorf("msgpack: invalid code=%x decoding %s", c, what)
}

func (r *Reader) code() (byte, error) {
	if len(r.b) == 0 {
		return 0, ErrShort
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

func (r *Reader) next(n int) ([]byte, error) {
	if n < 0 || n > len(r.b) {
		return nil, ErrShort
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p, nil
}

func (r *Reader) uintN(size int) (uint64, error) {
	p, err := r.next(size)
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, c := range p {
		n = n<<8 | uint64(c)
	}
	return n, nil
}

// integer reads any msgpack integer (nil as 0) as its 64 bits, with
// signed codes sign-extended, as msgpack's DecodeInt64 and DecodeUint64 do.
func (r *Reader) integer(what string) (uint64, error) {
	c, err := r.code()
	if err != nil {
		return 0, err
	}
	if c <= 0x7f || c >= 0xe0 {
		return uint64(int64(int8(c))), nil
	}
	switch c {
	case codeNil:
		return 0, nil
	case codeUint8:
		return r.uintN(1)
	case codeUint16:
		return r.uintN(2)
	case codeUint32:
		return r.uintN(4)
	case codeUint64, codeInt64:
		return r.uintN(8)
	case codeInt8:
		n, err := r.uintN(1)
		return uint64(int64(int8(n))), err
	case codeInt16:
		n, err := r.uintN(2)
		return uint64(int64(int16(n))), err
	case codeInt32:
		n, err := r.uintN(4)
		return uint64(int64(int32(n))), err
	}
	return 0, invalid(c, what)
}

// Uint64 reads an integer as msgpack's DecodeUint64 does.
func (r *Reader) Uint64() (uint64, error) { return r.integer("uint64") }

// Uint32 reads an integer as msgpack's DecodeUint32 does (truncating).
func (r *Reader) Uint32() (uint32, error) {
	n, err := r.integer("uint64")
	return uint32(n), err
}

// Int64 reads an integer as msgpack's DecodeInt64 does.
func (r *Reader) Int64() (int64, error) {
	n, err := r.integer("int64")
	return int64(n), err
}

// Int reads an integer as msgpack's DecodeInt does.
func (r *Reader) Int() (int, error) {
	n, err := r.integer("int64")
	return int(int64(n)), err
}

// Bool reads a boolean; nil reads as false.
func (r *Reader) Bool() (bool, error) {
	c, err := r.code()
	if err != nil {
		return false, err
	}
	switch c {
	case codeTrue:
		return true, nil
	case codeFalse, codeNil:
		return false, nil
	}
	return false, invalid(c, "bool")
}

// length reads the header of a container (fixed, 16 or 32 bits); nil is -1.
func (r *Reader) length(fixed, code16, code32 byte, what string) (int, error) {
	c, err := r.code()
	if err != nil {
		return 0, err
	}
	var n uint64
	switch {
	case c&0xf0 == fixed:
		return int(c & 0x0f), nil
	case c == codeNil:
		return -1, nil
	case c == code16:
		n, err = r.uintN(2)
	case c == code32:
		n, err = r.uintN(4)
	default:
		return 0, invalid(c, what)
	}
	if err == nil && n > uint64(len(r.b)) {
		return 0, ErrShort // every element takes at least a byte
	}
	return int(n), err
}

// MapLen reads a map's header: its number of pairs, -1 for nil.
func (r *Reader) MapLen() (int, error) { return r.length(fixMap, codeMap16, codeMap32, "map length") }

// ArrayLen reads an array's header: its number of elements, -1 for nil.
func (r *Reader) ArrayLen() (int, error) {
	return r.length(fixArray, codeArray16, codeArray32, "array length")
}

// View reads a string or binary value and returns its bytes in the input,
// not copied; nil reads as nil, an empty value as empty and not nil.
func (r *Reader) View() ([]byte, error) {
	c, err := r.code()
	if err != nil {
		return nil, err
	}
	var n uint64
	switch {
	case c&0xe0 == fixStr:
		n = uint64(c & 0x1f)
	case c == codeNil:
		return nil, nil
	case c == codeStr8 || c == codeBin8:
		n, err = r.uintN(1)
	case c == codeStr16 || c == codeBin16:
		n, err = r.uintN(2)
	case c == codeStr32 || c == codeBin32:
		n, err = r.uintN(4)
	default:
		return nil, invalid(c, "string/bytes length")
	}
	if err != nil {
		return nil, err
	}
	if n > uint64(len(r.b)) {
		return nil, ErrShort
	}
	return r.next(int(n))
}

// Bytes reads a string or binary value as msgpack's DecodeBytes does: a
// copy, nil for nil, empty and not nil for an empty value.
func (r *Reader) Bytes() ([]byte, error) {
	p, err := r.View()
	if err != nil || p == nil {
		return nil, err
	}
	return append(make([]byte, 0, len(p)), p...), nil
}

// String reads a string or binary value; nil reads as "".
func (r *Reader) String() (string, error) {
	p, err := r.View()
	return string(p), err
}

// Interned reads a string as String does, shared with earlier reads of
// the same short string (member IDs, which recur in every message).
func (r *Reader) Interned() (string, error) {
	p, err := r.View()
	if err != nil {
		return "", err
	}
	return intern.Bytes(p), nil
}

// Skip reads one value of any kind and drops it.
func (r *Reader) Skip() error { return r.skip(0) }

func (r *Reader) skip(depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("msgpack: nested deeper than %d", MaxDepth)
	}
	if len(r.b) == 0 {
		return ErrShort
	}
	c := r.b[0]
	var items int
	var err error
	switch {
	case c <= 0x7f || c >= 0xe0 || c == codeNil || c == codeFalse || c == codeTrue:
		r.b = r.b[1:]
		return nil
	case c&0xe0 == fixStr, c == codeStr8, c == codeStr16, c == codeStr32,
		c == codeBin8, c == codeBin16, c == codeBin32:
		_, err = r.View()
		return err
	case c&0xf0 == fixMap, c == codeMap16, c == codeMap32:
		items, err = r.MapLen()
		items *= 2
	case c&0xf0 == fixArray, c == codeArray16, c == codeArray32:
		items, err = r.ArrayLen()
	default:
		return r.skipScalar()
	}
	if err != nil {
		return err
	}
	for ; items > 0; items-- {
		if err := r.skip(depth + 1); err != nil {
			return err
		}
	}
	return nil
}

// skipScalar skips a number or an extension.
func (r *Reader) skipScalar() error {
	c, _ := r.code()
	var n int
	switch c {
	case codeUint8, codeInt8:
		n = 1
	case codeUint16, codeInt16:
		n = 2
	case 0xca, codeUint32, codeInt32: // float32
		n = 4
	case 0xcb, codeUint64, codeInt64: // float64
		n = 8
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16, after a type byte
		n = 1 + 1<<(c-0xd4)
	case 0xc7, 0xc8, 0xc9: // ext 8, 16, 32: a length, a type byte, the data
		size, err := r.uintN(1 << (c - 0xc7))
		if err != nil {
			return err
		}
		if size >= uint64(len(r.b)) {
			return ErrShort
		}
		n = 1 + int(size)
	default:
		return invalid(c, "a value")
	}
	_, err := r.next(n)
	return err
}
