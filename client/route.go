package client

import (
	"context"
	"errors"
	"fmt"
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
func (m *member) recentlyFailed() bool { return time.Now().UnixNano() < m.failedUntil.Load() }

// backend is one protocol. Methods return *unreachable when the member
// could not be reached or did not answer within deadline, so the next
// member may be tried; every other error is final.
type backend interface {
	put(ctx context.Context, m *member, deadline time.Time, w *write) (string, error)
	get(ctx context.Context, m *member, deadline time.Time, key []byte, r int) (Result, error)
	down(m *member) bool
	close() error
}

// write is a Put or a Delete, checked.
type write struct {
	key, value []byte
	context    string
	clock      version.Clock // context, decoded
	del        bool
	w          int
}

// unreachable says a member did not answer; the request may go to the next.
type unreachable struct {
	m      *member
	where  string // the address tried
	reason string
}

func (u *unreachable) Error() string { return fmt.Sprintf("%s at %s: %s", u.m.id, u.where, u.reason) }

// route sends a request to the key's preference list, primary first, and
// moves to the next member only when one did not answer: an answer, even an
// error, is final, since the node may have acted on the request. Members
// that recently failed go last. Each member but the last is offered half the
// time left, so a hung node leaves time for the others; the native backend
// keeps to it, while over HTTP only failing to connect moves on, because a
// node's HTTP handler may rightly take most of the timeout to answer 503.
func (c *Client) route(ctx context.Context, key []byte, call func(context.Context, *member, time.Time) error) error {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	cands := c.candidates(key)
	var tried []string
	for i, m := range cands {
		deadline, _ := ctx.Deadline()
		if i < len(cands)-1 {
			deadline = time.Now().Add(time.Until(deadline) / 2)
		}
		err := call(ctx, m, deadline)
		var u *unreachable
		switch {
		case err == nil:
			m.markOK()
			return nil
		case errors.As(err, &u):
			m.markFailed()
			tried = append(tried, u.Error())
		case errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil:
			// Our own timeout ended the wait on this member.
			tried = append(tried, fmt.Sprintf("%s: no answer within %v", m.id, c.cfg.Timeout))
		default:
			var answered *Error
			if errors.As(err, &answered) {
				m.markOK()
			}
			return err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := parent.Err(); err != nil {
		return fmt.Errorf("client: %w (%s)", err, strings.Join(tried, "; "))
	}
	return fmt.Errorf("%w: %s", ErrUnavailable, strings.Join(tried, "; "))
}

// candidates returns the key's preference list, members that recently
// failed moved to the end.
func (c *Client) candidates(key []byte) []*member {
	ids := c.ring.KeyPreferenceList(key)
	out := make([]*member, 0, len(ids))
	var later []*member
	for _, id := range ids {
		m := c.members[id]
		if m.recentlyFailed() || c.b.down(m) {
			later = append(later, m)
			continue
		}
		out = append(out, m)
	}
	return append(out, later...)
}
