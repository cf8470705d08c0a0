package messages

import (
	"reflect"
	"testing"

	"github.com/anthdm/hollywood/actor"
	"github.com/vmihailenco/msgpack/v5"
)

// The hand-written codecs must read what the struct tags would write, and
// write what the tags would read, so nodes of either kind interoperate.
func TestHandWrittenCodecsMatchTheTaggedForm(t *testing.T) {
	type blobTags struct {
		Seq  uint64 `msgpack:"s"`
		Data []byte `msgpack:"d"`
		New  string `msgpack:"z"` // a field a newer sender might add
	}
	cases := []struct {
		name   string
		tagged any
		fast   any
	}{
		{"blob", &blobTags{Seq: 7, Data: []byte("abc"), New: "ignored"}, &Blob{Seq: 7, Data: []byte("abc")}},
		{"echo", &struct {
			Seq  uint64 `msgpack:"s"`
			Sent int64  `msgpack:"t"`
			Data []byte `msgpack:"d"`
		}{1, -5, []byte("x")}, &Echo{Seq: 1, Sent: -5, Data: []byte("x")}},
		{"ack", &struct {
			ReqID uint64 `msgpack:"i"`
			Node  string `msgpack:"n"`
			Err   string `msgpack:"e"`
		}{9, "n2", "disk full"}, &ReplicaPutAck{ReqID: 9, Node: "n2", Err: "disk full"}},
		{"get", &struct {
			ReqID     uint64 `msgpack:"i"`
			Partition uint32 `msgpack:"p"`
			Key       []byte `msgpack:"k"`
		}{3, 63, []byte("k")}, &ReplicaGet{ReqID: 3, Partition: 63, Key: []byte("k")}},
		{"get with ring", &struct {
			ReqID     uint64 `msgpack:"i"`
			Partition uint32 `msgpack:"p"`
			Key       []byte `msgpack:"k"`
			Ring      uint64 `msgpack:"r"`
		}{3, 63, []byte("k"), 7}, &ReplicaGet{ReqID: 3, Partition: 63, Key: []byte("k"), Ring: 7}},
		{"get of a digest", &struct {
			ReqID     uint64 `msgpack:"i"`
			Partition uint32 `msgpack:"p"`
			Key       []byte `msgpack:"k"`
			Digest    bool   `msgpack:"d"`
		}{3, 63, []byte("k"), true}, &ReplicaGet{ReqID: 3, Partition: 63, Key: []byte("k"), Digest: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := msgpack.Marshal(tc.tagged)
			if err != nil {
				t.Fatal(err)
			}
			// Through the registry, which takes the hand-written codecs.
			tag, _ := TagOf(tc.fast)
			got, err := Unmarshal(tag, b)
			if err != nil {
				t.Fatalf("decode tagged form: %v", err)
			}
			if !reflect.DeepEqual(got, tc.fast) {
				t.Fatalf("decoded %#v, want %#v", got, tc.fast)
			}
			b2, err := Marshal(tc.fast)
			if err != nil {
				t.Fatal(err)
			}
			back := reflect.New(reflect.TypeOf(tc.tagged).Elem()).Interface()
			if err := msgpack.Unmarshal(b2, back); err != nil {
				t.Fatalf("tagged form cannot read the hand-written one: %v", err)
			}
		})
	}
}

func TestFrameDecoderMatchesDecodeFrame(t *testing.T) {
	var d FrameDecoder
	targets := []*actor.PID{actor.NewPID("a:1", "vnode/1"), actor.NewPID("a:1", "vnode/2"), actor.NewPID("b:2", "vnode/1")}
	sender := actor.NewPID("c:3", "coord/0")
	for i := 0; i < 30; i++ {
		tgt := targets[i%len(targets)]
		var snd *actor.PID
		if i%2 == 0 {
			snd = sender
		}
		b, err := AppendFrame(nil, tgt, snd, &Blob{Seq: uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		f, err := d.Decode(b[LengthSize:])
		if err != nil {
			t.Fatal(err)
		}
		if !f.Target.Equals(tgt) || (snd == nil) != (f.Sender == nil) || (snd != nil && !f.Sender.Equals(snd)) {
			t.Fatalf("frame %d: target %v sender %v", i, f.Target, f.Sender)
		}
		if f.Msg.(*Blob).Seq != uint64(i) {
			t.Fatalf("frame %d: %#v", i, f.Msg)
		}
	}
	if len(d.pids) != 4 {
		t.Fatalf("cache holds %d PIDs, want 4 distinct", len(d.pids))
	}
}

func BenchmarkFrameDecoder(b *testing.B) {
	target := actor.NewPID("127.0.0.1:7001", "vnode/12")
	sender := actor.NewPID("127.0.0.1:7002", "coord/1")
	buf, _ := AppendFrame(nil, target, sender, &Blob{Seq: 1, Data: make([]byte, 100)})
	var d FrameDecoder
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := d.Decode(buf[LengthSize:]); err != nil {
			b.Fatal(err)
		}
	}
}
