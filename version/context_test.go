package version

import (
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func manyEntries(n int) Clock {
	c := make(Clock, n)
	for i := range c {
		c[i] = Entry{Node: "n" + strconv.Itoa(1000+i), Counter: uint64(i + 1), Stamp: int64(i) << 40}
	}
	return c
}

func TestContextRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   Clock
	}{
		{"one", cl("a:1@1")},
		{"typical", Clock{{"node-1", 17, 1700000000000000000}, {"node-2", 3, 1700000000000000001}, {"node-3", 1, -5}}},
		{"large counters", Clock{{"a", MaxCounter, 1<<63 - 1}, {"b", 1 << 40, -1 << 63}}},
		{"at entry limit", manyEntries(MaxContextEntries)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := EncodeContext(tt.in, nil)
			if strings.ContainsAny(s, "+/=") {
				t.Fatalf("context %q is not URL-safe", s)
			}
			got, _, err := DecodeContext(s)
			if err != nil {
				t.Fatal(err)
			}
			if !got.identical(tt.in) {
				t.Fatalf("round trip = %#v, want %#v", got, tt.in)
			}
		})
	}
	for _, empty := range []Clock{nil, {}} {
		if s := EncodeContext(empty, nil); s != "" {
			t.Fatalf("EncodeContext(%#v, nil) = %q", empty, s)
		}
	}
	if c, _, err := DecodeContext(""); c != nil || err != nil {
		t.Fatalf(`DecodeContext("") = %v, %v`, c, err)
	}
}

// rawContext encodes arbitrary msgpack as a context string.
func rawContext(t *testing.T, v any) string {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestDecodeContextErrors(t *testing.T) {
	type e = map[string]any
	valid := EncodeContext(cl("a:1 b:2"), nil)
	oversized := Clock{{Node: strings.Repeat("x", 3500), Counter: 1}}
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"too large", strings.Repeat("A", MaxContextSize+1), ErrContextTooLarge},
		{"too large but valid", EncodeContext(oversized, nil), ErrContextTooLarge},
		{"bad base64 char", "a!b", ErrContextBase64},
		{"padded base64", valid + "==", ErrContextBase64},
		{"standard alphabet", "+/+/", ErrContextBase64},
		{"truncated base64", "A", ErrContextBase64},
		{"not msgpack", base64.RawURLEncoding.EncodeToString([]byte{0xc1}), ErrContextMsgpack},
		{"truncated msgpack", base64.RawURLEncoding.EncodeToString(mustDecode(t, valid)[:10]), ErrContextMsgpack},
		{"trailing bytes", base64.RawURLEncoding.EncodeToString(append(mustDecode(t, valid), 0)), ErrContextMsgpack},
		{"not an array", rawContext(t, "hello"), ErrContextMsgpack},
		{"entry not a map", rawContext(t, []any{1, 2}), ErrContextMsgpack},
		{"counter not a number", rawContext(t, []any{e{"n": "a", "c": "x"}}), ErrContextMsgpack},
		{"too many entries", EncodeContext(manyEntries(MaxContextEntries+1), nil), ErrContextTooManyEntries},
		// A count the bytes cannot hold is malformed before it is too many.
		{"forged huge count", base64.RawURLEncoding.EncodeToString([]byte{0xdd, 0xff, 0xff, 0xff, 0xff}), ErrContextMsgpack},
		{"unsorted", rawContext(t, []any{e{"n": "b", "c": 1}, e{"n": "a", "c": 1}}), ErrClockUnsorted},
		{"duplicate", rawContext(t, []any{e{"n": "a", "c": 1}, e{"n": "a", "c": 2}}), ErrClockDuplicate},
		{"empty node", rawContext(t, []any{e{"n": "", "c": 1}}), ErrContextEntry},
		{"missing node", rawContext(t, []any{e{"c": 1}}), ErrContextEntry},
		{"zero counter", rawContext(t, []any{e{"n": "a", "c": 0}}), ErrContextEntry},
		{"deeply nested unknown field", rawContext(t, []any{e{"n": "a", "c": 1, "z": nested(100)}}), ErrContextMsgpack},
		{"named events unsorted", rawContext(t, e{"c": []any{e{"n": "a", "c": 1}}, "a": []any{e{"n": "b", "c": 3}, e{"n": "b", "c": 2}}}), ErrContextEntry},
		{"named events repeated", rawContext(t, e{"a": []any{e{"n": "b", "c": 3}, e{"n": "b", "c": 3}}}), ErrContextEntry},
		{"named event zero counter", rawContext(t, e{"a": []any{e{"n": "b", "c": 0}}}), ErrContextEntry},
		{"too many named events", EncodeContext(nil, manyDots(MaxAlso+1)), ErrContextTooManyEntries},
		{"unknown context field", rawContext(t, e{"c": []any{e{"n": "a", "c": 1}}, "z": 1}), ErrContextMsgpack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := DecodeContext(tt.in)
			if err == nil {
				t.Fatalf("DecodeContext accepted %v", c)
			}
			if !errors.Is(err, ErrInvalidContext) || !errors.Is(err, tt.want) {
				t.Fatalf("error %q does not wrap %q", err, tt.want)
			}
			if c != nil {
				t.Fatalf("clock %v returned with error", c)
			}
		})
	}
}

