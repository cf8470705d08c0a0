package messages

import (
	"errors"
	"reflect"
	"testing"

	"github.com/anthdm/hollywood/actor"
)

func TestFrameRoundTrip(t *testing.T) {
	target := actor.NewPID("127.0.0.1:7001", "dynamo/ping")
	sender := actor.NewPID("127.0.0.1:7002", "response/42")
	cases := []struct {
		name   string
		sender *actor.PID
		msg    any
	}{
		{"ping with sender", sender, &Ping{Seq: 7, Sent: 123456789}},
		{"pong without sender", nil, &Pong{Seq: 1, Node: "n1"}},
		{"empty blob", sender, &Blob{}},
		{"blob with data", sender, &Blob{Seq: 9, Data: []byte("hello")}},
		{"hello", nil, &Hello{Addr: "127.0.0.1:7002", Cluster: "dev"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := AppendFrame(nil, target, tc.sender, tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if got := FrameLength(b); got != len(b)-LengthSize {
				t.Fatalf("length prefix %d, want %d", got, len(b)-LengthSize)
			}
			f, err := DecodeFrame(b[LengthSize:])
			if err != nil {
				t.Fatal(err)
			}
			if !f.Target.Equals(target) {
				t.Errorf("target %v, want %v", f.Target, target)
			}
			if (f.Sender == nil) != (tc.sender == nil) || (f.Sender != nil && !f.Sender.Equals(tc.sender)) {
				t.Errorf("sender %v, want %v", f.Sender, tc.sender)
			}
			if !reflect.DeepEqual(normalize(f.Msg), normalize(tc.msg)) {
				t.Errorf("message %#v, want %#v", f.Msg, tc.msg)
			}
		})
	}
}

// normalize treats nil and empty byte slices alike, as msgpack does.
func normalize(m any) any {
	if b, ok := m.(*Blob); ok && len(b.Data) == 0 {
		c := *b
		c.Data = nil
		return &c
	}
	return m
}

func TestAppendFrameAppends(t *testing.T) {
	target := actor.NewPID("a:1", "x/y")
	b, err := AppendFrame(nil, target, nil, &Ping{Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	b2, err := AppendFrame(b, target, nil, &Ping{Seq: 2})
	if err != nil {
		t.Fatal(err)
	}
	first := LengthSize + FrameLength(b2)
	f, err := DecodeFrame(b2[first+LengthSize:])
	if err != nil {
		t.Fatal(err)
	}
	if f.Msg.(*Ping).Seq != 2 {
		t.Fatalf("second frame decoded as %#v", f.Msg)
	}
}

type notRegistered struct{ A int }

func TestEncodeErrors(t *testing.T) {
	target := actor.NewPID("a:1", "x/y")
	dst := []byte("keep")
	out, err := AppendFrame(dst, target, nil, &notRegistered{})
	if !errors.Is(err, ErrUnknownType) {
		t.Fatalf("err %v, want ErrUnknownType", err)
	}
	if string(out) != "keep" {
		t.Fatalf("dst changed on error: %q", out)
	}
	if _, err := AppendFrame(nil, target, nil, Ping{}); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("value instead of pointer: err %v, want ErrUnknownType", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	target := actor.NewPID("127.0.0.1:7001", "dynamo/ping")
	good, err := AppendFrame(nil, target, target, &Ping{Seq: 1, Sent: 2})
	if err != nil {
		t.Fatal(err)
	}
	body := good[LengthSize:]
	unknown := append([]byte(nil), body...)
	unknown[1], unknown[2] = 0xff, 0xee
	badVersion := append([]byte(nil), body...)
	badVersion[0] = 99
	trailing := append(append([]byte(nil), body...), 0xc0)
	wrongBody := append([]byte(nil), body[:len(body)-8]...)
	wrongBody = append(wrongBody, 0xa3, 'a', 'b', 'c') // a string where a map is expected
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"version only", body[:1], ErrMalformed},
		{"bad version", badVersion, ErrMalformed},
		{"unknown tag", unknown, ErrUnknownTag},
		{"truncated header", body[:6], ErrMalformed},
		{"truncated body", body[:len(body)-1], ErrMalformed},
		{"trailing bytes", trailing, ErrMalformed},
		{"wrong body type", wrongBody, ErrMalformed},
		{"no target", []byte{FrameVersion, 0, byte(TagPing), 0, 0, 0, 0, 0x80}, ErrMalformed},
		{"huge string length", []byte{FrameVersion, 0, byte(TagPing), 0xff, 0xff, 0xff, 0xff, 0x0f}, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeFrame(tc.b)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func TestRegistryIsConsistent(t *testing.T) {
	seen := map[Tag]bool{}
	for _, r := range Registered() {
		if seen[r.Tag] {
			t.Fatalf("tag %d listed twice", r.Tag)
		}
		seen[r.Tag] = true
		if r.Tag >= FirstApplicationTag {
			t.Errorf("store message %s uses application tag %d", r.Name, r.Tag)
		}
	}
	if len(seen) == 0 {
		t.Fatal("no messages registered")
	}
}

func TestRegisterRefusesMisuse(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	mustPanic("application tag below range", func() { Register[notRegistered](5) })
	mustPanic("reused tag", func() { registerAs[notRegistered](TagPing, false) })
	mustPanic("non-struct", func() { Register[int](FirstApplicationTag + 999) })
}

func TestMarshalUnmarshal(t *testing.T) {
	b, err := Marshal(&Echo{Seq: 3, Data: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Unmarshal(TagEcho, b)
	if err != nil {
		t.Fatal(err)
	}
	if e := m.(*Echo); e.Seq != 3 || string(e.Data) != "x" {
		t.Fatalf("got %#v", e)
	}
	if _, err := Unmarshal(60000, b); !errors.Is(err, ErrUnknownTag) {
		t.Fatalf("err %v, want ErrUnknownTag", err)
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	target := actor.NewPID("127.0.0.1:7001", "vnode/12")
	sender := actor.NewPID("127.0.0.1:7002", "coord/1")
	msg := &Echo{Seq: 1, Data: make([]byte, 100)}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var err error
		buf, err = AppendFrame(buf[:0], target, sender, msg)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	target := actor.NewPID("127.0.0.1:7001", "vnode/12")
	sender := actor.NewPID("127.0.0.1:7002", "coord/1")
	buf, _ := AppendFrame(nil, target, sender, &Echo{Seq: 1, Data: make([]byte, 100)})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeFrame(buf[LengthSize:]); err != nil {
			b.Fatal(err)
		}
	}
}
