package mpbuf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// readMethod pairs a Reader method with the Decoder method it must match.
type readMethod struct {
	name string
	mp   func(*Reader) (any, error)
	dec  func(*msgpack.Decoder) (any, error)
}

var readMethods = []readMethod{
	{"Uint64", func(r *Reader) (any, error) { return r.Uint64() },
		func(d *msgpack.Decoder) (any, error) { return d.DecodeUint64() }},
	{"Uint32", func(r *Reader) (any, error) { return r.Uint32() },
		func(d *msgpack.Decoder) (any, error) { return d.DecodeUint32() }},
	{"Int64", func(r *Reader) (any, error) { return r.Int64() },
		func(d *msgpack.Decoder) (any, error) { return d.DecodeInt64() }},
	{"Int", func(r *Reader) (any, error) { return r.Int() },
		func(d *msgpack.Decoder) (any, error) { return d.DecodeInt() }},
	{"Bool", func(r *Reader) (any, error) { return r.Bool() },
		func(d *msgpack.Decoder) (any, error) { return d.DecodeBool() }},
	{"MapLen", func(r *Reader) (any, error) { return r.MapLen() },
		func(d *msgpack.Decoder) (any, error) { return d.DecodeMapLen() }},
	{"ArrayLen", func(r *Reader) (any, error) { return r.ArrayLen() },
		func(d *msgpack.Decoder) (any, error) { return d.DecodeArrayLen() }},
	{"Bytes", func(r *Reader) (any, error) { return r.Bytes() },
		func(d *msgpack.Decoder) (any, error) { return d.DecodeBytes() }},
	{"View", func(r *Reader) (any, error) { return r.View() },
		func(d *msgpack.Decoder) (any, error) { return d.DecodeBytes() }},
	{"String", func(r *Reader) (any, error) { return r.String() },
		func(d *msgpack.Decoder) (any, error) { return d.DecodeString() }},
	{"Interned", func(r *Reader) (any, error) { return r.Interned() },
		func(d *msgpack.Decoder) (any, error) { return d.DecodeString() }},
	{"Skip", func(r *Reader) (any, error) { return nil, r.Skip() },
		func(d *msgpack.Decoder) (any, error) { return nil, d.Skip() }},
}

func method(name string) readMethod {
	for _, m := range readMethods {
		if m.name == name {
			return m
		}
	}
	panic("no method " + name)
}

// outcome is one method's result and the bytes it consumed.
type outcome struct {
	v    any
	err  error
	used int
}

func runReader(in []byte, m readMethod) outcome {
	r := NewReader(in)
	v, err := m.mp(&r)
	return outcome{v, err, len(in) - r.Len()}
}

func runDecoder(in []byte, m readMethod) outcome {
	switch m.name {
	case "Bytes", "View", "String", "Interned":
		// DecodeBytes allocates the declared length before reading it:
		// a forged 4 GiB header would take 4 GiB here. Such a value is
		// short anyway, so this is the Decoder's answer without the cost.
		n, err := msgpack.NewDecoder(bytes.NewReader(in)).DecodeBytesLen()
		if err == nil && n > len(in) {
			return outcome{err: io.ErrUnexpectedEOF}
		}
	}
	br := bytes.NewReader(in) // a ByteScanner: the Decoder reads it unbuffered
	v, err := m.dec(msgpack.NewDecoder(br))
	return outcome{v, err, len(in) - br.Len()}
}

var extCodes = []byte{0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8}

// rejectionAllowed lists where this package errors and msgpack does not:
// nothing that a peer writing with msgpack's Encoder sends.
func rejectionAllowed(in []byte, m readMethod, got, want outcome) bool {
	switch m.name {
	case "MapLen":
		// DecodeMapLen skips an ext header in front of a map (msgpack's
		// registered ext types); the messages here have none.
		if bytes.IndexByte(extCodes, in[0]) >= 0 {
			return true
		}
		fallthrough
	case "ArrayLen":
		// A count larger than the bytes left is refused up front: every
		// element takes at least a byte, so the input cannot hold it.
		return errors.Is(got.err, ErrShort) && want.v.(int) > len(in)-want.used
	case "Skip":
		// msgpack recurses without a limit; Skip stops at MaxDepth.
		return strings.Contains(got.err.Error(), "nested deeper")
	}
	return false
}

