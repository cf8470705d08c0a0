package messages

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// Benchmarks: a typical message encoded and decoded (into a new struct, as
// the registry does) by the hand-written codec and by reflection.

type kvBench struct {
	buf bytes.Buffer
	enc *msgpack.Encoder
	r   bytes.Reader
	dec *msgpack.Decoder
}

func newKVBench() *kvBench {
	k := &kvBench{}
	k.enc = msgpack.NewEncoder(&k.buf)
	k.dec = msgpack.NewDecoder(&k.r)
	return k
}

func benchKV[F, P any, PF interface {
	*F
	sliceCodec
}](b *testing.B, v F) {
	p := reflect.ValueOf(v).Convert(reflect.TypeOf((*P)(nil)).Elem()).Interface().(P)
	b.Run("fast", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			buf = PF(&v).appendBody(buf[:0])
			if err := decodeSlice(PF(new(F)), buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reflect", func(b *testing.B) {
		k := newKVBench()
		b.ReportAllocs()
		for b.Loop() {
			k.buf.Reset()
			if err := k.enc.Encode(&p); err != nil {
				b.Fatal(err)
			}
			k.r.Reset(k.buf.Bytes())
			if err := k.dec.Decode(new(P)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkKVCodec(b *testing.B) {
	f := newKVFixture()
	key := []byte("user:0000000042")
	value := bytes.Repeat([]byte{7}, 100)
	b.Run("ClientPut", func(b *testing.B) {
		benchKV[ClientPut, clientPutPlain](b, ClientPut{Key: key, Value: value, Context: f.clock3, W: 2, Hops: 1, ID: 1 << 40, Origin: "127.0.0.1:7001"})
	})
	b.Run("ClientPutReply", func(b *testing.B) {
		benchKV[ClientPutReply, clientPutReplyPlain](b, ClientPutReply{Status: StatusOK, Context: f.clock3, Ring: 12})
	})
	b.Run("ClientGet", func(b *testing.B) {
		benchKV[ClientGet, clientGetPlain](b, ClientGet{Key: key, R: 2})
	})
	b.Run("ClientGetReply", func(b *testing.B) {
		benchKV[ClientGetReply, clientGetReplyPlain](b, ClientGetReply{Status: StatusOK, Values: [][]byte{value}, Context: f.clock3, Ring: 12})
	})
	b.Run("CoordinatePut", func(b *testing.B) {
		benchKV[CoordinatePut, coordinatePutPlain](b, CoordinatePut{ReqID: 77, Partition: 12, Key: key, Value: value, Context: f.clock3})
	})
	b.Run("CoordinatePutDone", func(b *testing.B) {
		benchKV[CoordinatePutDone, coordinatePutDonePlain](b, CoordinatePutDone{ReqID: 77, Node: "node-1", Version: f.one[0], Set: f.one, Partition: 12, Key: key, Status: StatusOK, Reply: f.clock3})
	})
	b.Run("ReplicaPut", func(b *testing.B) {
		benchKV[ReplicaPut, replicaPutPlain](b, ReplicaPut{ReqID: 77, Partition: 12, Key: key, Versions: f.one, Ring: 12})
	})
	b.Run("ReplicaGetReply", func(b *testing.B) {
		benchKV[ReplicaGetReply, replicaGetReplyPlain](b, ReplicaGetReply{ReqID: 77, Node: "node-2", Versions: f.one})
	})
}

// kvFuzzTypes pairs each message with its mirror for FuzzKVDecode.
var kvFuzzTypes = []struct {
	tag   Tag
	plain func() any
}{
	{TagClientPut, func() any { return new(clientPutPlain) }},
	{TagClientPutReply, func() any { return new(clientPutReplyPlain) }},
	{TagClientGet, func() any { return new(clientGetPlain) }},
	{TagClientGetReply, func() any { return new(clientGetReplyPlain) }},
	{TagCoordinatePut, func() any { return new(coordinatePutPlain) }},
	{TagCoordinatePutDone, func() any { return new(coordinatePutDonePlain) }},
	{TagReplicaPut, func() any { return new(replicaPutPlain) }},
	{TagReplicaGetReply, func() any { return new(replicaGetReplyPlain) }},
}

// FuzzKVDecode decodes arbitrary bodies as each key-value message: the
// hand-written decoder must not panic, must agree with reflection whenever
// both accept the body, and what it accepts must re-encode to itself.
func FuzzKVDecode(f *testing.F) {
	fx := newKVFixture()
	seeds := []any{
		&ClientPut{Key: []byte("k"), Value: []byte("v"), Context: fx.clock3, PW: 1, ID: 9, Origin: "o"},
		&ClientPutReply{Status: StatusOK, Context: fx.clock3, Ring: 2},
		&ClientGet{Key: []byte("k"), R: 1, PR: 1},
		&ClientGetReply{Status: StatusOK, Values: [][]byte{[]byte("v"), nil}, Context: fx.clock3, Ring: 1},
		&CoordinatePut{Home: "h", ReqID: 1, Partition: 2, Key: []byte("k"), Context: fx.clock3},
		&CoordinatePutDone{ReqID: 1, Node: "n", Version: fx.one[0], Set: fx.three, Key: []byte("k"), Reply: fx.clock3, MaybeStored: true},
		&ReplicaPut{ReqID: 1, Key: []byte("k"), Versions: fx.three, Ring: 3},
		&ReplicaGetReply{ReqID: 1, Node: "n", Versions: fx.one, Partial: true},
	}
	for i, m := range seeds {
		b, err := Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
		f.Add(uint8(i), b[:len(b)/2])
		f.Add(uint8(i), addUnknownKeys(f, b))
	}
	f.Add(uint8(0), []byte{0x81, 0xa2, 'p', 'w', 0xc0})
	f.Add(uint8(2), []byte{0x82, 0xa1, 'k', 0xc4, 0x00, 0xa1, 'k', 0xc0})
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		kt := kvFuzzTypes[int(which)%len(kvFuzzTypes)]
		msg, err := Unmarshal(kt.tag, body)
		if err != nil {
			return
		}
		plain := kt.plain()
		if checkBody(body) == nil && msgpack.Unmarshal(body, plain) == nil {
			want := reflect.ValueOf(plain).Elem().Convert(reflect.TypeOf(msg).Elem()).Interface()
			if got := reflect.ValueOf(msg).Elem().Interface(); !reflect.DeepEqual(got, want) {
				t.Fatalf("fast decoded %#v, reflection %#v", got, want)
			}
		}
		again, err := Marshal(msg)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := Unmarshal(kt.tag, again)
		if err != nil || !reflect.DeepEqual(back, msg) {
			t.Fatalf("re-encoded %#v as %#v, %v", msg, back, err)
		}
	})
}
