package intern

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func TestBytesSharesShortStrings(t *testing.T) {
	a := Bytes([]byte("node-7"))
	b := Bytes([]byte("node-7"))
	if a != "node-7" || b != "node-7" {
		t.Fatalf("Bytes: %q %q", a, b)
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = Bytes([]byte("node-7")) }); allocs != 0 {
		t.Fatalf("a string already interned cost %v allocations", allocs)
	}
	long := strings.Repeat("x", MaxLen+1)
	if got := Bytes([]byte(long)); got != long {
		t.Fatalf("long string %q", got)
	}
}

// Strings that collide on a slot, and concurrent callers, still each get
// their own value back.
func TestBytesIsExactUnderChurn(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20000; i++ {
				want := fmt.Sprintf("n%d", (i*7+g)%3000)
				if got := Bytes([]byte(want)); got != want {
					t.Errorf("Bytes(%q) = %q", want, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestDecodeReadsWhatDecodeStringReads(t *testing.T) {
	for _, v := range []any{"", "n1", strings.Repeat("a", MaxLen), strings.Repeat("b", MaxLen+5), []byte("bin"), nil} {
		var buf bytes.Buffer
		enc := msgpack.NewEncoder(&buf)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode("next"); err != nil { // what follows must be left in place
			t.Fatal(err)
		}
		raw := buf.Bytes()
		want, err := msgpack.NewDecoder(bytes.NewReader(raw)).DecodeString()
		if err != nil {
			t.Fatal(err)
		}
		d := msgpack.NewDecoder(bytes.NewReader(raw))
		got, err := Decode(d)
		if err != nil || got != want {
			t.Fatalf("Decode(%v) = %q, %v; want %q", v, got, err, want)
		}
		if next, err := d.DecodeString(); err != nil || next != "next" {
			t.Fatalf("after %v: %q, %v", v, next, err)
		}
	}
	if _, err := Decode(msgpack.NewDecoder(bytes.NewReader([]byte{0xa5, 'a'}))); err == nil {
		t.Fatal("a truncated string decoded")
	}
	if _, err := Decode(msgpack.NewDecoder(bytes.NewReader([]byte{0x01}))); err == nil {
		t.Fatal("an integer decoded as a string")
	}
}

func TestDecodeOfAKnownStringDoesNotAllocate(t *testing.T) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	for i := 0; i < 100; i++ {
		_ = enc.EncodeString("member-42")
	}
	raw := buf.Bytes()
	d := msgpack.NewDecoder(bytes.NewReader(raw))
	if _, err := Decode(d); err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(50, func() {
		if s, err := Decode(d); err != nil || s != "member-42" {
			t.Fatalf("%q %v", s, err)
		}
	}); allocs != 0 {
		t.Fatalf("decoding an interned string cost %v allocations", allocs)
	}
}

// Decode must read what DecodeString reads, and leave the decoder at the
// same place; known keys cost no allocation.
func TestDecodeMatchesDecodeString(t *testing.T) {
	for _, in := range [][]byte{
		{0xa0, 0x01}, {0xa1, 'k', 0x01}, {0xa2, 'p', 'w', 0x01}, {0xa2, 'z', 'z', 0x01},
		{0xa2, 0xff, 0x00, 0x01}, {0xa3, 'a', 'b', 'c', 0x01}, {0xd9, 0x01, 'k', 0x01},
		{0xc4, 0x02, 'i', 'd', 0x01}, {0xc0, 0x01}, {0x05}, {0xa2, 'p'}, {0xa1}, {},
	} {
		a := msgpack.NewDecoder(bytes.NewReader(in))
		b := msgpack.NewDecoder(bytes.NewReader(in))
		want, wantErr := a.DecodeString()
		got, err := Decode(b)
		if got != want || (err == nil) != (wantErr == nil) {
			t.Errorf("%x: Decode %q, %v; DecodeString %q, %v", in, got, err, want, wantErr)
		}
		if err == nil {
			na, _ := a.DecodeInt()
			nb, errb := b.DecodeInt()
			if na != nb || errb != nil {
				t.Errorf("%x: decoder left at a different place", in)
			}
		}
	}
	k := []byte{0xa2, 'p', 'w', 0xa1, 'k'}
	r := bytes.NewReader(k)
	d := msgpack.NewDecoder(r)
	if n := testing.AllocsPerRun(100, func() {
		r.Reset(k)
		if a, err := Decode(d); a != "pw" || err != nil {
			t.Fatal(a, err)
		}
		if b, err := Decode(d); b != "k" || err != nil {
			t.Fatal(b, err)
		}
	}); n != 0 {
		t.Errorf("Decode: %v allocations", n)
	}
}
