package messages

import (
	"testing"

	"github.com/anthdm/hollywood/actor"
)

// FuzzDecodeFrame feeds arbitrary bytes to the decoder: it must return a
// frame or an error, never panic. Frames that decode must re-encode.
func FuzzDecodeFrame(f *testing.F) {
	target := actor.NewPID("127.0.0.1:7001", "dynamo/ping")
	for _, msg := range []any{
		&Ping{Seq: 1, Sent: 2}, &Pong{Seq: 1, Node: "n1"}, &Blob{Data: []byte("abc")},
		&Echo{Seq: 5}, &Hello{Addr: "127.0.0.1:7002"},
	} {
		b, err := AppendFrame(nil, target, target, msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[LengthSize:])
		f.Add(b[LengthSize : len(b)-1])
	}
	f.Add([]byte{})
	f.Add([]byte{FrameVersion, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeFrame(b)
		if err != nil {
			return
		}
		if _, err := AppendFrame(nil, fr.Target, fr.Sender, fr.Msg); err != nil {
			t.Fatalf("decoded frame does not re-encode: %v", err)
		}
	})
}
