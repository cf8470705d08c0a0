package version

import (
	"encoding/base64"
	"errors"
	"reflect"
	"testing"
)

func FuzzDecodeContext(f *testing.F) {
	for _, c := range []Clock{nil, cl("a:1"), cl("a:1@5 b:2@6 c:3@7"), manyEntries(MaxContextEntries)} {
		f.Add(EncodeContext(c, nil))
	}
	for _, s := range []string{"!", "A", "kQ", "3f____8", "kYGhbqFh", "koKhbqFioWMBgqFuoWGhYwE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, _, err := DecodeContext(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidContext) {
				t.Fatalf("error %q does not wrap ErrInvalidContext", err)
			}
			return
		}
		if len(c) > MaxContextEntries {
			t.Fatalf("accepted %d entries", len(c))
		}
		for i, e := range c {
			if e.Node == "" || e.Counter == 0 || (i > 0 && c[i-1].Node >= e.Node) {
				t.Fatalf("accepted malformed clock %#v", c)
			}
		}
		again, _, err := DecodeContext(EncodeContext(c, nil))
		if err != nil || !again.identical(c) {
			t.Fatalf("re-encoding changed %#v to %#v (%v)", c, again, err)
		}
	})
}

func FuzzUnmarshalSiblings(f *testing.F) {
	for _, s := range []Siblings{nil, {}, {ver("a:1", "", "x")}, {ver("a:2@5", "a:1 b:3", "hello"), tomb("b:4", "b:3")}} {
		b, err := s.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "wQ", "3f____-A", "kYGhdsb_____AQID", "kYKhZIOhbqFhoWMBoXQAoXGRkZGRAQ"} {
		b, _ := base64.RawURLEncoding.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := UnmarshalSiblings(data)
		if err != nil {
			if !errors.Is(err, ErrCorruptSiblings) {
				t.Fatalf("error %q does not wrap ErrCorruptSiblings", err)
			}
			return
		}
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		again, err := UnmarshalSiblings(b)
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("re-encoding changed %#v to %#v (%v)", s, again, err)
		}
		// Whatever was stored, the set operations must cope with it.
		_ = Reconcile(s, s).Context()
	})
}