// mismatch returns how the Reader and the Decoder differ on in for m, or
// "" where they agree: both fail, or both return the same value having
// consumed the same bytes.
func mismatch(in []byte, m readMethod) string {
	got := runReader(in, m)
	if got.used < 0 || got.used > len(in) {
		return fmt.Sprintf("%s consumed %d of %d bytes", m.name, got.used, len(in))
	}
	if p, ok := got.v.([]byte); ok && len(p) > got.used {
		return fmt.Sprintf("%s returned %d bytes from %d consumed", m.name, len(p), got.used)
	}
	want := runDecoder(in, m)
	switch {
	case got.err == nil && want.err == nil:
		if !reflect.DeepEqual(got.v, want.v) || got.used != want.used {
			return fmt.Sprintf("%s: %#v after %d bytes; Decoder %#v after %d",
				m.name, got.v, got.used, want.v, want.used)
		}
	case got.err == nil:
		return fmt.Sprintf("%s: %#v, where the Decoder fails: %v", m.name, got.v, want.err)
	case want.err == nil && !rejectionAllowed(in, m, got, want):
		return fmt.Sprintf("%s fails (%v) where the Decoder reads %#v", m.name, got.err, want.v)
	}
	return ""
}

func checkAll(t *testing.T, in []byte) {
	t.Helper()
	for _, m := range readMethods {
		if s := mismatch(in, m); s != "" {
			t.Fatalf("% x: %s", head(in), s)
		}
	}
}

// intEncodings writes n with every Encoder method that can carry it,
// minimal or not: a peer may use any of them.
func intEncodings(t *testing.T, n uint64) [][]byte {
	i := int64(n)
	var out [][]byte
	for _, f := range []func(*msgpack.Encoder) error{
		func(e *msgpack.Encoder) error { return e.EncodeUint(n) },
		func(e *msgpack.Encoder) error { return e.EncodeInt(i) },
		func(e *msgpack.Encoder) error { return e.EncodeUint8(uint8(n)) },
		func(e *msgpack.Encoder) error { return e.EncodeUint16(uint16(n)) },
		func(e *msgpack.Encoder) error { return e.EncodeUint32(uint32(n)) },
		func(e *msgpack.Encoder) error { return e.EncodeUint64(n) },
		func(e *msgpack.Encoder) error { return e.EncodeInt8(int8(i)) },
		func(e *msgpack.Encoder) error { return e.EncodeInt16(int16(i)) },
		func(e *msgpack.Encoder) error { return e.EncodeInt32(int32(i)) },
		func(e *msgpack.Encoder) error { return e.EncodeInt64(i) },
	} {
		out = append(out, encoded(t, f))
	}
	return out
}

// Every boundary integer, in every encoding, read by every integer method
// (negative numbers as Uint64, large ones as Uint32 or Int) as msgpack
// reads it, and its every prefix refused as short.
func TestReaderIntegerBoundaries(t *testing.T) {
	var ns []uint64
	ns = append(ns, uintBoundaries...)
	for _, n := range intBoundaries {
		ns = append(ns, uint64(n))
	}
	for _, n := range ns {
		for _, in := range intEncodings(t, n) {
			for _, name := range []string{"Uint64", "Uint32", "Int64", "Int", "Skip"} {
				m := method(name)
				if got := runReader(in, m); got.err != nil || got.used != len(in) {
					t.Fatalf("% x: %s: %v after %d bytes", in, name, got.err, got.used)
				}
				if s := mismatch(in, m); s != "" {
					t.Fatalf("% x: %s", in, s)
				}
				for k := range len(in) {
					if got := runReader(in[:k], m); !errors.Is(got.err, ErrShort) {
						t.Fatalf("% x cut to %d: %s: %v", in, k, name, got.err)
					}
				}
			}
		}
	}
	// What the minimal encodings mean, independently of msgpack.
	for _, n := range uintBoundaries {
		r := NewReader(AppendUint(nil, n))
		if got, err := r.Uint64(); got != n || err != nil {
			t.Fatalf("Uint64 of %d: %d, %v", n, got, err)
		}
	}
	for _, n := range intBoundaries {
		r := NewReader(AppendInt(nil, n))
		if got, err := r.Int64(); got != n || err != nil {
			t.Fatalf("Int64 of %d: %d, %v", n, got, err)
		}
	}
	r := NewReader(AppendInt(nil, -1))
	if got, _ := r.Uint64(); got != math.MaxUint64 {
		t.Fatalf("Uint64 of -1: %d", got)
	}
	r = NewReader(AppendUint(nil, 1<<32+7))
	if got, _ := r.Uint32(); got != 7 {
		t.Fatalf("Uint32 of 2^32+7: %d (msgpack truncates)", got)
	}
}

