// Package transport holds the pieces of the actor-level transport benchmark:
// a counting sink, an echo actor, a flooding sender, a request/response
// driver and the nodes that host them, for the store's msgpack transport and
// for hollywood's own protobuf remote, so both are measured with the same
// actors in the same run.
package transport

import (
	"encoding/binary"
	"time"

	"github.com/dynamokv/dynamo/messages"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Kind names a transport under test. Each carries its own message shapes:
// the msgpack transport carries the store's registered structs, hollywood's
// remote carries only protobuf.
type Kind int

const (
	// Msgpack is the store's TCP transport (msgpack frames).
	Msgpack Kind = iota
	// Hollywood is hollywood's remote package (protobuf over drpc).
	Hollywood
)

// Kinds lists the transports in table column order.
var Kinds = []Kind{Msgpack, Hollywood}

func (k Kind) String() string {
	if k == Msgpack {
		return "msgpack transport"
	}
	return "hollywood remote"
}

// PayloadSize is the size of the data in every benchmark message: about the
// size of a small put.
const PayloadSize = 100

// Payload returns a fresh payload; senders share it read-only.
func Payload() []byte {
	b := make([]byte, PayloadSize)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// epoch anchors now: a monotonic clock in nanoseconds that fits a message
// field. Latencies are only computed within one process.
var epoch = time.Now()

func now() int64 { return int64(time.Since(epoch)) }

// blob returns a fire-and-forget message. A new value per send, as the
// store's actors do.
func (k Kind) blob(seq uint64, data []byte) any {
	if k == Msgpack {
		return &messages.Blob{Seq: seq, Data: data}
	}
	return &wrapperspb.BytesValue{Value: data}
}

// echo returns a request stamped with its send time. BytesValue has no
// field for it, so the stamp rides in the first 8 payload bytes.
func (k Kind) echo(seq uint64, sent int64, data []byte) any {
	if k == Msgpack {
		return &messages.Echo{Seq: seq, Sent: sent, Data: data}
	}
	b := make([]byte, len(data))
	copy(b, data)
	binary.LittleEndian.PutUint64(b, uint64(sent))
	return &wrapperspb.BytesValue{Value: b}
}

// sentOf reads the send stamp of an answered echo.
func sentOf(msg any) (int64, bool) {
	switch m := msg.(type) {
	case *messages.Echo:
		return m.Sent, true
	case *wrapperspb.BytesValue:
		if len(m.Value) >= 8 {
			return int64(binary.LittleEndian.Uint64(m.Value)), true
		}
	}
	return 0, false
}

// countQuery asks a sink for its count. It travels in order with the
// blobs, so the answer counts exactly the blobs sent before it that arrived.
func (k Kind) countQuery() any {
	if k == Msgpack {
		return &messages.Echo{}
	}
	return &wrapperspb.UInt64Value{}
}

// Count is a sink's answer: blobs received, and when, on the sink's clock.
type Count struct {
	N  uint64
	At int64
}

func countAnswer(k Kind, c Count) any {
	if k == Msgpack {
		return &messages.Echo{Seq: c.N, Sent: c.At}
	}
	b := binary.LittleEndian.AppendUint64(nil, c.N)
	return &wrapperspb.BytesValue{Value: binary.LittleEndian.AppendUint64(b, uint64(c.At))}
}

func parseCount(msg any) (Count, bool) {
	switch m := msg.(type) {
	case *messages.Echo:
		return Count{N: m.Seq, At: m.Sent}, true
	case *wrapperspb.BytesValue:
		if len(m.Value) == 16 {
			return Count{N: binary.LittleEndian.Uint64(m.Value), At: int64(binary.LittleEndian.Uint64(m.Value[8:]))}, true
		}
	}
	return Count{}, false
}
