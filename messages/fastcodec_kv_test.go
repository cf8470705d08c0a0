package messages

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/dynamokv/dynamo/internal/mpbuf"
	"github.com/dynamokv/dynamo/version"
	"github.com/vmihailenco/msgpack/v5"
)

// Mirrors of the key-value messages: the same fields and tags, without the
// hand-written methods, so msgpack encodes and decodes them by reflection.
// A message converts to its mirror and back (tags do not matter to Go's
// struct conversion).

type clientPutPlain struct {
	Key     []byte        `msgpack:"k"`
	Value   []byte        `msgpack:"v"`
	Context version.Clock `msgpack:"c"`
	Also    version.Dots  `msgpack:"a,omitempty"`
	Delete  bool          `msgpack:"d"`
	W       int           `msgpack:"w"`
	PW      int           `msgpack:"pw"`
	Hops    int           `msgpack:"h"`
	ID      uint64        `msgpack:"id"`
	Origin  string        `msgpack:"o"`
}

type clientPutReplyPlain struct {
	Status  int           `msgpack:"s"`
	Err     string        `msgpack:"e"`
	Context version.Clock `msgpack:"c"`
	Also    version.Dots  `msgpack:"a,omitempty"`
	Unknown bool          `msgpack:"u"`
	Ring    uint64        `msgpack:"r,omitempty"`
}

type clientGetPlain struct {
	Key []byte `msgpack:"k"`
	R   int    `msgpack:"r"`
	PR  int    `msgpack:"pr"`
}

type clientGetReplyPlain struct {
	Status  int           `msgpack:"s"`
	Err     string        `msgpack:"e"`
	Values  [][]byte      `msgpack:"v"`
	Context version.Clock `msgpack:"c"`
	Also    version.Dots  `msgpack:"a,omitempty"`
	Ring    uint64        `msgpack:"r,omitempty"`
}

type coordinatePutPlain struct {
	Home      string        `msgpack:"o"`
	ReqID     uint64        `msgpack:"i"`
	Partition uint32        `msgpack:"p"`
	Key       []byte        `msgpack:"k"`
	Value     []byte        `msgpack:"v"`
	Delete    bool          `msgpack:"d"`
	Context   version.Clock `msgpack:"c"`
	Also      version.Dots  `msgpack:"a,omitempty"`
}

type coordinatePutDonePlain struct {
	ReqID       uint64           `msgpack:"i"`
	Node        string           `msgpack:"n"`
	Version     version.Version  `msgpack:"v"`
	Err         string           `msgpack:"e"`
	Set         version.Siblings `msgpack:"s"`
	Partition   uint32           `msgpack:"p"`
	Key         []byte           `msgpack:"k"`
	Status      int              `msgpack:"t"`
	Reply       version.Clock    `msgpack:"r"`
	ReplyAlso   version.Dots     `msgpack:"ra,omitempty"`
	MaybeStored bool             `msgpack:"m"`
}

type replicaPutPlain struct {
	ReqID     uint64           `msgpack:"i"`
	Partition uint32           `msgpack:"p"`
	Key       []byte           `msgpack:"k"`
	Versions  version.Siblings `msgpack:"v"`
	Ring      uint64           `msgpack:"r,omitempty"`
}

type replicaGetReplyPlain struct {
	ReqID    uint64           `msgpack:"i"`
	Node     string           `msgpack:"n"`
	Versions version.Siblings `msgpack:"v"`
	Err      string           `msgpack:"e"`
	Partial  bool             `msgpack:"f,omitempty"`
	Hash     uint64           `msgpack:"h,omitempty"`
	Digest   bool             `msgpack:"g,omitempty"`
}

