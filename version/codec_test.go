package version

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"runtime"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// Mirrors of the public types without custom codecs, so msgpack falls back
// to reflection over the same tags.
type taggedEntry struct {
	Node    string `msgpack:"n"`
	Counter uint64 `msgpack:"c"`
	Stamp   int64  `msgpack:"t"`
}

type taggedVersion struct {
	Dot     taggedEntry   `msgpack:"d"`
	Context []taggedEntry `msgpack:"c"`
	Value   []byte        `msgpack:"v"`
	Deleted bool          `msgpack:"x"`
	Also    []taggedEntry `msgpack:"a,omitempty"`
}

func toTagged(s Siblings) []taggedVersion {
	if s == nil {
		return nil
	}
	out := make([]taggedVersion, len(s))
	for i, v := range s {
		out[i] = taggedVersion{
			Dot:     taggedEntry(v.Dot),
			Value:   v.Value,
			Deleted: v.Deleted,
		}
		if v.Context != nil {
			out[i].Context = make([]taggedEntry, len(v.Context))
			for j, e := range v.Context {
				out[i].Context[j] = taggedEntry(e)
			}
		}
		for _, d := range v.Also {
			out[i].Also = append(out[i].Also, taggedEntry(d))
		}
	}
	return out
}

func encode(t *testing.T, v any, compact bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(compact)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func randSiblings(r *rand.Rand) Siblings {
	n := r.Intn(4)
	if n == 0 && r.Intn(2) == 0 {
		return nil
	}
	s := make(Siblings, n)
	for i := range s {
		s[i] = Version{
			Dot:     Dot{Node: nodes[r.Intn(len(nodes))], Counter: r.Uint64() >> r.Intn(64), Stamp: r.Int63() - r.Int63()},
			Context: randClock(r),
			Deleted: r.Intn(3) == 0,
		}
		switch r.Intn(4) {
		case 0:
		case 1:
			s[i].Value = []byte{}
		default:
			s[i].Value = make([]byte, r.Intn(300))
			r.Read(s[i].Value)
		}
		if r.Intn(4) == 0 {
			s[i].Context = Clock{}
		}
		if r.Intn(3) == 0 {
			for range 1 + r.Intn(3) {
				s[i].Also = append(s[i].Also, Dot{Node: nodes[r.Intn(len(nodes))], Counter: 1 + r.Uint64()>>r.Intn(64)})
			}
		}
	}
	return s
}

// TestCodecMatchesTags proves the hand-written codecs are interchangeable
// with reflection over the struct tags, byte for byte.
func TestCodecMatchesTags(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for i := 0; i < 500; i++ {
		s := randSiblings(r)
		tagged := toTagged(s)

		custom, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if want := encode(t, tagged, true); !bytes.Equal(custom, want) {
			t.Fatalf("custom encoding differs from tagged:\n%x\n%x", custom, want)
		}
		if len(custom) > s.sizeHint() {
			t.Fatalf("size hint %d below actual %d", s.sizeHint(), len(custom))
		}

		// Reflection decodes what the custom encoder wrote...
		var back []taggedVersion
		if err := msgpack.Unmarshal(custom, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, tagged) {
			t.Fatalf("reflection decode = %+v, want %+v", back, tagged)
		}
		// ...and the custom decoder reads reflection output, including
		// the fixed-width integers reflection writes by default.
		for _, compact := range []bool{false, true} {
			got, err := UnmarshalSiblings(encode(t, tagged, compact))
			if err != nil {
				if errors.Is(err, ErrCorruptSiblings) && hasZeroDot(s) {
					continue
				}
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, s) {
				t.Fatalf("custom decode = %#v, want %#v", got, s)
			}
		}
	}
}

func hasZeroDot(s Siblings) bool {
	for _, v := range s {
		if v.Dot.Counter == 0 {
			return true
		}
	}
	return false
}

func TestCodecSingleValues(t *testing.T) {
	e := Entry{"node-1", 300, -7}
	d := Dot{"node-2", 1 << 40, 1 << 62}
	c := Clock{e, {"node-3", 1, 2}}
	v := Version{Dot: d, Context: c, Value: []byte("v"), Deleted: true}
	for _, tt := range []struct {
		name         string
		custom, want any
		into         any
	}{
		{"entry", e, taggedEntry(e), new(Entry)},
		{"dot", d, taggedEntry(d), new(Dot)},
		{"clock", c, toTagged(Siblings{v})[0].Context, new(Clock)},
		{"version", v, toTagged(Siblings{v})[0], new(Version)},
		{"nil clock", Clock(nil), []taggedEntry(nil), new(Clock)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := encode(t, tt.custom, false)
			if want := encode(t, tt.want, true); !bytes.Equal(b, want) {
				t.Fatalf("encoding %x, want %x", b, want)
			}
			if err := msgpack.Unmarshal(b, tt.into); err != nil {
				t.Fatal(err)
			}
			if got := reflect.ValueOf(tt.into).Elem().Interface(); !reflect.DeepEqual(got, tt.custom) {
				t.Fatalf("round trip %#v, want %#v", got, tt.custom)
			}
		})
	}
}

