package client

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/transport"
	"github.com/rs/zerolog"
)

var _ backend = (*native)(nil)
var _ backend = (*httpBackend)(nil)

// goNative gives every fake node a real peer transport running fake
// coordinator actors over the shared store, except the nodes named in
// dead, whose peer address refuses connections. HTTP still serves status.
func (fc *fakeCluster) goNative(coordinators int, dead ...string) {
	t := fc.t
	fc.coordinators = coordinators
	for _, nd := range fc.nodes {
		if contains(dead, nd.id) {
			nd.addr = closedAddr(t)
			continue
		}
		tr, err := transport.NewTCP(transport.TCPConfig{ListenAddr: "127.0.0.1:0", Cluster: "dynamo", Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.Stop().Wait() })
		nd.crash = func() { tr.Stop() }
		e, err := actor.NewEngine(actor.NewEngineConfig().WithRemote(tr))
		if err != nil {
			t.Fatal(err)
		}
		for i := range coordinators {
			e.SpawnFunc(nd.coordinator(i), messages.CoordinatorKind, actor.WithID(messages.CoordinatorID(i)))
		}
		nd.addr = tr.Address()
	}
	fc.buildRing()
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// coordinator answers client messages as a node's coordinator i would.
func (nd *fakeNode) coordinator(i int) func(*actor.Context) {
	return func(c *actor.Context) {
		switch m := c.Message().(type) {
		case *messages.ClientPut:
			method := http.MethodPut
			if m.Delete {
				method = http.MethodDelete
			}
			nd.fc.record(nd.id, method, string(m.Key), i)
			if nd.drop.Load() {
				go nd.crash()
				return
			}
			if nd.hang.Load() {
				return
			}
			if code := int(nd.failWith.Load()); code != 0 {
				c.Respond(&messages.ClientPutReply{Status: code, Err: "injected failure", Unknown: nd.unknown.Load()})
				return
			}
			clock, code, msg := nd.fc.write(string(m.Key), m.Value, m.Context, m.Delete)
			c.Respond(&messages.ClientPutReply{Status: code, Err: msg, Context: clock})
		case *messages.ClientGet:
			nd.fc.record(nd.id, http.MethodGet, string(m.Key), i)
			if nd.drop.Load() {
				go nd.crash()
				return
			}
			if nd.hang.Load() {
				return
			}
			if code := int(nd.failWith.Load()); code != 0 {
				c.Respond(&messages.ClientGetReply{Status: code, Err: "injected failure"})
				return
			}
			vs, clock := nd.fc.read(string(m.Key))
			status := messages.StatusOK
			if len(vs) == 0 {
				status = messages.StatusNotFound
			}
			c.Respond(&messages.ClientGetReply{Status: status, Values: vs, Context: clock})
		}
	}
}

func newNativeClientFor(t *testing.T, fc *fakeCluster, timeout time.Duration) *Client {
	t.Helper()
	c, err := New(context.Background(), Config{Seeds: fc.seeds(), Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestNativeRoundTrip(t *testing.T) {
	fc := newFakeCluster(t, 3)
	fc.goNative(2)
	c := newNativeClientFor(t, fc, 3*time.Second)
	ctx := context.Background()

	res, err := c.Get(ctx, []byte("missing"), GetOptions{})
	if err != nil || res.Found {
		t.Fatalf("get of a missing key: %+v, %v", res, err)
	}
	for _, v := range []string{"apple", "pear"} {
		if _, err := c.Put(ctx, []byte("cart"), []byte(v), PutOptions{W: 2}); err != nil {
			t.Fatal(err)
		}
	}
	res, err = c.Get(ctx, []byte("cart"), GetOptions{R: 2})
	if err != nil || len(res.Values) != 2 || res.Context == "" {
		t.Fatalf("siblings: %+v, %v", res, err)
	}
	if err := c.Delete(ctx, []byte("cart"), res.Context, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if res, err = c.Get(ctx, []byte("cart"), GetOptions{}); err != nil || res.Found || res.Context == "" {
		t.Fatalf("after delete: %+v, %v; want not found, with the deletion's context", res, err)
	}

	primary := fc.ring.KeyPreferenceList([]byte("cart"))[0]
	want := messages.CoordinatorFor([]byte("cart"), 2)
	for _, h := range fc.takeHits() {
		if h.key == "cart" && (h.node != primary || h.coordinator != want) {
			t.Fatalf("%s reached %s coordinator %d, want %s coordinator %d", h.method, h.node, h.coordinator, primary, want)
		}
	}
}

func TestNativeErrorAnswerIsFinal(t *testing.T) {
	fc := newFakeCluster(t, 4)
	fc.goNative(1)
	c := newNativeClientFor(t, fc, 3*time.Second)
	key := fc.keyWithPrimary("n1")
	fc.node("n1").failWith.Store(http.StatusRequestEntityTooLarge)
	_, err := c.Put(context.Background(), []byte(key), []byte("v"), PutOptions{})
	e := requireStatus(t, err, http.StatusRequestEntityTooLarge)
	if e.Message != "injected failure" {
		t.Fatalf("message %q", e.Message)
	}
	if hits := fc.takeHits(); len(hits) != 1 || hits[0].node != "n1" {
		t.Fatalf("requests %v: an answered request must not be retried elsewhere", hits)
	}
}

// A refused connection is known at once from the transport, so failing
// over costs far less than the primary's share of the timeout.
func TestNativeFailsOverFromDeadNode(t *testing.T) {
	fc := newFakeCluster(t, 4)
	fc.goNative(1, "n2")
	c := newNativeClientFor(t, fc, 4*time.Second)
	key := fc.keyWithPrimary("n2")
	pref := fc.ring.KeyPreferenceList([]byte(key))
	for range 3 {
		start := time.Now()
		if _, err := c.Put(context.Background(), []byte(key), []byte("v"), PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("fail-over took %v", d)
		}
		if hits := fc.takeHits(); len(hits) != 1 || hits[0].node != pref[1] {
			t.Fatalf("requests %v: want one, at %s", hits, pref[1])
		}
	}
}

// A read is idempotent: a hung primary gets a slice of the timeout, then
// the next member is asked.
func TestNativeHungNodeGetsASlice(t *testing.T) {
	fc := newFakeCluster(t, 4)
	fc.goNative(1)
	c := newNativeClientFor(t, fc, time.Second)
	key := fc.keyWithPrimary("n3")
	pref := fc.ring.KeyPreferenceList([]byte(key))
	if _, err := c.Put(context.Background(), []byte(key), []byte("v"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	fc.takeHits()
	fc.node("n3").hang.Store(true)
	res, err := c.Get(context.Background(), []byte(key), GetOptions{})
	if err != nil || !res.Found {
		t.Fatalf("get: %+v, %v", res, err)
	}
	hits := fc.takeHits()
	if len(hits) != 2 || hits[0].node != "n3" || hits[1].node != pref[1] {
		t.Fatalf("requests %v: want the hung primary, then %s", hits, pref[1])
	}

	// With every replica hung, the request ends at the timeout.
	for _, id := range pref {
		fc.node(id).hang.Store(true)
	}
	start := time.Now()
	_, err = c.Get(context.Background(), []byte(key), GetOptions{})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("error %v: want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v with a timeout of 1s", d)
	}
}

func TestNativeRefusesOversizedFrames(t *testing.T) {
	fc := newFakeCluster(t, 3)
	fc.goNative(1)
	c := newNativeClientFor(t, fc, time.Second)
	_, err := c.Put(context.Background(), []byte("k"), make([]byte, maxFrame), PutOptions{})
	var e *Error
	if err == nil || errors.As(err, &e) {
		t.Fatalf("error %v: want a local refusal", err)
	}
}