// The mirrors must stay in step with kv.go: same field names, types and
// tags, in the same order.
func TestKVMirrorsMatchTheMessages(t *testing.T) {
	pairs := [][2]any{
		{ClientPut{}, clientPutPlain{}},
		{ClientPutReply{}, clientPutReplyPlain{}},
		{ClientGet{}, clientGetPlain{}},
		{ClientGetReply{}, clientGetReplyPlain{}},
		{CoordinatePut{}, coordinatePutPlain{}},
		{CoordinatePutDone{}, coordinatePutDonePlain{}},
		{ReplicaPut{}, replicaPutPlain{}},
		{ReplicaGetReply{}, replicaGetReplyPlain{}},
	}
	for _, p := range pairs {
		a, b := reflect.TypeOf(p[0]), reflect.TypeOf(p[1])
		if a.NumField() != b.NumField() {
			t.Errorf("%s has %d fields, its mirror %d", a, a.NumField(), b.NumField())
			continue
		}
		for i := 0; i < a.NumField(); i++ {
			fa, fb := a.Field(i), b.Field(i)
			if fa.Name != fb.Name || fa.Type != fb.Type || fa.Tag != fb.Tag {
				t.Errorf("%s field %d: %s %s %q, mirror %s %s %q", a, i, fa.Name, fa.Type, fa.Tag, fb.Name, fb.Type, fb.Tag)
			}
		}
	}
}

// kvFixture holds values of every shape the codecs must agree on.
type kvFixture struct {
	clock3   version.Clock
	clockBig version.Clock
	also2    version.Dots
	one      version.Siblings
	three    version.Siblings
	bigKey   []byte
	bigValue []byte
	bigStr   string
}

func newKVFixture() kvFixture {
	var f kvFixture
	f.clock3 = version.NewClock(
		version.Entry{Node: "node-1", Counter: 41, Stamp: 1700000000000000000},
		version.Entry{Node: "node-2", Counter: 17, Stamp: 1700000000000000001},
		version.Entry{Node: "node-3", Counter: 9, Stamp: -1},
	)
	var big []version.Entry
	for i := 0; i < 20; i++ {
		big = append(big, version.Entry{Node: "127.0.0.1:70" + string(rune('a'+i)), Counter: math.MaxUint64 - uint64(i), Stamp: math.MinInt64 + int64(i)})
	}
	f.clockBig = version.NewClock(big...)
	f.also2 = version.Dots{{Node: "node-1", Counter: 57}, {Node: "node-3", Counter: 11}}
	f.one = version.Siblings{{Dot: version.Dot{Node: "node-1", Counter: 42, Stamp: 1700000000000000003}, Context: f.clock3, Value: bytes.Repeat([]byte{7}, 100)}}
	f.three = version.Siblings{
		{Dot: version.Dot{Node: "node-1", Counter: 42, Stamp: 3}, Context: f.clock3, Value: []byte("a")},
		{Dot: version.Dot{Node: "node-2", Counter: 18, Stamp: 4}, Context: version.Clock{}, Value: []byte{}},
		{Dot: version.Dot{Node: "node-3", Counter: 10, Stamp: 5}, Deleted: true, Also: f.also2},
	}
	f.bigKey = bytes.Repeat([]byte("k"), 70000) // bin32
	f.bigValue = bytes.Repeat([]byte{0xff}, 300)
	f.bigStr = strings.Repeat("é", 40000) // str32
	return f
}

