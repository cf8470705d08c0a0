package messages

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/internal/mpbuf"
	"github.com/vmihailenco/msgpack/v5"
)

// A frame on the wire:
//
//	length  uint32, big endian: the number of bytes that follow
//	version byte (FrameVersion)
//	tag     uint16, big endian
//	target  address, id   (each a uvarint length and the bytes)
//	sender  address, id   (empty id: no sender)
//	body    msgpack of the message
//
// The header is hand-rolled because it is read for every message and PIDs
// are two short strings; the body is msgpack so that messages stay plain
// tagged structs.

// FrameVersion is the first byte after the length of every frame.
const FrameVersion byte = 1

// LengthSize is the size of the length prefix of a frame.
const LengthSize = 4

// maxPIDPart bounds one address or id in a frame header, so a corrupt
// header cannot claim a huge string.
const maxPIDPart = 1 << 10

// Frame is one decoded message with its routing.
type Frame struct {
	Target *actor.PID
	Sender *actor.PID // nil when the message has no sender
	Tag    Tag
	Msg    any
}

var (
	// ErrUnknownType is returned when encoding a value whose type is not registered.
	ErrUnknownType = errors.New("message type not registered")
	// ErrUnknownTag is returned when a frame names a tag this build does not know.
	ErrUnknownTag = errors.New("unknown message tag")
	// ErrMalformed is returned for a truncated or corrupt frame.
	ErrMalformed = errors.New("malformed frame")
)

// appendWriter lets a msgpack.Encoder append to a byte slice we own.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// WriteByte lets msgpack write to us directly, without a bufio wrapper.
func (w *appendWriter) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

func (w *appendWriter) WriteString(s string) (int, error) {
	w.b = append(w.b, s...)
	return len(s), nil
}

type encoder struct {
	w   appendWriter
	enc *msgpack.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = msgpack.NewEncoder(&e.w)
	return e
}}

type decoder struct {
	r   bytes.Reader
	dec *msgpack.Decoder
}

var decoders = sync.Pool{New: func() any {
	d := &decoder{}
	d.dec = msgpack.NewDecoder(&d.r)
	return d
}}

// AppendFrame appends msg, framed for target and sender, to dst. It fails
// only for an unregistered type or a body msgpack cannot encode.
func AppendFrame(dst []byte, target, sender *actor.PID, msg any) ([]byte, error) {
	tag, ok := TagOf(msg)
	if !ok {
		return dst, fmt.Errorf("encode %T: %w", msg, ErrUnknownType)
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, FrameVersion, byte(tag>>8), byte(tag))
	dst = appendPID(dst, target)
	dst = appendPID(dst, sender)

	var err error
	dst, err = appendBody(dst, msg)
	if err != nil {
		return dst[:start], err
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-LengthSize))
	return dst, nil
}

