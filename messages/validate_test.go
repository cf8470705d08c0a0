package messages

import (
	"errors"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// A frame that claims billions of elements must be refused before any
// allocation: msgpack would otherwise allocate at the claimed length and
// the process would die out of memory.
func TestHugeDeclaredLengthsAreRefusedBeforeDecoding(t *testing.T) {
	// A map whose "m" (members) claims 2^32-1 elements, then nothing.
	hostile := []byte{0x81, 0xa1, 'm', 0xdd, 0xff, 0xff, 0xff, 0xff}
	bodies := map[string][]byte{
		"array 32":  hostile,
		"map 32":    {0xdf, 0xff, 0xff, 0xff, 0xff},
		"bin 32":    {0x81, 0xa1, 'v', 0xc6, 0xff, 0xff, 0xff, 0xff},
		"str 32":    {0x81, 0xa1, 'n', 0xdb, 0x7f, 0xff, 0xff, 0xff},
		"array 16":  {0x81, 0xa1, 'm', 0xdc, 0xff, 0xff},
		"deep nest": append(repeat(0x91, 100), 0xc0),
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			_, err := Unmarshal(TagGossip, body)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err %v, want ErrMalformed", err)
			}
		})
	}
}

func TestCheckBodyAcceptsWhatMsgpackWrites(t *testing.T) {
	values := []any{
		nil, true, 1, -1, 300, -70000, uint64(1) << 40, 1.5, float32(2.5), "s", string(make([]byte, 300)),
		make([]byte, 70000), []any{1, "a", []byte("b")}, map[string]any{"a": 1, "b": []int{1, 2}},
		make([]int, 20), msgpack.RawMessage{0xc0},
	}
	for _, v := range values {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkBody(b); err != nil {
			t.Errorf("%T %v: %v", v, v, err)
		}
	}
	for _, msg := range []any{&Ping{Seq: 1}, &JoinRequest{ID: "n1", Addr: "a:1", Cluster: "c", Partitions: 32, Replicas: 3},
		&ClientGetReply{Values: [][]byte{[]byte("x"), nil}}} {
		b, err := Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkBody(b); err != nil {
			t.Errorf("%T: %v", msg, err)
		}
	}
}

func repeat(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}