// kvCodec checks one message type against its mirror, for every value.
func kvCodec[F, P any, PF interface {
	*F
	sliceCodec
}](t *testing.T, vals []F) {
	t.Helper()
	// Garbage to decode over, so that a decoder that leaves fields
	// alone in a reused struct is caught.
	var garbage F
	if len(vals) > 0 {
		garbage = vals[len(vals)-1]
	}
	for i, v := range vals {
		p := reflect.ValueOf(v).Convert(reflect.TypeOf((*P)(nil)).Elem()).Interface().(P)

		fast := PF(&v).appendBody(nil)
		slow := reflectionMarshal(t, &p, false)
		// Stronger than required: the bytes are reflection's, except
		// that integers are compact (as in package version's codecs),
		// which reflection writes only with UseCompactInts.
		if compact := reflectionMarshal(t, &p, true); !bytes.Equal(fast, compact) {
			t.Errorf("%T #%d: fast encoding\n%x\ndiffers from reflection's\n%x", v, i, fast, compact)
		}

		// (1) Round trip through the fast codec, also over a used struct.
		for _, start := range []F{*new(F), garbage} {
			got := start
			if err := decodeSlice(PF(&got), fast); err != nil {
				t.Fatalf("%T #%d: fast decode: %v", v, i, err)
			}
			if !reflect.DeepEqual(got, v) {
				t.Errorf("%T #%d: fast round trip\n got %#v\nwant %#v", v, i, got, v)
			}
		}

		// (2) Fast bytes read by reflection, reflection bytes read fast.
		var back P
		if err := msgpack.Unmarshal(fast, &back); err != nil {
			t.Fatalf("%T #%d: reflection decode of fast bytes: %v", v, i, err)
		}
		if !reflect.DeepEqual(back, p) {
			t.Errorf("%T #%d: reflection read fast bytes as\n%#v\nwant %#v", v, i, back, p)
		}
		var got F
		if err := decodeSlice(PF(&got), slow); err != nil {
			t.Fatalf("%T #%d: fast decode of reflection bytes: %v", v, i, err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("%T #%d: fast read reflection bytes as\n%#v\nwant %#v", v, i, got, v)
		}

		// The registry's path, frame body checks included.
		body, err := Marshal(PF(&v))
		if err != nil {
			t.Fatal(err)
		}
		tag, _ := TagOf(PF(&v))
		msg, err := Unmarshal(tag, body)
		if err != nil {
			t.Fatalf("%T #%d: Unmarshal: %v", v, i, err)
		}
		if !reflect.DeepEqual(msg, PF(&v)) {
			t.Errorf("%T #%d: Unmarshal gave %#v", v, i, msg)
		}

		// (3) Unknown keys, before and after the known ones, are skipped.
		withExtra := addUnknownKeys(t, fast)
		got = garbage
		if err := decodeSlice(PF(&got), withExtra); err != nil {
			t.Fatalf("%T #%d: fast decode with unknown keys: %v", v, i, err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("%T #%d: with unknown keys\n got %#v\nwant %#v", v, i, got, v)
		}
		// Every truncation is an error, never a panic or a short message.
		if len(fast) <= 2048 {
			for cut := 0; cut < len(fast); cut++ {
				var short F
				if err := decodeSlice(PF(&short), fast[:cut]); err == nil {
					t.Fatalf("%T #%d: %d of %d bytes decoded without error", v, i, cut, len(fast))
				}
			}
		}

		var backExtra P
		if err := msgpack.Unmarshal(withExtra, &backExtra); err != nil || !reflect.DeepEqual(backExtra, p) {
			t.Errorf("%T #%d: reflection with unknown keys: %v %#v", v, i, err, backExtra)
		}
	}

	// A nil body reads as the zero message, as reflection reads it, and
	// so does an empty map (a sender that knows none of the fields), even
	// over a used struct.
	var zero F
	for _, body := range [][]byte{{0xc0}, {0x80}} {
		got := garbage
		if err := decodeSlice(PF(&got), body); err != nil || !reflect.DeepEqual(got, zero) {
			t.Errorf("%T: body %x decoded as %#v, %v", zero, body, got, err)
		}
		got = garbage
		if err := decodeSlice(PF(&got), body); err != nil || !reflect.DeepEqual(got, zero) {
			t.Errorf("%T: body %x, direct: %#v, %v", zero, body, got, err)
		}
	}
}

// decodeSlice decodes one whole body by m's hand-written codec.
func decodeSlice(m sliceCodec, body []byte) error {
	r := mpbuf.NewReader(body)
	if err := m.decodeFrom(&r); err != nil {
		return err
	}
	if r.Len() != 0 {
		return fmt.Errorf("%d trailing bytes", r.Len())
	}
	return nil
}

// reflectionMarshal encodes v by reflection, with fixed-width integer
// fields (uint32, uint64) as the transport's encoder writes them unless
// compact is set.
func reflectionMarshal(t *testing.T, v any, compact bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	e.UseCompactInts(compact)
	if err := e.Encode(v); err != nil {
		t.Fatalf("%T: reflection encode: %v", v, err)
	}
	return buf.Bytes()
}

// addUnknownKeys rewrites an encoded map with fields no decoder knows
// around the original ones, of every kind a newer sender might add.
func addUnknownKeys(t testing.TB, enc []byte) []byte {
	t.Helper()
	r := bytes.NewReader(enc)
	n, err := msgpack.NewDecoder(r).DecodeMapLen()
	if err != nil {
		t.Fatal(err)
	}
	entries := enc[len(enc)-r.Len():]
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.EncodeMapLen(n + 5))
	must(e.EncodeString("zz"))
	must(e.Encode(map[string]any{"a": []any{1, "x", nil, map[string]int{"b": 2}}}))
	must(e.EncodeString("a-much-longer-key-than-any-known-one"))
	must(e.EncodeBytes(bytes.Repeat([]byte{1}, 300)))
	buf.Write(entries)
	must(e.EncodeString("q"))
	must(e.EncodeNil())
	must(e.EncodeString("x"))
	must(e.EncodeInt(math.MinInt64))
	must(e.EncodeString("y"))
	must(e.EncodeString(strings.Repeat("s", 40)))
	return buf.Bytes()
}

func TestKVFastCodecsMatchReflection(t *testing.T) {
	f := newKVFixture()
	t.Run("ClientPut", func(t *testing.T) {
		kvCodec[ClientPut, clientPutPlain](t, []ClientPut{
			{},
			{Key: []byte("user:42"), Value: []byte("hello")},
			{Key: []byte("user:42"), Value: f.bigValue, Context: f.clock3, W: 2, PW: 1},
			{Key: []byte("user:42"), Value: []byte("v"), Context: f.clock3, Also: f.also2},
			{Key: []byte("user:42"), Value: []byte("v"), Also: f.also2},
			{Key: []byte{}, Value: []byte{}, Context: version.Clock{}},
			{Key: f.bigKey, Delete: true, Context: f.clockBig, W: -1, PW: math.MaxInt64, Hops: math.MinInt64, ID: math.MaxUint64, Origin: "127.0.0.1:7001"},
			{Key: []byte("k"), Value: []byte("v"), Hops: 2, ID: 1 << 40, Origin: f.bigStr},
		})
	})
	t.Run("ClientPutReply", func(t *testing.T) {
		kvCodec[ClientPutReply, clientPutReplyPlain](t, []ClientPutReply{
			{},
			{Status: StatusOK, Context: f.clock3},
			{Status: StatusOK, Context: f.clock3, Ring: 7},
			{Status: StatusOK, Context: f.clock3, Also: f.also2, Ring: 7},
			{Status: StatusUnavailable, Err: "quorum not reached: 1 of 2", Unknown: true, Ring: math.MaxUint64},
			{Status: -1, Err: f.bigStr, Context: version.Clock{}},
			{Status: StatusTimeout, Context: f.clockBig, Unknown: true},
		})
	})
	t.Run("ClientGet", func(t *testing.T) {
		kvCodec[ClientGet, clientGetPlain](t, []ClientGet{
			{},
			{Key: []byte("user:42")},
			{Key: []byte("user:42"), R: 2, PR: 1},
			{Key: []byte{}, R: -3, PR: math.MinInt64},
			{Key: f.bigKey, R: math.MaxInt64},
		})
	})
	t.Run("ClientGetReply", func(t *testing.T) {
		kvCodec[ClientGetReply, clientGetReplyPlain](t, []ClientGetReply{
			{},
			{Status: StatusOK, Values: [][]byte{[]byte("hello")}, Context: f.clock3},
			{Status: StatusOK, Values: [][]byte{[]byte("a"), f.bigValue, f.bigKey}, Context: f.clockBig, Ring: 3},
			{Status: StatusOK, Values: [][]byte{[]byte("a")}, Context: f.clock3, Also: f.also2},
			{Status: StatusNotFound, Values: [][]byte{}, Context: version.Clock{}},
			{Status: StatusOK, Values: [][]byte{nil, {}, []byte("x")}},
			{Status: StatusUnavailable, Err: "only 1 of 2 answered", Ring: math.MaxUint64},
		})
	})
	t.Run("CoordinatePut", func(t *testing.T) {
		kvCodec[CoordinatePut, coordinatePutPlain](t, []CoordinatePut{
			{},
			{ReqID: 1, Partition: 12, Key: []byte("user:42"), Value: []byte("hello"), Context: f.clock3},
			{Home: "127.0.0.1:7003", ReqID: math.MaxUint64, Partition: math.MaxUint32, Key: f.bigKey, Value: f.bigValue, Context: f.clockBig},
			{ReqID: 9, Key: []byte{}, Value: []byte{}, Delete: true, Context: version.Clock{}},
			{ReqID: 10, Partition: 3, Key: []byte("k"), Value: []byte("v"), Context: f.clock3, Also: f.also2},
		})
	})
	t.Run("CoordinatePutDone", func(t *testing.T) {
		kvCodec[CoordinatePutDone, coordinatePutDonePlain](t, []CoordinatePutDone{
			{},
			{ReqID: 1, Node: "node-1", Version: f.one[0], Set: f.one, Partition: 12, Key: []byte("user:42"), Status: StatusOK, Reply: f.clock3},
			{ReqID: 2, Node: "node-1", Version: f.three[0], Set: f.three, Partition: math.MaxUint32, Key: f.bigKey, Status: StatusOK, Reply: f.clockBig},
			{ReqID: 3, Node: "node-2", Err: "disk full", Partition: 1, Key: []byte("k"), Status: StatusTooLarge, MaybeStored: true},
			{ReqID: 4, Set: version.Siblings{}, Reply: version.Clock{}, Key: []byte{}, Err: f.bigStr, Status: -1},
			{ReqID: 5, Node: "node-1", Version: f.one[0], Set: f.one, Key: []byte("k"), Status: StatusOK, Reply: f.clock3, ReplyAlso: f.also2},
		})
	})
	t.Run("ReplicaPut", func(t *testing.T) {
		kvCodec[ReplicaPut, replicaPutPlain](t, []ReplicaPut{
			{},
			{ReqID: 1, Partition: 12, Key: []byte("user:42"), Versions: f.one},
			{ReqID: 1, Partition: 12, Key: []byte("user:42"), Versions: f.one, Ring: 5},
			{Partition: math.MaxUint32, Key: f.bigKey, Versions: f.three, Ring: math.MaxUint64},
			{ReqID: math.MaxUint64, Key: []byte{}, Versions: version.Siblings{}},
		})
	})
	t.Run("ReplicaGetReply", func(t *testing.T) {
		kvCodec[ReplicaGetReply, replicaGetReplyPlain](t, []ReplicaGetReply{
			{},
			{ReqID: 1, Node: "node-2", Versions: f.one},
			{ReqID: 1, Node: "node-2", Versions: f.three, Partial: true},
			{ReqID: math.MaxUint64, Node: f.bigStr, Versions: version.Siblings{}, Err: "closed"},
			{ReqID: 2, Node: "node-3", Err: "store: read failed", Partial: true},
			{ReqID: 3, Node: "node-1", Versions: f.one, Hash: 1<<64 - 1},
			{ReqID: 4, Node: "node-2", Hash: 42, Digest: true},
		})
	})
}

// A corrupt field is reported with the message and the key.
func TestKVFastDecodeErrorsNameTheField(t *testing.T) {
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	_ = e.EncodeMapLen(1)
	_ = e.EncodeString("c")
	_ = e.EncodeString("not a clock")
	var m ClientPut
	err := decodeSlice(&m, buf.Bytes())
	if err == nil || !strings.Contains(err.Error(), "ClientPut.c") {
		t.Fatalf("got %v", err)
	}
}
