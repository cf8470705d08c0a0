package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dynamokv/dynamo/api"
)

// maxReplyBody bounds what the client reads of one reply, so a confused
// server cannot make it allocate without limit.
const maxReplyBody = 256 << 20

// newHTTPClient returns the client every request of a Client shares. Many
// goroutines hit the same few nodes, so many idle connections per host are
// kept. No proxy: requests must reach the member the ring chose.
func newHTTPClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: dialTimeout(timeout), KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConns:        0, // no overall limit
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	}}
}

// dialTimeout keeps a black-holed member from eating the whole request
// timeout before the next member is tried.
func dialTimeout(timeout time.Duration) time.Duration {
	return min(max(timeout/4, 50*time.Millisecond), time.Second)
}

// ReadStatus returns the status of the first of cfg.Seeds that answers,
// without building a ring: it works on a cluster in any state.
func ReadStatus(ctx context.Context, cfg Config) (api.Status, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return api.Status{}, err
	}
	hc := newHTTPClient(cfg.Timeout)
	defer hc.CloseIdleConnections()
	st, _, err := readStatus(ctx, hc, cfg.Seeds, cfg.Timeout)
	return st, err
}

// Repair asks the first of cfg.Seeds that answers to run anti-entropy now
// for partition p (-1: every partition it holds) against every other
// replica that is up, and returns what each exchange found. It waits for
// the exchanges, at most cfg.Timeout.
func Repair(ctx context.Context, cfg Config, p int) (api.Repair, error) {
	path := api.RepairPath
	if p >= 0 {
		path += "?partition=" + strconv.Itoa(p)
	}
	var r api.Repair
	err := postAdmin(ctx, cfg, path, &r)
	return r, err
}

// postAdmin posts to path on the first seed that takes the request and
// decodes its JSON answer into out. A seed that cannot have received the
// request (refused, unreachable) passes it to the next; any answer is
// final, since the node may have acted on it.
func postAdmin(ctx context.Context, cfg Config, path string, out any) error {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return err
	}
	hc := newHTTPClient(cfg.Timeout)
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	var errs []error
	for _, base := range cfg.Seeds {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", base, unwrapURLError(err)))
			continue
		}
		body, err := readBody(resp)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%s: %w (the node may have acted on it: dynamo status shows its state)", base, err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %w", base, replyError(resp.StatusCode, body))
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%s: the answer is not JSON: %w", base, err)
		}
		return nil
	}
	return fmt.Errorf("client: no node answered %s: %w", path, errors.Join(errs...))
}

// readStatus asks each URL in turn for GET /status and returns the first
// good answer and the URL that gave it.
func readStatus(ctx context.Context, hc *http.Client, urls []string, timeout time.Duration) (api.Status, string, error) {
	var errs []error
	for _, base := range urls {
		st, err := readOneStatus(ctx, hc, base, timeout)
		if err == nil {
			return st, base, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return api.Status{}, "", fmt.Errorf("client: no node answered GET /status: %w", errors.Join(errs...))
}

func readOneStatus(ctx context.Context, hc *http.Client, base string, timeout time.Duration) (api.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/status", nil)
	if err != nil {
		return api.Status{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return api.Status{}, fmt.Errorf("%s: %w", base, unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, err := readBody(resp)
	if err != nil {
		return api.Status{}, fmt.Errorf("%s: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		return api.Status{}, fmt.Errorf("%s: %w", base, replyError(resp.StatusCode, body))
	}
	var st api.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return api.Status{}, fmt.Errorf("%s: status is not JSON: %w", base, err)
	}
	return st, nil
}

// httpBackend speaks the HTTP API of package api.
type httpBackend struct {
	hc   *http.Client
	seen func(ring uint64) // told each answer's membership version
}

// down is false: the HTTP backend learns of down members only by failing
// to reach them, which Client tracks.
func (h *httpBackend) down(*member) bool { return false }

func (h *httpBackend) close() error { return nil }

// withBudget bounds ctx by the request's overall deadline, unless the
// caller's own deadline is that bound: then ctx ends by the caller's
// deadline and says so.
func withBudget(ctx context.Context, b budget) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && !b.overall.Before(dl) {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, b.overall)
}

func (h *httpBackend) put(ctx context.Context, m *member, b budget, w *write) (string, error) {
	// A member gets all the time left: see Client.route.
	ctx, cancel := withBudget(ctx, b)
	defer cancel()
	method, body := http.MethodPut, io.Reader(bytes.NewReader(w.value))
	if w.del {
		method, body = http.MethodDelete, nil
	}
	req, err := http.NewRequestWithContext(ctx, method, keyURL(m.http, w.key, "w", w.w, "pw", w.pw), body)
	if err != nil {
		return "", fmt.Errorf("client: %w", err)
	}
	if w.context != "" {
		req.Header.Set(api.ContextHeader, w.context)
	}
	resp, reply, err := h.do(ctx, m, req)
	if err != nil {
		return "", err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent:
		return resp.Header.Get(api.ContextHeader), nil
	}
	err = replyError(resp.StatusCode, reply)
	if e, ok := err.(*Error); ok && resp.Header.Get(api.OutcomeHeader) == api.OutcomeUnknown {
		e.Unknown = true
	}
	return "", err
}

func (h *httpBackend) get(ctx context.Context, m *member, b budget, key []byte, opt GetOptions) (Result, error) {
	ctx, cancel := withBudget(ctx, b)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, keyURL(m.http, key, "r", opt.R, "pr", opt.PR), nil)
	if err != nil {
		return Result{}, fmt.Errorf("client: %w", err)
	}
	resp, body, err := h.do(ctx, m, req)
	if err != nil {
		return Result{}, err
	}
	ctxHeader := resp.Header.Get(api.ContextHeader)
	switch resp.StatusCode {
	case http.StatusOK:
		return Result{Found: true, Values: [][]byte{body}, Context: ctxHeader}, nil
	case http.StatusMultipleChoices:
		var s api.Siblings
		if err := json.Unmarshal(body, &s); err != nil {
			return Result{}, fmt.Errorf("client: %s answered 300 without siblings JSON: %w", m.id, err)
		}
		if s.Context == "" {
			s.Context = ctxHeader
		}
		return Result{Found: len(s.Siblings) > 0, Values: s.Siblings, Context: s.Context}, nil
	case http.StatusNotFound:
		// The context of the deletions read, if any, lets a later put
		// supersede them.
		return Result{Context: ctxHeader}, nil
	}
	return Result{}, replyError(resp.StatusCode, body)
}

// do sends req and reads the whole reply. No answer is *unreachable, sent
// once a connection was obtained for the request: until then nothing of it
// can have been written (a refused or failed dial, a TLS handshake error).
// net/http retries a write on a new connection only when nothing was
// written on the old one, so only the last attempt counts. Once the member
// answered, every error is final.
func (h *httpBackend) do(ctx context.Context, m *member, req *http.Request) (*http.Response, []byte, error) {
	var conn atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GetConn: func(string) { conn.Store(false) },
		GotConn: func(httptrace.GotConnInfo) { conn.Store(true) },
	}))
	resp, err := h.hc.Do(req)
	if err != nil {
		return nil, nil, noAnswer(ctx, m, unwrapURLError(err), conn.Load())
	}
	defer resp.Body.Close()
	body, err := readBody(resp)
	if err != nil {
		// A reply cut short is no answer: its status may be all there was.
		return nil, nil, noAnswer(ctx, m, fmt.Errorf("reading the reply: %w", err), true)
	}
	if v, err := strconv.ParseUint(resp.Header.Get(api.RingHeader), 10, 64); err == nil && h.seen != nil {
		h.seen(v)
	}
	return resp, body, nil
}