func TestReaderStringsAndBytes(t *testing.T) {
	var ins [][]byte
	for _, n := range strLens {
		s := strings.Repeat("s", n)
		ins = append(ins, encoded(t, func(e *msgpack.Encoder) error { return e.EncodeString(s) }))
	}
	for _, n := range binLens {
		p := bytes.Repeat([]byte{0xb1}, n)
		ins = append(ins, encoded(t, func(e *msgpack.Encoder) error { return e.EncodeBytes(p) }))
	}
	ins = append(ins, []byte{0xc0}, []byte{0xa0}, []byte{0xc4, 0x00},
		[]byte{0xd9, 0x02, 'h', 'i'}, []byte{0xdb, 0, 0, 0, 1, 'x'}, []byte{0xc6, 0, 0, 0, 0}) // not minimal, still valid
	for _, in := range ins {
		checkAll(t, in)
		for _, name := range []string{"View", "Bytes", "String", "Interned", "Skip"} {
			if got := runReader(in, method(name)); got.err != nil || got.used != len(in) {
				t.Fatalf("% x: %s: %v after %d bytes", head(in), name, got.err, got.used)
			}
		}
		for k := range len(in) {
			if got := runReader(in[:k], method("View")); !errors.Is(got.err, ErrShort) {
				t.Fatalf("% x cut to %d: %v", head(in), k, got.err)
			}
		}
	}

	// View points into the input, capped so that appending to it cannot
	// overwrite what follows; Bytes is a copy.
	in := []byte{0xa3, 'a', 'b', 'c', 0x07}
	r := NewReader(in)
	v, _ := r.View()
	if &v[0] != &in[1] || cap(v) != 3 {
		t.Fatalf("View: not the input's bytes, or cap %d", cap(v))
	}
	_ = append(v, 'z')
	if in[4] != 0x07 {
		t.Fatal("appending to a view overwrote the input")
	}
	r = NewReader(in)
	b, _ := r.Bytes()
	in[1] = 'X'
	if string(b) != "abc" {
		t.Fatalf("Bytes shares the input: %q", b)
	}

	// nil is nil, empty is empty: the difference msgpack keeps.
	for _, c := range []struct {
		in  []byte
		nil bool
	}{{[]byte{0xc0}, true}, {[]byte{0xa0}, false}, {[]byte{0xc4, 0}, false}} {
		r := NewReader(c.in)
		v, err := r.View()
		r = NewReader(c.in)
		b, err2 := r.Bytes()
		if err != nil || err2 != nil || (v == nil) != c.nil || (b == nil) != c.nil || len(v)+len(b) != 0 {
			t.Fatalf("% x: View %#v, Bytes %#v", c.in, v, b)
		}
	}
}

// Headers with their elements after them, so that each is a whole value.
func TestReaderHeaders(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 65535, 65536} {
		body := make([]byte, 2*n) // fixints: 0 is a value
		mapIn := append(encoded(t, func(e *msgpack.Encoder) error { return e.EncodeMapLen(n) }), body...)
		arrIn := append(encoded(t, func(e *msgpack.Encoder) error { return e.EncodeArrayLen(n) }), body[:n]...)
		for _, c := range []struct {
			name string
			in   []byte
		}{{"MapLen", mapIn}, {"ArrayLen", arrIn}} {
			got := runReader(c.in, method(c.name))
			if got.err != nil || got.v != n {
				t.Fatalf("%s of %d: %v, %v", c.name, n, got.v, got.err)
			}
			if s := mismatch(c.in, method(c.name)); s != "" {
				t.Fatal(s)
			}
			if s := mismatch(c.in, method("Skip")); s != "" {
				t.Fatal(s)
			}
			if got := runReader(c.in, method("Skip")); got.err != nil || got.used != len(c.in) {
				t.Fatalf("Skip of %s %d: %v after %d of %d", c.name, n, got.err, got.used, len(c.in))
			}
		}
	}
	for _, name := range []string{"MapLen", "ArrayLen"} {
		if got := runReader([]byte{0xc0}, method(name)); got.v != -1 || got.err != nil {
			t.Fatalf("%s of nil: %v, %v", name, got.v, got.err)
		}
	}
}

