package version

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sync"

	"github.com/dynamokv/dynamo/internal/mpbuf"
)

// Limits on client-supplied contexts. Contexts come from untrusted clients,
// so they are bounded well above what MaxClockEntries produces but far
// below anything that could hurt a server.
const (
	MaxContextSize    = 4 << 10 // bytes of the encoded string
	MaxContextEntries = 64
)

// Every DecodeContext error wraps ErrInvalidContext, so callers can map all
// of them to a single "bad request", plus one of the specific causes.
var (
	ErrInvalidContext        = errors.New("version: invalid context")
	ErrContextTooLarge       = errors.New("context too large")
	ErrContextTooManyEntries = errors.New("context has too many entries")
	ErrContextBase64         = errors.New("context is not base64url")
	ErrContextMsgpack        = errors.New("context is not a msgpack clock")
	ErrContextEntry          = errors.New("context entry out of range")
)

// EncodeContext renders a clock as the opaque string handed to clients:
// URL-safe so it can travel in headers and query strings. The empty clock
// is the empty string.
func EncodeContext(c Clock) string {
	if len(c) == 0 {
		return ""
	}
	// Every read hands out a context: encode into pooled buffers, so that
	// the string returned is the only allocation.
	cb := contextBuffers.Get().(*contextBuffer)
	defer contextBuffers.Put(cb)
	cb.raw = c.AppendMsgpack(cb.raw[:0])
	cb.text = base64.RawURLEncoding.AppendEncode(cb.text[:0], cb.raw)
	s := string(cb.text)
	if cap(cb.raw) > MaxContextSize {
		*cb = contextBuffer{} // a clock past the limits: do not keep its memory
	}
	return s
}

type contextBuffer struct {
	raw  []byte
	text []byte
}

var contextBuffers = sync.Pool{New: func() any { return new(contextBuffer) }}

// DecodeContext parses a string from EncodeContext. The empty string is the
// empty clock. Errors wrap ErrInvalidContext and a specific cause; no input
// makes it panic.
func DecodeContext(s string) (Clock, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > MaxContextSize {
		return nil, contextErr(ErrContextTooLarge, fmt.Errorf("%d bytes > %d", len(s), MaxContextSize))
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, contextErr(ErrContextBase64, err)
	}
	r := mpbuf.NewReader(raw)
	c, err := readClock(&r, MaxContextEntries)
	switch {
	case errors.Is(err, errTooManyEntries):
		return nil, contextErr(ErrContextTooManyEntries, err)
	case errors.Is(err, ErrClockUnsorted), errors.Is(err, ErrClockDuplicate):
		return nil, fmt.Errorf("%w: %w", ErrInvalidContext, err)
	case err != nil:
		return nil, contextErr(ErrContextMsgpack, err)
	case r.Len() != 0:
		return nil, contextErr(ErrContextMsgpack, fmt.Errorf("%d trailing bytes", r.Len()))
	}
	if err := c.Validate(); err != nil {
		return nil, contextErr(ErrContextEntry, err)
	}
	if len(c) == 0 {
		return nil, nil
	}
	return c, nil
}

func contextErr(cause, detail error) error {
	return fmt.Errorf("%w: %w: %w", ErrInvalidContext, cause, detail)
}

// MaxCounter bounds a clock counter from a client. No key sees this many
// writes, and a bound keeps NextDot's counter+1 far from wrapping around,
// which would make a new write look older than everything.
const MaxCounter = 1 << 53

// Validate checks a clock that came from outside (a client's context, in
// any encoding): at most MaxContextEntries entries, sorted by node with no
// duplicate, every node named and every counter in 1..MaxCounter.
func (c Clock) Validate() error {
	if len(c) > MaxContextEntries {
		return fmt.Errorf("%d entries > %d", len(c), MaxContextEntries)
	}
	for i, e := range c {
		if e.Node == "" || e.Counter == 0 || e.Counter > MaxCounter {
			return fmt.Errorf("entry %q:%d: want a node name and a counter from 1 to 2^53", e.Node, e.Counter)
		}
		if i > 0 && c[i-1].Node >= e.Node {
			return fmt.Errorf("entry %q after %q: %w", e.Node, c[i-1].Node, ErrClockUnsorted)
		}
	}
	return nil
}