func TestUnmarshalSiblingsForwardCompatible(t *testing.T) {
	type future struct {
		Dot     taggedEntry    `msgpack:"d"`
		Context []taggedEntry  `msgpack:"c"`
		Value   []byte         `msgpack:"v"`
		Extra   map[string]any `msgpack:"zz"`
	}
	b := encode(t, []future{{Dot: taggedEntry{"a", 1, 2}, Value: []byte("x"), Extra: map[string]any{"k": []any{1, "two"}}}}, false)
	got, err := UnmarshalSiblings(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Siblings{{Dot: Dot{"a", 1, 2}, Value: []byte("x")}}); !got.Equal(want) {
		t.Fatalf("got %+v", got)
	}
}

func TestUnmarshalSiblingsCorrupt(t *testing.T) {
	good, err := Siblings{ver("a:2@5", "a:1 b:3", "hello"), tomb("b:4", "b:3")}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":          nil,
		"not msgpack":    {0xc1},
		"not an array":   {0xa1, 'x'},
		"trailing bytes": append(append([]byte{}, good...), 0xc0),
		"forged count":   {0xdd, 0xff, 0xff, 0xff, 0xff, 0x80},
		// A four-gigabyte value announced in a handful of bytes.
		"forged value length":  {0x91, 0x81, 0xa1, 'v', 0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2, 3},
		"forged string length": {0x91, 0x81, 0xa1, 'v', 0xdb, 0xff, 0xff, 0xff, 0xff},
		"zero dot":             encode(t, []taggedVersion{{Value: []byte("x")}}, false),
		"unsorted context":     encode(t, []taggedVersion{{Dot: taggedEntry{"a", 1, 0}, Context: []taggedEntry{{"b", 1, 0}, {"a", 1, 0}}}}, false),
		"deep unknown field":   encode(t, []map[string]any{{"d": taggedEntry{"a", 1, 0}, "q": nested(200)}}, false),
	}
	for i := range good {
		cases[fmt.Sprintf("truncated at %d", i)] = good[:i]
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := UnmarshalSiblings(b)
			if !errors.Is(err, ErrCorruptSiblings) {
				t.Fatalf("UnmarshalSiblings = %v, %v; want ErrCorruptSiblings", s, err)
			}
		})
	}
}

// TestForgedLengthsAreCheap guards against inputs that announce gigabytes
// in a few bytes: decoding them must not allocate in proportion.
func TestForgedLengthsAreCheap(t *testing.T) {
	inputs := [][]byte{
		{0x91, 0x81, 0xa1, 'v', 0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2, 3},
		{0x91, 0x81, 0xdb, 0xff, 0xff, 0xff, 0xff, 'v'},
		{0x91, 0x81, 0xa1, 'd', 0x81, 0xa1, 'n', 0xdb, 0xff, 0xff, 0xff, 0xff},
		{0x91, 0x81, 0xa1, 'q', 0xc9, 0xff, 0xff, 0xff, 0xff, 1},
		{0x91, 0x81, 0xa1, 'q', 0xdb, 0xff, 0xff, 0xff, 0xff, 1},
	}
	for _, in := range inputs {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 10 {
			if _, err := UnmarshalSiblings(in); err == nil {
				t.Fatalf("%x accepted", in)
			}
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / 10; per > 16<<10 {
			t.Fatalf("%x: %d bytes allocated per decode", in, per)
		}
	}
}

func TestMarshalBinaryRoundTrip(t *testing.T) {
	s := Siblings{ver("a:2@5", "a:1@1 b:3@2", "hello"), tomb("b:4@9", "b:3@2")}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalSiblings(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip = %#v", got)
	}
	if len(b) > s.sizeHint() {
		t.Fatalf("size hint %d below actual %d", s.sizeHint(), len(b))
	}
}