// Every first byte, followed by a few tails, and every prefix of those:
// each method must agree with msgpack on every code, valid or not.
func TestReaderEveryCode(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 24)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	tails := [][]byte{
		make([]byte, 20),                  // zero lengths, fixint zeros
		{0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7}, // a 32-bit length of 3
		{0x91, 0x91, 0x82, 0xa1, 'k', 0x01, 0xa0, 0xc3},
		random,
	}
	for c := range 256 {
		for ti, tail := range tails {
			in := append([]byte{byte(c)}, tail...)
			for k := 0; k <= len(in); k++ {
				if ti > 0 && k < len(in) && k > 4 {
					continue // the short prefixes and whole inputs suffice here
				}
				for _, m := range readMethods {
					if s := mismatch(in[:k], m); s != "" {
						t.Fatalf("% x: %s", in[:k], s)
					}
				}
			}
		}
	}
}

// A forged length must be refused from the bytes at hand, not read,
// allocated or looped over.
func TestReaderForgedLengths(t *testing.T) {
	for _, c := range []struct {
		in      []byte
		methods []string
	}{
		{[]byte{0xdb, 0xff, 0xff, 0xff, 0xff, 'a'}, []string{"View", "Bytes", "String", "Interned", "Skip"}},
		{[]byte{0xc6, 0xff, 0xff, 0xff, 0xff, 'a'}, []string{"View", "Bytes", "String", "Skip"}},
		{[]byte{0xda, 0x01, 0x00, 'a'}, []string{"View", "Skip"}},
		{[]byte{0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 'a'}, []string{"Skip"}},
		{[]byte{0xc7, 0x02, 0x01, 'a'}, []string{"Skip"}}, // type byte and one of two data bytes
		{[]byte{0xd8, 0x01, 'a'}, []string{"Skip"}},
		{[]byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}, []string{"ArrayLen", "Skip"}},
		{[]byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0x01}, []string{"MapLen", "Skip"}},
		{[]byte{0xdc, 0x00, 0x03, 0x01, 0x02}, []string{"ArrayLen", "Skip"}},
	} {
		for _, name := range c.methods {
			m := method(name)
			if got := runReader(c.in, m); !errors.Is(got.err, ErrShort) {
				t.Errorf("% x: %s: %v, %v; want ErrShort", c.in, name, got.v, got.err)
			}
			if allocs := testing.AllocsPerRun(10, func() { _ = direct(name, c.in) }); allocs > 0 {
				t.Errorf("% x: %s of a forged length cost %v allocations", c.in, name, allocs)
			}
		}
	}
}

// direct calls a method by name on a Reader of its own: calls through
// readMethods' function values make the Reader escape, and so allocate.
func direct(name string, in []byte) error {
	r := NewReader(in)
	var err error
	switch name {
	case "View":
		_, err = r.View()
	case "Bytes":
		_, err = r.Bytes()
	case "String":
		_, err = r.String()
	case "Interned":
		_, err = r.Interned()
	case "Skip":
		err = r.Skip()
	case "MapLen":
		_, err = r.MapLen()
	case "ArrayLen":
		_, err = r.ArrayLen()
	default:
		panic(name)
	}
	return err
}

func TestReaderZeroAndIsNil(t *testing.T) {
	var r Reader
	if r.Len() != 0 || r.IsNil() {
		t.Fatal("the zero Reader is not empty")
	}
	for _, m := range readMethods {
		if _, err := m.mp(&r); !errors.Is(err, ErrShort) {
			t.Fatalf("%s of the zero Reader: %v", m.name, err)
		}
	}
	r = NewReader([]byte{0xc0, 0x01})
	if !r.IsNil() || r.Len() != 2 {
		t.Fatal("IsNil of nil")
	}
	if !r.IsNil() { // IsNil does not read
		t.Fatal("IsNil consumed the nil")
	}
	_ = r.Skip()
	if r.IsNil() || r.Len() != 1 {
		t.Fatal("IsNil of 1")
	}
}

