// Package client is the Go client of the store. It reads a node's status
// once to learn the members and build the same partition ring the nodes
// use, then sends each request straight to a node of the key's preference
// list, so a request costs no forwarding hop. It speaks either the native
// msgpack protocol over the peer transport (the default) or the HTTP API.
//
// Versions are tracked with opaque contexts: a Get returns every concurrent
// value (siblings) and one context that covers them; a Put or Delete given
// that context replaces them all.
//
//	c, err := client.New(ctx, client.Config{Seeds: []string{"http://127.0.0.1:8001"}})
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	res, err := c.Get(ctx, []byte("cart"), client.GetOptions{})
//	if err != nil {
//		return err
//	}
//	merged := mergeCarts(res.Values) // the application resolves siblings
//	_, err = c.Put(ctx, []byte("cart"), merged, client.PutOptions{Context: res.Context})
//
// A request goes to the first member of the key's preference list and to
// the next only when it cannot have reached the first (the member was
// known down, or refused the connection) or when the first answered 503
// without an unknown outcome, which stored nothing. A Get that gets no
// answer in time also moves on, as reads are idempotent. A Put or Delete that was sent and got
// no answer is not sent again: each write a node coordinates makes a new
// version, so a second copy would add a sibling (a Delete, a tombstone
// plus a sibling). Its error wraps ErrOutcomeUnknown; read the key to find
// out whether it was applied.
//
// A Client is safe for concurrent use by many goroutines.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/version"
)

// Mode selects the protocol requests travel in.
type Mode int

const (
	// ModeNative sends msgpack messages over the peer transport straight to
	// a coordinator actor: no HTTP parsing, no base64.
	ModeNative Mode = iota
	// ModeHTTP uses the HTTP API of package api.
	ModeHTTP
)