func appendPID(dst []byte, pid *actor.PID) []byte {
	if pid == nil {
		return append(dst, 0, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(len(pid.Address)))
	dst = append(dst, pid.Address...)
	dst = binary.AppendUvarint(dst, uint64(len(pid.ID)))
	return append(dst, pid.ID...)
}

// FrameLength reads the length prefix of a frame: how many bytes follow it.
func FrameLength(prefix []byte) int {
	return int(binary.BigEndian.Uint32(prefix))
}

// DecodeFrame decodes one frame without its length prefix. It returns an
// error, and never panics, for an unknown tag, a truncated frame or a
// malformed body. A connection's reader should use a FrameDecoder.
func DecodeFrame(b []byte) (Frame, error) {
	return decodeFrame(b, newPID, new(mpbuf.Reader))
}

// pidMaker turns the raw bytes of one PID in a header into a PID.
type pidMaker func(raw, addr, id []byte) *actor.PID

func newPID(_, addr, id []byte) *actor.PID {
	return &actor.PID{Address: string(addr), ID: string(id)}
}

func decodeFrame(b []byte, mk pidMaker, r *mpbuf.Reader) (f Frame, err error) {
	if len(b) < 3 {
		return f, fmt.Errorf("frame of %d bytes: %w", len(b), ErrMalformed)
	}
	if b[0] != FrameVersion {
		return f, fmt.Errorf("frame version %d: %w", b[0], ErrMalformed)
	}
	f.Tag = Tag(b[1])<<8 | Tag(b[2])
	rest := b[3:]
	if f.Target, rest, err = readPID(rest, mk); err != nil {
		return f, fmt.Errorf("frame target: %w", err)
	}
	if f.Target == nil {
		return f, fmt.Errorf("frame without target: %w", ErrMalformed)
	}
	if f.Sender, rest, err = readPID(rest, mk); err != nil {
		return f, fmt.Errorf("frame sender: %w", err)
	}
	e, ok := byTag[f.Tag]
	if !ok {
		return f, fmt.Errorf("tag %d: %w", f.Tag, ErrUnknownTag)
	}
	f.Msg, err = decodeBody(e, rest, r)
	return f, err
}

// decodeBody decodes a message's body; r is scratch space for the
// hand-written codecs.
func decodeBody(e *entry, body []byte, r *mpbuf.Reader) (msg any, err error) {
	defer func() {
		// A custom decoder given hostile bytes must not take the node down.
		if p := recover(); p != nil {
			msg, err = nil, fmt.Errorf("decode %s: panic %v: %w", e.name, p, ErrMalformed)
		}
		*r = mpbuf.Reader{} // hold no frame buffer
	}()
	if e.fast == nil {
		return decodeReflect(e, body)
	}
	// The reader checks every length against the bytes that remain, so
	// this path needs no checkBody walk first.
	*r = mpbuf.NewReader(body)
	if msg, err = e.fast(r); err != nil {
		return nil, fmt.Errorf("decode %s: %v: %w", e.name, err, ErrMalformed)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("decode %s: %d trailing bytes: %w", e.name, r.Len(), ErrMalformed)
	}
	return msg, nil
}

// decodeReflect decodes the body of a message without a hand-written
// codec, by msgpack's reflection.
func decodeReflect(e *entry, body []byte) (any, error) {
	if err := checkBody(body); err != nil {
		return nil, fmt.Errorf("decode %s: %v: %w", e.name, err, ErrMalformed)
	}
	d := decoders.Get().(*decoder)
	defer func() {
		d.r.Reset(nil)
		decoders.Put(d)
	}()
	d.r.Reset(body)
	msg, err := e.decode(d.dec)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %v: %w", e.name, err, ErrMalformed)
	}
	if d.r.Len() != 0 {
		return nil, fmt.Errorf("decode %s: %d trailing bytes: %w", e.name, d.r.Len(), ErrMalformed)
	}
	return msg, nil
}

func readPID(b []byte, mk pidMaker) (*actor.PID, []byte, error) {
	start := b
	addr, b, err := readBytes(b)
	if err != nil {
		return nil, nil, err
	}
	id, b, err := readBytes(b)
	if err != nil {
		return nil, nil, err
	}
	if len(id) == 0 {
		return nil, b, nil
	}
	return mk(start[:len(start)-len(b)], addr, id), b, nil
}

func readBytes(b []byte) ([]byte, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxPIDPart || uint64(len(b)-k) < n {
		return nil, nil, ErrMalformed
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

// Marshal encodes one registered message body without a frame, for stores
// and tests that keep messages outside the transport.
func Marshal(msg any) ([]byte, error) {
	if _, ok := TagOf(msg); !ok {
		return nil, fmt.Errorf("encode %T: %w", msg, ErrUnknownType)
	}
	return appendBody(nil, msg)
}

// appendBody appends msg's msgpack body to dst: by its hand-written codec
// if it has one, else by reflection.
func appendBody(dst []byte, msg any) ([]byte, error) {
	if m, ok := msg.(sliceCodec); ok {
		return m.appendBody(dst), nil
	}
	e := encoders.Get().(*encoder)
	e.w.b = dst
	err := e.enc.Encode(msg)
	dst = e.w.b
	e.w.b = nil
	encoders.Put(e)
	if err != nil {
		return dst, fmt.Errorf("encode %s: %w", NameOf(msg), err)
	}
	return dst, nil
}

// Unmarshal decodes a body that Marshal produced for a message of tag.
func Unmarshal(tag Tag, body []byte) (any, error) {
	e, ok := byTag[tag]
	if !ok {
		return nil, fmt.Errorf("tag %d: %w", tag, ErrUnknownTag)
	}
	return decodeBody(e, body, new(mpbuf.Reader))
}
