package version

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
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

// EncodeContext renders a clock, and the single events also beyond it
// (see Dots), as the opaque string handed to clients: URL-safe so it can
// travel in headers and query strings. A clock alone is its msgpack
// array; with events beyond it, a map of the clock ("c") and the events
// ("a"). The empty context is the empty string.
func EncodeContext(c Clock, also Dots) string {
	if len(c) == 0 && len(also) == 0 {
		return ""
	}
	// Every read hands out a context: encode into pooled buffers, so that
	// the string returned is the only allocation.
	cb := contextBuffers.Get().(*contextBuffer)
	defer contextBuffers.Put(cb)
	if len(also) == 0 {
		cb.raw = c.AppendMsgpack(cb.raw[:0])
	} else {
		cb.raw = mpbuf.AppendMapLen(cb.raw[:0], 2)
		cb.raw = c.AppendMsgpack(mpbuf.AppendString(cb.raw, "c"))
		cb.raw = also.AppendMsgpack(mpbuf.AppendString(cb.raw, "a"))
	}
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
// empty context. Errors wrap ErrInvalidContext and a specific cause; no
// input makes it panic.
func DecodeContext(s string) (Clock, Dots, error) {
	if s == "" {
		return nil, nil, nil
	}
	if len(s) > MaxContextSize {
		return nil, nil, contextErr(ErrContextTooLarge, fmt.Errorf("%d bytes > %d", len(s), MaxContextSize))
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, nil, contextErr(ErrContextBase64, err)
	}
	r := mpbuf.NewReader(raw)
	c, also, err := readContext(&r)
	switch {
	case errors.Is(err, errTooManyEntries):
		return nil, nil, contextErr(ErrContextTooManyEntries, err)
	case errors.Is(err, ErrClockUnsorted), errors.Is(err, ErrClockDuplicate):
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidContext, err)
	case err != nil:
		return nil, nil, contextErr(ErrContextMsgpack, err)
	case r.Len() != 0:
		return nil, nil, contextErr(ErrContextMsgpack, fmt.Errorf("%d trailing bytes", r.Len()))
	}
	if err := c.Validate(); err != nil {
		return nil, nil, contextErr(ErrContextEntry, err)
	}
	if err := also.Validate(); err != nil {
		return nil, nil, contextErr(ErrContextEntry, err)
	}
	if len(c) == 0 {
		c = nil
	}
	if len(also) == 0 {
		also = nil
	}
	return c, also, nil
}

// readContext reads a clock alone, or the map of a clock and the events
// beyond it.
func readContext(r *mpbuf.Reader) (Clock, Dots, error) {
	if !r.IsMap() {
		c, err := readClock(r, MaxContextEntries)
		return c, nil, err
	}
	n, err := r.MapLen()
	if err != nil {
		return nil, nil, err
	}
	var c Clock
	var also Dots
	for i := 0; i < n; i++ {
		key, err := r.View()
		if err != nil {
			return nil, nil, err
		}
		switch string(key) {
		case "c":
			c, err = readClock(r, MaxContextEntries)
		case "a":
			err = also.DecodeFrom(r)
			if err == nil && len(also) > MaxAlso {
				err = fmt.Errorf("%w: %d single events > %d", errTooManyEntries, len(also), MaxAlso)
			}
		default:
			err = fmt.Errorf("unknown field %q", key)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return c, also, nil
}

func contextErr(cause, detail error) error {
	return fmt.Errorf("%w: %w: %w", ErrInvalidContext, cause, detail)
}

// MaxCounter bounds a clock counter from a client. No key sees this many
// writes, and a bound keeps NextDot's counter+1 far from wrapping around,
// which would make a new write look older than everything.
const MaxCounter = 1 << 53

// checkEvent checks one node's counter from outside.
func checkEvent(what, node string, counter uint64) error {
	if node == "" || counter == 0 || counter > MaxCounter {
		return fmt.Errorf("%s %q:%d: want a node name and a counter from 1 to 2^53", what, node, counter)
	}
	return nil
}

// Validate checks a clock that came from outside (a client's context, in
// any encoding): at most MaxContextEntries entries, sorted by node with no
// duplicate, every node named and every counter in 1..MaxCounter.
func (c Clock) Validate() error {
	if len(c) > MaxContextEntries {
		return fmt.Errorf("%d entries > %d", len(c), MaxContextEntries)
	}
	for i, e := range c {
		if err := checkEvent("entry", e.Node, e.Counter); err != nil {
			return err
		}
		if i > 0 && c[i-1].Node >= e.Node {
			return fmt.Errorf("entry %q after %q: %w", e.Node, c[i-1].Node, ErrClockUnsorted)
		}
	}
	return nil
}

// MergeContexts returns the context of a client that has seen what
// either a or b covers: a write with it replaces every version either
// context covers. It is for an application holding several contexts of
// one key (a read's, the replies to its own writes) that means its next
// write to supersede everything it has seen. The merge never covers an
// event neither covers; past MaxContextEntries it keeps the newest
// entries, which can only leave a sibling more, never drop a write.
func MergeContexts(a, b string) (string, error) {
	ca, aa, err := DecodeContext(a)
	if err != nil {
		return "", err
	}
	cb, ab, err := DecodeContext(b)
	if err != nil {
		return "", err
	}
	c := Merge(ca, cb).Truncate(MaxContextEntries, "")
	return EncodeContext(c, normalizeAlso(c, append(slices.Clip(aa), ab...))), nil
}