func noAnswer(ctx context.Context, m *member, err error, sent bool) *unreachable {
	u := &unreachable{m: m, where: m.http, reason: err.Error(), sent: sent}
	if u.err = ctx.Err(); u.err != nil {
		u.reason = u.err.Error()
		if errors.Is(u.err, context.DeadlineExceeded) {
			u.reason = "no answer in time"
		}
	}
	return u
}

func readBody(resp *http.Response) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBody+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxReplyBody {
		return nil, fmt.Errorf("reply over %d bytes", maxReplyBody)
	}
	return body, nil
}

// replyError turns an error reply into *Error, with the node's words when
// the body is the API's JSON error.
func replyError(status int, body []byte) error {
	var e api.Error
	msg := ""
	if json.Unmarshal(body, &e) == nil {
		msg = e.Error
	} else {
		msg = strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
	}
	if msg == "" {
		msg = strings.ToLower(http.StatusText(status))
	}
	if msg == "" {
		msg = "unexpected reply"
	}
	return &Error{Status: status, Message: msg}
}

// keyURL builds base/kv/{key}, with ?name=v&... for the pairs whose value
// is set. The key is one path segment: '/' is escaped, and so are the dots
// of "." and "..", which the server's path cleaning would otherwise remove.
func keyURL(base string, key []byte, params ...any) string {
	k := url.PathEscape(string(key))
	if k == "." || k == ".." {
		k = strings.ReplaceAll(k, ".", "%2E")
	}
	u := base + api.KeyPrefix + k
	sep := "?"
	for i := 0; i+1 < len(params); i += 2 {
		if v := params[i+1].(int); v > 0 {
			u += sep + params[i].(string) + "=" + strconv.Itoa(v)
			sep = "&"
		}
	}
	return u
}

// unwrapURLError drops net/http's `Get "URL":` prefix; callers name the
// member themselves.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// normalizeURL accepts "host:port" as well as a full base URL.
func normalizeURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("client: seed %q: want an HTTP URL such as http://127.0.0.1:8001", s)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// httpBase turns a member's HTTP listen address into a URL. A node that
// listens on all interfaces reports an unspecified host; the host of its
// peer address reaches it. Unknown addresses fall back to the seed, which
// forwards to the key's coordinators itself.
func (c *Client) httpBase(m api.Member) string {
	h := m.HTTP
	if m.ID == c.status.Node && h == "" {
		h = c.status.HTTP
	}
	if h == "" {
		return c.seed
	}
	if strings.Contains(h, "://") {
		return strings.TrimRight(h, "/")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		return c.seed
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if ph, _, err := net.SplitHostPort(m.Addr); err == nil {
			host = ph
		}
	}
	scheme := "http"
	if u, err := url.Parse(c.seed); err == nil {
		scheme = u.Scheme
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

func dedupe(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := ss[:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