// gen writes a random value with msgpack: scalars of every kind, floats,
// ext values (time, EncodeExtHeader, and hand-made bytes), non-minimal
// headers, and nested maps and arrays, at most depth levels deep.
func gen(r *rand.Rand, e *msgpack.Encoder, depth int) error {
	kinds := 13
	if depth > 0 {
		kinds = 16
	}
	raw := func(b ...byte) error { return e.Encode(msgpack.RawMessage(b)) }
	switch r.IntN(kinds) {
	case 0:
		return e.EncodeNil()
	case 1:
		return e.EncodeBool(r.IntN(2) == 0)
	case 2:
		return e.EncodeUint(randUint(r))
	case 3:
		return e.EncodeInt(randInt(r))
	case 4:
		n := randUint(r)
		switch r.IntN(4) {
		case 0:
			return e.EncodeUint8(uint8(n))
		case 1:
			return e.EncodeInt16(int16(n))
		case 2:
			return e.EncodeUint32(uint32(n))
		}
		return e.EncodeInt64(int64(n))
	case 5:
		return e.EncodeFloat32(r.Float32())
	case 6:
		return e.EncodeFloat64(r.NormFloat64())
	case 7:
		return e.EncodeString(randShortString(r))
	case 8:
		return e.EncodeBytes(randBytes(r))
	case 9: // ext -1 as fixext4, fixext8 or ext8
		return e.EncodeTime(time.Unix(r.Int64N(1<<35)-1<<34, r.Int64N(2)*r.Int64N(1e9)))
	case 10: // any length: fixext 1/2/4/8/16, ext8, ext16
		n := []int{0, 1, 2, 3, 4, 8, 16, 17, 255, 256, 300}[r.IntN(11)]
		if err := e.EncodeExtHeader(int8(r.IntN(256)-128), n); err != nil {
			return err
		}
		return e.Encode(msgpack.RawMessage(make([]byte, n)))
	case 11: // valid codes msgpack's Encoder never picks for these sizes
		switch r.IntN(6) {
		case 0:
			return raw(0xc9, 0, 0, 0, 2, 0x05, 0xaa, 0xbb) // ext32 of 2
		case 1:
			return raw(0xc8, 0, 0, 0x05) // ext16 of 0
		case 2:
			return raw(0xd9, 1, 'x') // str8 of 1
		case 3:
			return raw(0xc5, 0, 2, 1, 2) // bin16 of 2
		case 4:
			return raw(0xd4, 0x01, 0xcc) // fixext1 whose data looks like a code
		}
		return raw(0xd8, 0x7f, 0xdd, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) // fixext16
	case 12:
		return e.EncodeString(strings.Repeat("l", strLens[r.IntN(len(strLens))]))
	case 13, 14: // a map, sometimes with a map16 or map32 header for few pairs
		n := randSize(r)
		var err error
		switch r.IntN(5) {
		case 0:
			err = raw(0xde, 0, byte(n))
		case 1:
			err = raw(0xdf, 0, 0, 0, byte(n))
		default:
			err = e.EncodeMapLen(n)
		}
		for i := 0; err == nil && i < n; i++ {
			if err = e.EncodeString(randShortString(r)); err == nil {
				err = gen(r, e, depth-1)
			}
		}
		return err
	}
	n := randSize(r)
	var err error
	switch r.IntN(5) {
	case 0:
		err = raw(0xdc, 0, byte(n))
	case 1:
		err = raw(0xdd, 0, 0, 0, byte(n))
	default:
		err = e.EncodeArrayLen(n)
	}
	for i := 0; err == nil && i < n; i++ {
		err = gen(r, e, depth-1)
	}
	return err
}

// randSize is a container's size: mostly small, sometimes past 15.
func randSize(r *rand.Rand) int {
	if r.IntN(8) == 0 {
		return 16 + r.IntN(4)
	}
	return r.IntN(5)
}

