package messages

import (
	"encoding/binary"
	"fmt"
)

// checkBody walks a msgpack body without decoding it and refuses any
// array, map, string or binary whose declared length cannot fit in the
// bytes that remain. msgpack v5.4.1 allocates a slice at the length a
// message claims (its allocation limit is never applied), so without this
// walk a few bytes claiming four billion elements would make the node
// allocate until the kernel kills it: out of memory is not a panic that a
// recover can catch.
func checkBody(b []byte) error {
	rest, err := checkValue(b, 0)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%d trailing bytes", len(rest))
	}
	return nil
}

// maxDepth bounds nesting, so a body of nested one-element arrays cannot
// exhaust the stack of the walk or of the decoder.
const maxDepth = 64

func checkValue(b []byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxDepth)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("truncated")
	}
	c, b := b[0], b[1:]
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3: // fixint, nil, bool
		return b, nil
	case c >= 0x80 && c <= 0x8f:
		return checkItems(b, 2*int(c&0x0f), depth)
	case c >= 0x90 && c <= 0x9f:
		return checkItems(b, int(c&0x0f), depth)
	case c >= 0xa0 && c <= 0xbf:
		return skip(b, int(c&0x1f))
	}
	switch c {
	case 0xcc, 0xd0:
		return skip(b, 1)
	case 0xcd, 0xd1:
		return skip(b, 2)
	case 0xca, 0xce, 0xd2:
		return skip(b, 4)
	case 0xcb, 0xcf, 0xd3:
		return skip(b, 8)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16 plus the type byte
		return skip(b, 1+1<<(c-0xd4))
	case 0xc4, 0xd9: // bin 8, str 8
		return skipLen(b, 1, 0)
	case 0xc5, 0xda:
		return skipLen(b, 2, 0)
	case 0xc6, 0xdb:
		return skipLen(b, 4, 0)
	case 0xc7: // ext 8: length, type, data
		return skipLen(b, 1, 1)
	case 0xc8:
		return skipLen(b, 2, 1)
	case 0xc9:
		return skipLen(b, 4, 1)
	case 0xdc, 0xde: // array 16, map 16
		n, rest, err := readLen(b, 2)
		if err != nil {
			return nil, err
		}
		if c == 0xde {
			n *= 2
		}
		return checkItems(rest, n, depth)
	case 0xdd, 0xdf: // array 32, map 32
		n, rest, err := readLen(b, 4)
		if err != nil {
			return nil, err
		}
		if c == 0xdf {
			n *= 2
		}
		return checkItems(rest, n, depth)
	}
	return nil, fmt.Errorf("invalid msgpack code 0x%x", c)
}

// checkItems checks n values; every value takes at least one byte, so a
// count above the remaining bytes is refused before anything is walked.
func checkItems(b []byte, n, depth int) ([]byte, error) {
	if n > len(b) {
		return nil, fmt.Errorf("%d elements declared, %d bytes left", n, len(b))
	}
	var err error
	for i := 0; i < n; i++ {
		if b, err = checkValue(b, depth+1); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func readLen(b []byte, size int) (int, []byte, error) {
	if len(b) < size {
		return 0, nil, fmt.Errorf("truncated length")
	}
	var n uint64
	switch size {
	case 1:
		n = uint64(b[0])
	case 2:
		n = uint64(binary.BigEndian.Uint16(b))
	default:
		n = uint64(binary.BigEndian.Uint32(b))
	}
	if n > uint64(len(b)-size) {
		return 0, nil, fmt.Errorf("%d bytes declared, %d left", n, len(b)-size)
	}
	return int(n), b[size:], nil
}

func skipLen(b []byte, size, extra int) ([]byte, error) {
	n, rest, err := readLen(b, size)
	if err != nil {
		return nil, err
	}
	return skip(rest, n+extra)
}

func skip(b []byte, n int) ([]byte, error) {
	if n > len(b) {
		return nil, fmt.Errorf("%d bytes declared, %d left", n, len(b))
	}
	return b[n:], nil
}