// String returns the mode's name as the command line spells it.
func (m Mode) String() string {
	switch m {
	case ModeNative:
		return "native"
	case ModeHTTP:
		return "http"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Config configures a Client. Zero fields take the defaults in their
// comments.
type Config struct {
	// Seeds are HTTP base URLs of some nodes, e.g. http://127.0.0.1:8001;
	// the first that answers GET /status describes the cluster. Required.
	Seeds []string
	// Mode is ModeNative (the default) or ModeHTTP.
	Mode Mode
	// Timeout bounds each request, every member tried included. Default 3s.
	Timeout time.Duration
	// Cluster is the cluster name the native transport introduces itself
	// with. Default: the name the seed reports, else "dynamo".
	Cluster string
	// ListenAddr is where the native transport listens for replies; nodes
	// dial it back. Default: port 0 on the local address that routes to
	// the cluster.
	ListenAddr string
	// TLS turns on mutual TLS for the native transport, for clusters whose
	// nodes require it.
	TLS *tls.Config
}

// PutOptions qualify a Put or Delete.
type PutOptions struct {
	// Context is the context of the read this write follows; "" writes
	// blind, which makes a sibling of whatever the key holds.
	Context string
	// W is the write quorum; 0 takes the node's default.
	W int
	// PW is how many of the acknowledgements must come from the key's
	// home nodes rather than stand-ins (a strict quorum); 0: none.
	PW int
}

// GetOptions qualify a Get.
type GetOptions struct {
	// R is the read quorum; 0 takes the node's default.
	R int
	// PR is how many of the answers must come from the key's home nodes
	// rather than stand-ins; 0: none.
	PR int
}

// Result is what a Get found.
type Result struct {
	// Found is false when no replica holds a live value.
	Found bool
	// Values are the concurrent siblings; one value when there is no
	// conflict.
	Values [][]byte
	// Context covers every version read, deletions included, so a Put with
	// it supersedes them all, even when Found is false.
	Context string
}

// Error is an error a node answered: Status is 400 (bad request), 413 (key
// or value too large), 503 (quorum not reached) or 504 (the coordinator did
// not answer in time), or another HTTP status.
type Error struct {
	Status  int
	Message string
	// Unknown is set on a failed Put or Delete that the node says may have
	// been applied all the same: the coordinating replica stored it, or
	// may have, and too few others acknowledged in time. The error then
	// wraps ErrOutcomeUnknown. Without it, nothing was stored.
	Unknown bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (%d)", e.Message, e.Status)
}

// Unwrap returns ErrOutcomeUnknown for an unknown outcome.
func (e *Error) Unwrap() error {
	if e.Unknown {
		return ErrOutcomeUnknown
	}
	return nil
}

var (
	// ErrUnavailable is wrapped by the error of a request that no node of
	// the key's preference list answered in time.
	ErrUnavailable = errors.New("no node of the key's preference list answered")
	// ErrOutcomeUnknown is wrapped by the error of a Put or Delete that
	// reached a node, or may have, but got no answer, or whose node
	// answered that it may have been applied (Error.Unknown): it may
	// still appear. It is not sent to another node, since that could
	// apply it twice.
	ErrOutcomeUnknown = errors.New("the request may or may not have been applied: read the key to find out")
	// ErrClosed is returned by requests on a closed Client.
	ErrClosed = errors.New("client: closed")
)

// Client sends requests to the cluster. Create it with New.
type Client struct {
	cfg    Config
	status api.Status // what New read: the cluster's shape
	seed   string     // the seed that answered
	// routes is the ring and members requests are routed by, replaced
	// whenever a node answers from a newer membership (see refresh).
	routes     atomic.Pointer[routes]
	refreshing atomic.Bool
	hc         *http.Client
	b          backend
	closed     atomic.Bool
	once       sync.Once
}

// New reads GET /status from the first seed that answers, builds the ring
// from the members it lists and, in native mode, starts a transport.
func New(ctx context.Context, cfg Config) (*Client, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	hc := newHTTPClient(cfg.Timeout)
	st, seed, err := readMembers(ctx, hc, cfg)
	if err != nil {
		hc.CloseIdleConnections()
		return nil, err
	}
	c := &Client{cfg: cfg, status: st, seed: seed, hc: hc}
	rt, err := c.buildRoutes(st, nil)
	if err != nil {
		hc.CloseIdleConnections()
		return nil, err
	}
	c.routes.Store(rt)
	switch cfg.Mode {
	case ModeHTTP:
		c.b = &httpBackend{hc: hc, seen: c.seen}
	case ModeNative:
		if c.cfg.Cluster == "" {
			c.cfg.Cluster = st.Cluster
		}
		if c.cfg.Cluster == "" {
			c.cfg.Cluster = "dynamo"
		}
		nb, err := newNative(c.cfg, st, rt.ring.Members()[0].Addr, c.seen)
		if err != nil {
			hc.CloseIdleConnections()
			return nil, err
		}
		c.b = nb
	default:
		return nil, fmt.Errorf("client: unknown mode %v", cfg.Mode)
	}
	return c, nil
}

// readMembers reads the status of the first seed that answers. A node
// that has just started lists no members until its membership actor runs,
// so such an answer is asked again, within the timeout.
func readMembers(ctx context.Context, hc *http.Client, cfg Config) (api.Status, string, error) {
	deadline := time.Now().Add(cfg.Timeout)
	for {
		st, seed, err := readStatus(ctx, hc, cfg.Seeds, cfg.Timeout)
		if err != nil || len(st.Members) > 0 {
			return st, seed, err
		}
		if time.Now().After(deadline) {
			return st, seed, fmt.Errorf("client: node %s lists no members", st.Node)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return st, seed, fmt.Errorf("client: %w", ctx.Err())
		}
	}
}

func withDefaults(cfg Config) (Config, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if len(cfg.Seeds) == 0 {
		return cfg, errors.New("client: no seeds: give the HTTP URL of at least one node")
	}
	seeds := make([]string, 0, len(cfg.Seeds))
	for _, s := range cfg.Seeds {
		n, err := normalizeURL(s)
		if err != nil {
			return cfg, err
		}
		seeds = append(seeds, n)
	}
	cfg.Seeds = seeds
	return cfg, nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Put stores value under key and returns the new version's context: a Put
// with it replaces this write and what opt.Context covered, never another
// client's write of the key that this one did not see, so a loop of Puts
// can chain their contexts. An error wrapping ErrOutcomeUnknown means the
// write may still be applied.
func (c *Client) Put(ctx context.Context, key, value []byte, opt PutOptions) (string, error) {
	w, err := c.checkWrite(key, value, opt, false)
	if err != nil {
		return "", err
	}
	var out string
	err = c.route(ctx, key, false, func(ctx context.Context, m *member, b budget) error {
		s, err := c.b.put(ctx, m, b, w)
		out = s
		return err
	})
	return out, err
}

// MergeContexts returns a context covering what either a or b covers,
// for an application that holds several contexts of one key (a read's,
// the replies to its own writes) and means its next write to replace
// everything it has seen: a Put with the merge replaces the versions
// either context covers, and keeps every version neither covers (writes
// it has not seen). Keeping only the last context received instead would
// forget what the others covered, and each forgotten write would stay as
// a sibling. An error means a or b is not a context.
func MergeContexts(a, b string) (string, error) {
	m, err := version.MergeContexts(a, b)
	if err != nil {
		return "", fmt.Errorf("client: merge contexts: %w", err)
	}
	return m, nil
}

// Get reads key. A key with no live value is not an error: Found is false.
func (c *Client) Get(ctx context.Context, key []byte, opt GetOptions) (Result, error) {
	if err := c.checkKey(key); err != nil {
		return Result{}, err
	}
	if err := c.checkQuorum("r", opt.R); err != nil {
		return Result{}, err
	}
	if err := c.checkQuorum("pr", opt.PR); err != nil {
		return Result{}, err
	}
	var out Result
	err := c.route(ctx, key, true, func(ctx context.Context, m *member, b budget) error {
		r, err := c.b.get(ctx, m, b, key, opt)
		out = r
		return err
	})
	return out, err
}

// Delete deletes key. contextStr, from a Get, is required: it says which
// versions the deletion supersedes. opt.Context is ignored. An error
// wrapping ErrOutcomeUnknown means the deletion may still be applied.
func (c *Client) Delete(ctx context.Context, key []byte, contextStr string, opt PutOptions) error {
	if contextStr == "" {
		return errors.New("client: delete needs the context of a read of the key")
	}
	opt.Context = contextStr
	w, err := c.checkWrite(key, nil, opt, true)
	if err != nil {
		return err
	}
	return c.route(ctx, key, false, func(ctx context.Context, m *member, b budget) error {
		_, err := c.b.put(ctx, m, b, w)
		return err
	})
}

// Status returns the view of the first node that answers GET /status: the
// seed that answered New, the other seeds, then the members.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	if c.closed.Load() {
		return api.Status{}, ErrClosed
	}
	urls := append([]string{c.seed}, c.cfg.Seeds...)
	for _, m := range c.routes.Load().members {
		urls = append(urls, m.http)
	}
	st, _, err := readStatus(ctx, c.hc, dedupe(urls), c.cfg.Timeout)
	return st, err
}

// Close stops the native transport and releases idle connections. Requests
// after Close fail with ErrClosed.
func (c *Client) Close() error {
	var err error
	c.once.Do(func() {
		c.closed.Store(true)
		if c.b != nil {
			err = c.b.close()
		}
		c.hc.CloseIdleConnections()
	})
	return err
}

func (c *Client) checkKey(key []byte) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if len(key) == 0 {
		return errors.New("client: empty key")
	}
	return nil
}

func (c *Client) checkQuorum(name string, v int) error {
	if v < 0 || v > c.status.Replicas {
		return fmt.Errorf("client: %s=%d: want 0 (the node's default) or 1 to N=%d", name, v, c.status.Replicas)
	}
	return nil
}

func (c *Client) checkWrite(key, value []byte, opt PutOptions, del bool) (*write, error) {
	if err := c.checkKey(key); err != nil {
		return nil, err
	}
	if err := c.checkQuorum("w", opt.W); err != nil {
		return nil, err
	}
	if err := c.checkQuorum("pw", opt.PW); err != nil {
		return nil, err
	}
	clock, also, err := version.DecodeContext(opt.Context)
	if err != nil {
		return nil, fmt.Errorf("client: context: %w", err)
	}
	return &write{key: key, value: value, context: opt.Context, clock: clock, also: also, del: del, w: opt.W, pw: opt.PW}, nil
}