func randShortString(r *rand.Rand) string {
	b := make([]byte, r.IntN(40))
	for i := range b {
		b[i] = 'a' + byte(r.IntN(26))
	}
	return string(b)
}

// Skip over random nested documents consumes each whole document, where
// msgpack's Skip ends it, and refuses each of its proper prefixes.
func TestSkipRandomDocuments(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var stream bytes.Buffer
	e := msgpack.NewEncoder(&stream)
	var ends []int
	for range 400 {
		if err := gen(r, e, 1+r.IntN(5)); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, stream.Len())
	}
	in := stream.Bytes()
	mp := NewReader(in)
	br := bytes.NewReader(in)
	d := msgpack.NewDecoder(br)
	start := 0
	for i, end := range ends {
		if err := mp.Skip(); err != nil || len(in)-mp.Len() != end {
			t.Fatalf("document %d (% x): %v, at %d, want %d", i, head(in[start:end]), err, len(in)-mp.Len(), end)
		}
		if err := d.Skip(); err != nil || len(in)-br.Len() != end {
			t.Fatalf("document %d: msgpack's Skip: %v, at %d, want %d", i, err, len(in)-br.Len(), end)
		}
		doc := in[start:end]
		step := 1
		if len(doc) > 2048 {
			step = len(doc)/512 + 1 // a long string: a sample of cuts suffices
		}
		for k := 0; k < len(doc); k += step {
			if got := runReader(doc[:k], method("Skip")); !errors.Is(got.err, ErrShort) {
				t.Fatalf("document %d cut to %d of %d: %v", i, k, len(doc), got.err)
			}
		}
		start = end
	}
	if mp.Len() != 0 {
		t.Fatalf("%d bytes left", mp.Len())
	}
}

