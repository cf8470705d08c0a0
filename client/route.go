package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dynamokv/dynamo/version"
)

// member is one node as the client reaches it.
type member struct {
	id   string
	addr string // peer transport address
	http string // HTTP base URL
	// failedUntil (unix nanoseconds) puts a member that just failed behind
	// the others of a preference list for a while, so every request does
	// not pay to rediscover it is down.
	failedUntil atomic.Int64
}

// failCooldown is how long a member that failed is tried last.
const failCooldown = 2 * time.Second

func (m *member) markFailed() { m.failedUntil.Store(time.Now().Add(failCooldown).UnixNano()) }
func (m *member) markOK() {
	if m.failedUntil.Load() != 0 {
		m.failedUntil.Store(0)
	}
}

// backend is one protocol. Methods return *unreachable when the member gave
// no answer, saying whether the request may have reached it; every other
// error is final.
type backend interface {
	put(ctx context.Context, m *member, b budget, w *write) (string, error)
	get(ctx context.Context, m *member, b budget, key []byte, opt GetOptions) (Result, error)
	down(m *member) bool
	close() error
}

// budget is the time a request may spend: member, what one member is
// offered, and overall, when the whole request must end (the client's
// timeout, or the caller's deadline if sooner). It travels as values, not
// as a context with a timeout: a context.WithTimeout per request, a timer
// and its registration with the parent, was a tenth of the native
// client's CPU, and the native backend keeps timers of its own.
type budget struct {
	member, overall time.Time
}

// write is a Put or a Delete, checked.
type write struct {
	key, value []byte
	context    string
	clock      version.Clock // context, decoded
	also       version.Dots  // with the single events beyond the clock
	del        bool
	w, pw      int
}

// unreachable says a member gave no answer. When sent is false the request
// cannot have reached the member (it was known down, or refused the
// connection), so any request may go to the next; when sent is true only a
// read may, since the member may have applied a write.
type unreachable struct {
	m      *member
	where  string // the address tried
	reason string
	sent   bool
	err    error // the context's error, when the context ended the wait
}

func (u *unreachable) Error() string { return fmt.Sprintf("%s at %s: %s", u.m.id, u.where, u.reason) }
func (u *unreachable) Unwrap() error { return u.err }

// route sends a request to the key's preference list, primary first. It
// moves to the next member when one gave no answer and either cannot have
// received the request or the request is idempotent (a read), and when one
// answered 503 without an unknown outcome: it stored nothing and could not
// serve the key, and another member may. Any other answer, even an error,
// is final, since the node may have acted on the request; so is a write
// sent without an answer, whose error wraps
// ErrOutcomeUnknown: writes are not idempotent (each makes a new version),
// so a copy sent to the next member would add a sibling. Members that
// recently failed go last. Each member but the last is offered half the
// time left, so a hung node leaves time for the others. The native backend
// keeps to it, except that a sent write waits for the whole timeout, as no
// other member will be tried; over HTTP a member gets all the time left,
// because a node's HTTP handler may rightly take most of the timeout to
// answer 503.
func (c *Client) route(ctx context.Context, key []byte, idempotent bool, call func(context.Context, *member, budget) error) error {
	parent := ctx
	overall := time.Now().Add(c.cfg.Timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(overall) {
		overall = dl
	}
	cands := c.candidates(key)
	var tried []string
	for i, m := range cands {
		deadline := overall
		if i < len(cands)-1 {
			deadline = time.Now().Add(time.Until(overall) / 2)
		}
		err := call(ctx, m, budget{member: deadline, overall: overall})
		var u *unreachable
		switch {
		case err == nil:
			m.markOK()
			return nil
		case errors.As(err, &u):
			// A caller that gave up says nothing of the member.
			if parent.Err() == nil {
				m.markFailed()
			}
			tried = append(tried, u.Error())
			if u.sent && !idempotent {
				if err := parent.Err(); err != nil {
					return fmt.Errorf("client: %w: %w (%s)", ErrOutcomeUnknown, err, strings.Join(tried, "; "))
				}
				return fmt.Errorf("client: %w: %s", ErrOutcomeUnknown, strings.Join(tried, "; "))
			}
		default:
			var answered *Error
			if !errors.As(err, &answered) {
				return err
			}
			m.markOK()
			// A 503 that stored nothing (not Unknown) says this member
			// could not serve the key now, perhaps cut off from the
			// others: another may. Any other answer is final.
			if answered.Status != http.StatusServiceUnavailable || answered.Unknown || i == len(cands)-1 {
				return err
			}
			tried = append(tried, m.id+": "+answered.Error())
		}
		if parent.Err() != nil || !time.Now().Before(overall) {
			break
		}
	}
	if err := parent.Err(); err != nil {
		return fmt.Errorf("client: %w (%s)", err, strings.Join(tried, "; "))
	}
	return fmt.Errorf("%w: %s", ErrUnavailable, strings.Join(tried, "; "))
}

// candidates returns the key's preference list, members that recently
// failed moved to the end. The slice is shared: callers must not modify
// it.
func (c *Client) candidates(key []byte) []*member {
	rt := c.routes.Load()
	pref := rt.prefs[rt.ring.PartitionOf(key)]
	now := time.Now().UnixNano()
	var out, later []*member
	for i, m := range pref {
		switch {
		case now < m.failedUntil.Load() || c.b.down(m):
			if later == nil {
				out = append(make([]*member, 0, len(pref)), pref[:i]...)
			}
			later = append(later, m)
		case later != nil:
			out = append(out, m)
		}
	}
	if later == nil {
		return pref // the common case: nothing to reorder
	}
	return append(out, later...)
}
