package mpbuf

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// encoded returns what msgpack's Encoder writes for the calls in f: the
// bytes every Append function must reproduce.
func encoded(t testing.TB, f func(*msgpack.Encoder) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := f(msgpack.NewEncoder(&buf)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The boundaries of every integer encoding, on both sides of each limit.
var (
	uintBoundaries = []uint64{
		0, 1, 127, 128, 255, 256, 65535, 65536,
		math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64,
	}
	intBoundaries = []int64{
		0, 1, 127, 128, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64,
		-1, -32, -33, -128, -129, -32768, -32769,
		math.MinInt32, math.MinInt32 - 1, math.MinInt64 + 1, math.MinInt64,
	}
	strLens = []int{0, 1, 31, 32, 255, 256, 65535, 65536}
	binLens = []int{0, 1, 255, 256, 65535, 65536}
	hdrLens = []int{0, 1, 15, 16, 65535, 65536, math.MaxInt32} // MaxInt32: a map32, and an int on every platform
)

// checkAppend compares an Append result with msgpack's, and checks that
// what dst already held is kept in front.
func checkAppend(t *testing.T, what string, app func([]byte) []byte, enc func(*msgpack.Encoder) error) {
	t.Helper()
	want := encoded(t, enc)
	if got := app(nil); !bytes.Equal(got, want) {
		t.Fatalf("%s: got % x, want % x", what, head(got), head(want))
	}
	prefix := []byte{0xaa, 0xbb}
	got := app(append([]byte(nil), prefix...))
	if !bytes.Equal(got[:2], prefix) || !bytes.Equal(got[2:], want) {
		t.Fatalf("%s after a prefix: got % x, want aa bb % x", what, head(got), head(want))
	}
}

// head keeps failure messages short for long strings.
func head(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

func TestAppendIntegerBoundaries(t *testing.T) {
	for _, n := range uintBoundaries {
		checkAppend(t, "AppendUint", func(b []byte) []byte { return AppendUint(b, n) },
			func(e *msgpack.Encoder) error { return e.EncodeUint(n) })
	}
	for _, n := range intBoundaries {
		checkAppend(t, "AppendInt", func(b []byte) []byte { return AppendInt(b, n) },
			func(e *msgpack.Encoder) error { return e.EncodeInt(n) })
	}
}

// The sizes themselves, written out, so that a change in both this package
// and msgpack (or a misread of the format) does not go unnoticed.
func TestAppendIntegerSizes(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want []byte
	}{
		{0, []byte{0x00}},
		{127, []byte{0x7f}},
		{128, []byte{0xcc, 0x80}},
		{256, []byte{0xcd, 0x01, 0x00}},
		{65536, []byte{0xce, 0x00, 0x01, 0x00, 0x00}},
		{math.MaxUint32 + 1, []byte{0xcf, 0, 0, 0, 1, 0, 0, 0, 0}},
		{-1, []byte{0xff}},
		{-32, []byte{0xe0}},
		{-33, []byte{0xd0, 0xdf}},
		{-129, []byte{0xd1, 0xff, 0x7f}},
		{-32769, []byte{0xd2, 0xff, 0xff, 0x7f, 0xff}},
		{math.MinInt32 - 1, []byte{0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff}},
	} {
		if got := AppendInt(nil, c.n); !bytes.Equal(got, c.want) {
			t.Errorf("AppendInt(%d) = % x, want % x", c.n, got, c.want)
		}
	}
}

func TestAppendStringAndBytesBoundaries(t *testing.T) {
	for _, n := range strLens {
		s := strings.Repeat("s", n)
		checkAppend(t, "AppendString", func(b []byte) []byte { return AppendString(b, s) },
			func(e *msgpack.Encoder) error { return e.EncodeString(s) })
	}
	// nil is msgpack's nil; empty is a zero-length bin, not nil.
	checkAppend(t, "AppendBytes(nil)", func(b []byte) []byte { return AppendBytes(b, nil) },
		func(e *msgpack.Encoder) error { return e.EncodeBytes(nil) })
	if got := AppendBytes(nil, nil); !bytes.Equal(got, []byte{0xc0}) {
		t.Fatalf("AppendBytes(nil) = % x", got)
	}
	if got := AppendBytes(nil, []byte{}); !bytes.Equal(got, []byte{0xc4, 0x00}) {
		t.Fatalf("AppendBytes(empty) = % x", got)
	}
	for _, n := range binLens {
		p := bytes.Repeat([]byte{0xb1}, n)
		checkAppend(t, "AppendBytes", func(b []byte) []byte { return AppendBytes(b, p) },
			func(e *msgpack.Encoder) error { return e.EncodeBytes(p) })
	}
}

func TestAppendHeadersAndScalars(t *testing.T) {
	for _, n := range hdrLens {
		checkAppend(t, "AppendMapLen", func(b []byte) []byte { return AppendMapLen(b, n) },
			func(e *msgpack.Encoder) error { return e.EncodeMapLen(n) })
		checkAppend(t, "AppendArrayLen", func(b []byte) []byte { return AppendArrayLen(b, n) },
			func(e *msgpack.Encoder) error { return e.EncodeArrayLen(n) })
	}
	for _, v := range []bool{false, true} {
		checkAppend(t, "AppendBool", func(b []byte) []byte { return AppendBool(b, v) },
			func(e *msgpack.Encoder) error { return e.EncodeBool(v) })
	}
	checkAppend(t, "AppendNil", AppendNil, (*msgpack.Encoder).EncodeNil)
}

// randUint draws integers spread over every encoding size: a uniform draw
// would almost always be a 9-byte uint64.
func randUint(r *rand.Rand) uint64 {
	n := r.Uint64() >> r.UintN(65)
	switch r.IntN(8) {
	case 0: // right at a boundary
		return uintBoundaries[r.IntN(len(uintBoundaries))]
	case 1: // just beside one
		return uintBoundaries[r.IntN(len(uintBoundaries))] + uint64(r.IntN(3)) - 1
	}
	return n
}

func randInt(r *rand.Rand) int64 {
	n := int64(randUint(r))
	if r.IntN(2) == 0 {
		return int64(randUint(r) >> 1) // non-negative
	}
	return n // either sign, every size
}

// Random values, each appended alone and all appended in one buffer, must
// be msgpack's bytes. Fixed seed: a failure reproduces.
func TestAppendMatchesEncoderRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var got []byte
	var all bytes.Buffer
	enc := msgpack.NewEncoder(&all)
	for range 5000 {
		var app func([]byte) []byte
		var ef func(*msgpack.Encoder) error
		switch r.IntN(8) {
		case 0:
			n := randUint(r)
			app = func(b []byte) []byte { return AppendUint(b, n) }
			ef = func(e *msgpack.Encoder) error { return e.EncodeUint(n) }
		case 1:
			n := randInt(r)
			app = func(b []byte) []byte { return AppendInt(b, n) }
			ef = func(e *msgpack.Encoder) error { return e.EncodeInt(n) }
		case 2:
			s := randString(r)
			app = func(b []byte) []byte { return AppendString(b, s) }
			ef = func(e *msgpack.Encoder) error { return e.EncodeString(s) }
		case 3:
			p := randBytes(r)
			app = func(b []byte) []byte { return AppendBytes(b, p) }
			ef = func(e *msgpack.Encoder) error { return e.EncodeBytes(p) }
		case 4:
			n := randLen(r)
			app = func(b []byte) []byte { return AppendMapLen(b, n) }
			ef = func(e *msgpack.Encoder) error { return e.EncodeMapLen(n) }
		case 5:
			n := randLen(r)
			app = func(b []byte) []byte { return AppendArrayLen(b, n) }
			ef = func(e *msgpack.Encoder) error { return e.EncodeArrayLen(n) }
		case 6:
			v := r.IntN(2) == 0
			app = func(b []byte) []byte { return AppendBool(b, v) }
			ef = func(e *msgpack.Encoder) error { return e.EncodeBool(v) }
		default:
			app, ef = AppendNil, (*msgpack.Encoder).EncodeNil
		}
		if one, want := app(nil), encoded(t, ef); !bytes.Equal(one, want) {
			t.Fatalf("got % x, want % x", head(one), head(want))
		}
		got = app(got)
		if err := ef(enc); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, all.Bytes()) {
		t.Fatal("a sequence of appends differs from the encoder's stream")
	}
}

// randLength is mostly short, sometimes at or across a size boundary.
func randLength(r *rand.Rand, bounds []int) int {
	if r.IntN(4) == 0 {
		return max(0, bounds[r.IntN(len(bounds))]+r.IntN(3)-1)
	}
	return r.IntN(40)
}

func randString(r *rand.Rand) string {
	n := randLength(r, strLens)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}

func randBytes(r *rand.Rand) []byte {
	if r.IntN(10) == 0 {
		return nil
	}
	b := make([]byte, randLength(r, binLens))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func randLen(r *rand.Rand) int {
	if r.IntN(4) == 0 {
		return hdrLens[r.IntN(len(hdrLens))]
	}
	return r.IntN(70000)
}

// Appending into a buffer with room must not allocate: that is the point
// of the package, on every request.
func TestAppendDoesNotAllocate(t *testing.T) {
	s := strings.Repeat("k", 65536)
	p := []byte(s)
	buf := make([]byte, 0, 1<<18)
	allocs := testing.AllocsPerRun(100, func() {
		b := buf[:0]
		b = AppendNil(b)
		b = AppendBool(b, true)
		b = AppendUint(b, math.MaxUint64)
		b = AppendUint(b, 300)
		b = AppendInt(b, math.MinInt64)
		b = AppendInt(b, -200)
		b = AppendString(b, "member-1")
		b = AppendString(b, s)
		b = AppendBytes(b, p[:300])
		b = AppendBytes(b, p)
		b = AppendBytes(b, nil)
		b = AppendMapLen(b, 70000)
		b = AppendArrayLen(b, 3)
		buf = b
	})
	if allocs != 0 {
		t.Fatalf("appending into a buffer with room cost %v allocations", allocs)
	}
}
