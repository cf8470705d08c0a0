// Package mpbuf writes and reads msgpack on byte slices, for the messages
// every request sends. msgpack's Encoder and Decoder work on streams: each
// byte goes through an io.ByteScanner interface call, and a peek is a read
// and an unread. Here encoding is appending and decoding is indexing, and
// every length read is checked against the bytes that remain, so a forged
// header cannot make a decoder allocate beyond the input's own size.
//
// The bytes are those of github.com/vmihailenco/msgpack/v5 (integers in
// the fewest bytes, as its EncodeUint and EncodeInt write them), and the
// readers accept what its Decode methods accept, so that either side of a
// connection may use either.
package mpbuf

import "math"

// Codes of the msgpack format this package writes or reads.
const (
	codeNil     = 0xc0
	codeFalse   = 0xc2
	codeTrue    = 0xc3
	codeBin8    = 0xc4
	codeBin16   = 0xc5
	codeBin32   = 0xc6
	codeUint8   = 0xcc
	codeUint16  = 0xcd
	codeUint32  = 0xce
	codeUint64  = 0xcf
	codeInt8    = 0xd0
	codeInt16   = 0xd1
	codeInt32   = 0xd2
	codeInt64   = 0xd3
	codeStr8    = 0xd9
	codeStr16   = 0xda
	codeStr32   = 0xdb
	codeArray16 = 0xdc
	codeArray32 = 0xdd
	codeMap16   = 0xde
	codeMap32   = 0xdf

	fixMap   = 0x80
	fixArray = 0x90
	fixStr   = 0xa0
)

func append16(dst []byte, code byte, n uint16) []byte {
	return append(dst, code, byte(n>>8), byte(n))
}

func append32(dst []byte, code byte, n uint32) []byte {
	return append(dst, code, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func append64(dst []byte, code byte, n uint64) []byte {
	return append(dst, code, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32),
		byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// AppendNil appends nil.
func AppendNil(dst []byte) []byte { return append(dst, codeNil) }

// AppendBool appends a boolean.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, codeTrue)
	}
	return append(dst, codeFalse)
}

// AppendUint appends n in the fewest bytes.
func AppendUint(dst []byte, n uint64) []byte {
	switch {
	case n <= math.MaxInt8:
		return append(dst, byte(n))
	case n <= math.MaxUint8:
		return append(dst, codeUint8, byte(n))
	case n <= math.MaxUint16:
		return append16(dst, codeUint16, uint16(n))
	case n <= math.MaxUint32:
		return append32(dst, codeUint32, uint32(n))
	}
	return append64(dst, codeUint64, n)
}

// AppendInt appends n in the fewest bytes; non-negative n as AppendUint.
func AppendInt(dst []byte, n int64) []byte {
	switch {
	case n >= 0:
		return AppendUint(dst, uint64(n))
	case n >= -32:
		return append(dst, byte(n))
	case n >= math.MinInt8:
		return append(dst, codeInt8, byte(n))
	case n >= math.MinInt16:
		return append16(dst, codeInt16, uint16(n))
	case n >= math.MinInt32:
		return append32(dst, codeInt32, uint32(n))
	}
	return append64(dst, codeInt64, uint64(n))
}

// appendSized appends the header of a value of n bytes or elements: the
// fixed form when n fits in it (fixed is 0 when there is none), else the
// smallest of the 8- (code8 is 0 when there is none), 16- and 32-bit forms.
func appendSized(dst []byte, n, fixedMax int, fixed, code8, code16, code32 byte) []byte {
	switch {
	case n <= fixedMax:
		return append(dst, fixed|byte(n))
	case code8 != 0 && n <= math.MaxUint8:
		return append(dst, code8, byte(n))
	case n <= math.MaxUint16:
		return append16(dst, code16, uint16(n))
	}
	return append32(dst, code32, uint32(n))
}

// AppendString appends s as a msgpack string.
func AppendString(dst []byte, s string) []byte {
	return append(appendSized(dst, len(s), 31, fixStr, codeStr8, codeStr16, codeStr32), s...)
}

// AppendBytes appends b as msgpack binary; a nil b as nil.
func AppendBytes(dst []byte, b []byte) []byte {
	if b == nil {
		return AppendNil(dst)
	}
	return append(appendSized(dst, len(b), -1, 0, codeBin8, codeBin16, codeBin32), b...)
}

// AppendMapLen appends the header of a map of n pairs.
func AppendMapLen(dst []byte, n int) []byte {
	return appendSized(dst, n, 15, fixMap, 0, codeMap16, codeMap32)
}

// AppendArrayLen appends the header of an array of n elements.
func AppendArrayLen(dst []byte, n int) []byte {
	return appendSized(dst, n, 15, fixArray, 0, codeArray16, codeArray32)
}