func TestDecodeContextIgnoresUnknownFields(t *testing.T) {
	s := rawContext(t, []any{map[string]any{"n": "a", "c": 2, "t": 5, "future": []any{1, map[string]any{"k": "v"}}}})
	c, _, err := DecodeContext(s)
	if err != nil {
		t.Fatal(err)
	}
	if !c.identical(cl("a:2@5")) {
		t.Fatalf("got %#v", c)
	}
}

func nested(depth int) any {
	var v any = 1
	for i := 0; i < depth; i++ {
		v = []any{v}
	}
	return v
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestValidateRejectsCountersThatWouldWrap(t *testing.T) {
	cases := []struct {
		name string
		c    Clock
		ok   bool
	}{
		{"empty", nil, true},
		{"normal", Clock{{Node: "a", Counter: 3}, {Node: "b", Counter: 1}}, true},
		{"at the bound", Clock{{Node: "a", Counter: MaxCounter}}, true},
		{"over the bound", Clock{{Node: "a", Counter: MaxCounter + 1}}, false},
		{"max uint64", Clock{{Node: "a", Counter: ^uint64(0)}}, false},
		{"zero counter", Clock{{Node: "a"}}, false},
		{"no node", Clock{{Counter: 1}}, false},
		{"unsorted", Clock{{Node: "b", Counter: 1}, {Node: "a", Counter: 1}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.c.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate(%v) = %v, want ok=%v", tc.c, err, tc.ok)
			}
			if tc.ok && len(tc.c) > 0 {
				if _, _, err := DecodeContext(EncodeContext(tc.c, nil)); err != nil {
					t.Fatalf("valid clock does not round-trip: %v", err)
				}
			}
		})
	}
	if _, _, err := DecodeContext(EncodeContext(Clock{{Node: "a", Counter: ^uint64(0)}}, nil)); err == nil {
		t.Fatal("a context with counter 2^64-1 was accepted")
	}
}

func TestEncodeContextAllocatesOnlyItsString(t *testing.T) {
	c := NewClock(Entry{Node: "n1", Counter: 7, Stamp: 1}, Entry{Node: "n2", Counter: 9, Stamp: 2})
	want := EncodeContext(c, nil)
	if allocs := testing.AllocsPerRun(100, func() {
		if got := EncodeContext(c, nil); got != want {
			t.Fatalf("EncodeContext changed: %q, want %q", got, want)
		}
	}); allocs >= 2 {
		t.Fatalf("EncodeContext cost %v allocations; want the string alone", allocs)
	}
	if back, _, err := DecodeContext(want); err != nil || back.Compare(c) != Equal {
		t.Fatalf("round trip: %v %v", back, err)
	}
}

func manyDots(n int) Dots {
	var out Dots
	for i := range n {
		out = append(out, Dot{Node: "n", Counter: uint64(i + 1)})
	}
	return out
}

// A context with single events beyond its clock survives the trip through
// a client; one without is the clock's encoding alone, as before.
func TestContextWithNamedEventsRoundTrips(t *testing.T) {
	c, also := cl("a:4 b:2"), alsoOf("a:9 c:3")
	back, backAlso, err := DecodeContext(EncodeContext(c, also))
	if err != nil || back.Compare(c) != Equal || !slices.Equal(backAlso, also) {
		t.Fatalf("round trip = %v %v %v; want %v %v", back, backAlso, err, c, also)
	}
	back, backAlso, err = DecodeContext(EncodeContext(nil, also))
	if err != nil || back != nil || !slices.Equal(backAlso, also) {
		t.Fatalf("named events alone = %v %v %v", back, backAlso, err)
	}
	raw := mustDecode(t, EncodeContext(c, nil))
	if want := c.AppendMsgpack(nil); string(raw) != string(want) {
		t.Fatalf("a clock alone encodes as %x, want the clock's %x", raw, want)
	}
}