// Random values in a stream, each written with one of the Encoder methods
// msgpack might use for it and read with any method that accepts it: both
// readers must return the same values and stay at the same place.
func TestReaderMatchesDecoderRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var stream bytes.Buffer
	e := msgpack.NewEncoder(&stream)
	var reads []readMethod
	ints := []string{"Uint64", "Uint32", "Int64", "Int", "Skip"}
	strs := []string{"View", "Bytes", "String", "Interned", "Skip"}
	pick := func(names []string) readMethod { return method(names[r.IntN(len(names))]) }
	for range 5000 {
		var err error
		switch r.IntN(7) {
		case 0, 1:
			encs := intEncodings(t, randUint(r))
			err = e.Encode(msgpack.RawMessage(encs[r.IntN(len(encs))]))
			reads = append(reads, pick(ints))
		case 2:
			if r.IntN(2) == 0 {
				err = e.EncodeString(randString(r))
			} else {
				err = e.EncodeBytes(randBytes(r)) // nil among them
			}
			reads = append(reads, pick(strs))
		case 3:
			err = e.EncodeBool(r.IntN(2) == 0)
			reads = append(reads, pick([]string{"Bool", "Skip"}))
		case 4:
			err = e.EncodeMapLen(randLen(r) & (1<<17 - 1))
			reads = append(reads, method("MapLen"))
		case 5:
			err = e.EncodeArrayLen(randLen(r) & (1<<17 - 1))
			reads = append(reads, method("ArrayLen"))
		default: // nil reads as 0, false, nil, "" or -1 with every method
			err = e.EncodeNil()
			reads = append(reads, readMethods[r.IntN(len(readMethods))])
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// A tail of zeros (fixints), so that each header counts no more
	// elements than bytes remain: this package refuses one that does.
	in := append(stream.Bytes(), make([]byte, 1<<17)...)
	mp := NewReader(in)
	br := bytes.NewReader(in)
	d := msgpack.NewDecoder(br)
	for i, m := range reads {
		got, err := m.mp(&mp)
		want, derr := m.dec(d)
		if err != nil || derr != nil || !reflect.DeepEqual(got, want) || mp.Len() != br.Len() {
			t.Fatalf("value %d, %s: %#v, %v; Decoder %#v, %v; %d and %d bytes left",
				i, m.name, got, err, want, derr, mp.Len(), br.Len())
		}
	}
}

// The readers the hot path uses cost nothing but the bytes they return.
func TestReaderDoesNotAllocate(t *testing.T) {
	in := encoded(t, func(e *msgpack.Encoder) error {
		_ = e.EncodeMapLen(2)
		_ = e.EncodeString("member-1")
		_ = e.EncodeUint(math.MaxUint64)
		_ = e.EncodeString("rest")
		_ = e.EncodeArrayLen(4)
		_ = e.EncodeFloat64(1.5)
		_ = e.EncodeBytes(make([]byte, 300))
		_ = e.EncodeTime(time.Unix(1, 2))
		_ = e.EncodeMapLen(1)
		_ = e.EncodeInt(-100000)
		return e.EncodeString(strings.Repeat("v", 70000))
	})
	allocs := testing.AllocsPerRun(100, func() {
		r := NewReader(in)
		if n, err := r.MapLen(); n != 2 || err != nil {
			t.Fatal(n, err)
		}
		if k, err := r.View(); string(k) != "member-1" || err != nil {
			t.Fatal(k, err)
		}
		if n, err := r.Uint64(); n != math.MaxUint64 || err != nil {
			t.Fatal(n, err)
		}
		if _, err := r.View(); err != nil {
			t.Fatal(err)
		}
		if err := r.Skip(); err != nil || r.Len() != 0 {
			t.Fatal(err, r.Len())
		}
	})
	if allocs != 0 {
		t.Fatalf("View, Uint64, MapLen and Skip cost %v allocations", allocs)
	}
}

// Nesting up to MaxDepth is skipped; deeper is refused before the stack
// grows with it, however deep the input claims to go.
func TestSkipDepth(t *testing.T) {
	nested := func(levels int) []byte {
		return append(bytes.Repeat([]byte{0x91}, levels), 0x01)
	}
	r := NewReader(nested(MaxDepth))
	if err := r.Skip(); err != nil || r.Len() != 0 {
		t.Fatalf("%d levels: %v", MaxDepth, err)
	}
	r = NewReader(nested(MaxDepth + 1))
	if err := r.Skip(); err == nil || errors.Is(err, ErrShort) {
		t.Fatalf("%d levels: %v", MaxDepth+1, err)
	}
	r = NewReader(bytes.Repeat([]byte{0x81, 0x01}, 1<<16))
	if err := r.Skip(); err == nil {
		t.Fatal("a map nested 65536 deep skipped")
	}
}

// FuzzReader: for any bytes, no method panics or reads past the input,
// and each agrees with msgpack's Decoder where that succeeds. Skipping
// value after value must also keep in step with msgpack.
func FuzzReader(f *testing.F) {
	doc := encoded(f, func(e *msgpack.Encoder) error {
		_ = e.EncodeMapLen(2)
		_ = e.EncodeString("k")
		_ = e.EncodeArrayLen(3)
		_ = e.EncodeFloat32(1)
		_ = e.EncodeBytes([]byte{1})
		_ = e.EncodeTime(time.Unix(1, 1))
		_ = e.EncodeString("n")
		return e.EncodeInt(-300)
	})
	for _, seed := range [][]byte{
		{}, {0xc0}, {0xcf, 1, 2, 3, 4, 5, 6, 7, 8}, {0xd3, 0x80}, {0xe0},
		{0xdb, 0xff, 0xff, 0xff, 0xff}, {0xdd, 0, 0, 0, 2, 0xc3, 0xc2},
		{0xc7, 1, 2, 3}, {0xd6, 0xff, 0, 0, 0, 1}, {0xd4, 0, 0x81, 1, 2},
		doc, doc[:len(doc)-2], bytes.Repeat([]byte{0x91}, 70),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, m := range readMethods {
			if s := mismatch(in, m); s != "" {
				t.Fatal(s)
			}
		}
		mp := NewReader(in)
		br := bytes.NewReader(in)
		d := msgpack.NewDecoder(br)
		for mp.Len() > 0 {
			err, derr := mp.Skip(), d.Skip()
			if err != nil || derr != nil {
				if err == nil {
					t.Fatalf("Skip passed what msgpack refuses: %v", derr)
				}
				break // they may differ on depth: mismatch covers that
			}
			if mp.Len() != br.Len() {
				t.Fatalf("Skip left %d bytes, msgpack %d", mp.Len(), br.Len())
			}
		}
	})
}
