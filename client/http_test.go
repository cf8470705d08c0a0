package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/api"
)

func newHTTPClientFor(t *testing.T, fc *fakeCluster, timeout time.Duration) *Client {
	t.Helper()
	c, err := New(context.Background(), Config{Seeds: fc.seeds(), Mode: ModeHTTP, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestHTTPRoutesToPrimary(t *testing.T) {
	fc := newFakeCluster(t, 5)
	c := newHTTPClientFor(t, fc, 3*time.Second)
	ctx := context.Background()
	for i := range 50 {
		key := fmt.Sprintf("k%d", i)
		if _, err := c.Put(ctx, []byte(key), []byte("v"), PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, []byte(key), GetOptions{}); err != nil {
			t.Fatal(err)
		}
		want := fc.ring.KeyPreferenceList([]byte(key))[0]
		for _, h := range fc.takeHits() {
			if h.node != want || h.key != key {
				t.Fatalf("%s %s reached %s, want the primary %s", h.method, key, h.node, want)
			}
		}
	}
}

func TestHTTPPutGetDelete(t *testing.T) {
	fc := newFakeCluster(t, 3)
	c := newHTTPClientFor(t, fc, 3*time.Second)
	ctx := context.Background()

	res, err := c.Get(ctx, []byte("missing"), GetOptions{})
	if err != nil || res.Found || len(res.Values) != 0 {
		t.Fatalf("get of a missing key: %+v, %v; want not found and no error", res, err)
	}

	put, err := c.Put(ctx, []byte("k"), []byte("v1"), PutOptions{W: 2})
	if err != nil || put == "" {
		t.Fatalf("put: %q, %v", put, err)
	}
	res, err = c.Get(ctx, []byte("k"), GetOptions{R: 3})
	if err != nil || !res.Found || len(res.Values) != 1 || string(res.Values[0]) != "v1" || res.Context != put {
		t.Fatalf("get: %+v, %v; want v1 with context %q", res, err, put)
	}

	if err := c.Delete(ctx, []byte("k"), res.Context, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err = c.Get(ctx, []byte("k"), GetOptions{})
	if err != nil || res.Found {
		t.Fatalf("get after delete: %+v, %v; want not found", res, err)
	}
	if res.Context == "" {
		t.Fatal("a read of a deleted key lost the deletion's context")
	}
}

func TestHTTPSiblings(t *testing.T) {
	fc := newFakeCluster(t, 3)
	c := newHTTPClientFor(t, fc, 3*time.Second)
	ctx := context.Background()
	key := []byte("cart")
	for _, v := range []string{"apple", "pear"} {
		if _, err := c.Put(ctx, key, []byte(v), PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := c.Get(ctx, key, GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Found || len(res.Values) != 2 || string(res.Values[0]) != "apple" || string(res.Values[1]) != "pear" {
		t.Fatalf("siblings: %+v; want apple and pear", res)
	}
	if res.Context == "" {
		t.Fatal("siblings came without a context")
	}

	// A write with the read's context resolves the conflict.
	if _, err := c.Put(ctx, key, []byte("apple,pear"), PutOptions{Context: res.Context}); err != nil {
		t.Fatal(err)
	}
	res, err = c.Get(ctx, key, GetOptions{})
	if err != nil || len(res.Values) != 1 || string(res.Values[0]) != "apple,pear" {
		t.Fatalf("after resolving: %+v, %v", res, err)
	}
}

func TestHTTPErrorAnswerIsFinal(t *testing.T) {
	fc := newFakeCluster(t, 5)
	c := newHTTPClientFor(t, fc, 3*time.Second)
	key := fc.keyWithPrimary("n2")
	fc.node("n2").failWith.Store(http.StatusRequestEntityTooLarge)

	_, err := c.Put(context.Background(), []byte(key), []byte("v"), PutOptions{})
	e := requireStatus(t, err, http.StatusRequestEntityTooLarge)
	if e.Message != "injected failure" || e.Error() != "injected failure (413)" {
		t.Fatalf("error %q: want the node's message and status", e.Error())
	}
	hits := fc.takeHits()
	if len(hits) != 1 || hits[0].node != "n2" {
		t.Fatalf("requests %v: an answered request must not be retried elsewhere", hits)
	}

	fc.node("n2").failWith.Store(http.StatusGatewayTimeout)
	_, err = c.Get(context.Background(), []byte(key), GetOptions{})
	requireStatus(t, err, http.StatusGatewayTimeout)
}

// A 503 that stored nothing (no unknown outcome) moves on: the member
// could not serve the key, and the next may.
func TestHTTPDefinite503MovesOn(t *testing.T) {
	fc := newFakeCluster(t, 5)
	c := newHTTPClientFor(t, fc, 3*time.Second)
	key := fc.keyWithPrimary("n2")
	pref := fc.ring.KeyPreferenceList([]byte(key))
	fc.node("n2").failWith.Store(http.StatusServiceUnavailable)
	if _, err := c.Put(context.Background(), []byte(key), []byte("v"), PutOptions{}); err != nil {
		t.Fatalf("put: %v", err)
	}
	if hits := fc.takeHits(); len(hits) != 2 || hits[0].node != "n2" || hits[1].node != pref[1] {
		t.Fatalf("requests %v: want n2, then %s", hits, pref[1])
	}
}

func TestHTTPFailsOverWhenNodeDown(t *testing.T) {
	fc := newFakeCluster(t, 5)
	c := newHTTPClientFor(t, fc, 3*time.Second)
	ctx := context.Background()
	key := fc.keyWithPrimary("n3")
	pref := fc.ring.KeyPreferenceList([]byte(key))
	fc.node("n3").srv.Close()

	if _, err := c.Put(ctx, []byte(key), []byte("v"), PutOptions{}); err != nil {
		t.Fatalf("put with the primary down: %v", err)
	}
	hits := fc.takeHits()
	if len(hits) != 1 || hits[0].node != pref[1] {
		t.Fatalf("requests %v: want one, at the second of %v", hits, pref)
	}

	// The failed member now goes last, so the next request costs no dial.
	res, err := c.Get(ctx, []byte(key), GetOptions{})
	if err != nil || string(res.Values[0]) != "v" {
		t.Fatalf("get: %+v, %v", res, err)
	}
	if hits := fc.takeHits(); len(hits) != 1 || hits[0].node != pref[1] {
		t.Fatalf("requests %v: want one, at %s", hits, pref[1])
	}
}

func TestHTTPAllReplicasDown(t *testing.T) {
	fc := newFakeCluster(t, 4)
	c := newHTTPClientFor(t, fc, 3*time.Second)
	key := "k"
	for _, id := range fc.ring.KeyPreferenceList([]byte(key)) {
		fc.node(id).srv.Close()
	}
	_, err := c.Get(context.Background(), []byte(key), GetOptions{})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("error %v: want ErrUnavailable", err)
	}
	var e *Error
	if errors.As(err, &e) {
		t.Fatalf("error %v: nobody answered, so it is not a node's answer", err)
	}
}

func TestHTTPHungNodeTimesOut(t *testing.T) {
	fc := newFakeCluster(t, 3)
	c := newHTTPClientFor(t, fc, 300*time.Millisecond)
	key := fc.keyWithPrimary("n1")
	fc.node("n1").hang.Store(true)
	start := time.Now()
	_, err := c.Get(context.Background(), []byte(key), GetOptions{})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("error %v: want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v with a timeout of 300ms", d)
	}

	// A caller's cancelled context is reported as such.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Get(ctx, []byte(key), GetOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v: want context.Canceled", err)
	}
}

func TestHTTPAwkwardKeys(t *testing.T) {
	fc := newFakeCluster(t, 3)
	c := newHTTPClientFor(t, fc, 3*time.Second)
	ctx := context.Background()
	for _, key := range []string{"a/b", ".", "..", "a/../b", "//", "sp ace", "q?x=1#f", "100%", "\xff\x00", "ünï"} {
		if _, err := c.Put(ctx, []byte(key), []byte(key), PutOptions{}); err != nil {
			t.Fatalf("put %q: %v", key, err)
		}
		res, err := c.Get(ctx, []byte(key), GetOptions{})
		if err != nil || !res.Found || !bytes.Equal(res.Values[0], []byte(key)) {
			t.Fatalf("get %q: %+v, %v", key, res, err)
		}
		for _, h := range fc.takeHits() {
			if h.key != key {
				t.Fatalf("key %q arrived as %q", key, h.key)
			}
		}
	}
}

func TestValidation(t *testing.T) {
	fc := newFakeCluster(t, 3)
	c := newHTTPClientFor(t, fc, 3*time.Second)
	ctx := context.Background()
	cases := map[string]error{}
	_, cases["empty key put"] = c.Put(ctx, nil, []byte("v"), PutOptions{})
	_, cases["empty key get"] = c.Get(ctx, []byte{}, GetOptions{})
	_, cases["w over N"] = c.Put(ctx, []byte("k"), []byte("v"), PutOptions{W: 4})
	_, cases["negative r"] = c.Get(ctx, []byte("k"), GetOptions{R: -1})
	_, cases["bad context"] = c.Put(ctx, []byte("k"), []byte("v"), PutOptions{Context: "!!"})
	cases["delete without context"] = c.Delete(ctx, []byte("k"), "", PutOptions{})
	for name, err := range cases {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if hits := fc.takeHits(); len(hits) != 0 {
		t.Fatalf("invalid requests were sent: %v", hits)
	}

	if _, err := New(ctx, Config{}); err == nil {
		t.Error("New without seeds: no error")
	}
	if _, err := New(ctx, Config{Seeds: []string{"ftp://x"}}); err == nil {
		t.Error("New with a non-HTTP seed: no error")
	}
}

func TestNewTriesSeedsInTurn(t *testing.T) {
	fc := newFakeCluster(t, 3)
	dead := "http://" + closedAddr(t)
	c, err := New(context.Background(), Config{Seeds: []string{dead, fc.nodes[1].http}, Mode: ModeHTTP})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Status(context.Background())
	if err != nil || st.Node != "n2" || len(st.Members) != 3 {
		t.Fatalf("status: %+v, %v; want n2's view of 3 members", st, err)
	}

	if _, err := New(context.Background(), Config{Seeds: []string{dead}, Mode: ModeHTTP, Timeout: time.Second}); err == nil {
		t.Fatal("New with no live seed: no error")
	}
	if _, err := ReadStatus(context.Background(), Config{Seeds: []string{dead, fc.nodes[2].srv.URL}}); err != nil {
		t.Fatal(err)
	}
}

func TestNewWaitsForMembers(t *testing.T) {
	fc := newFakeCluster(t, 3)
	fc.notReady.Store(3)
	c := newHTTPClientFor(t, fc, 3*time.Second)
	if len(c.routes.Load().members) != 3 {
		t.Fatalf("%d members, want 3", len(c.routes.Load().members))
	}

	fc.notReady.Store(1 << 30)
	_, err := New(context.Background(), Config{Seeds: fc.seeds(), Mode: ModeHTTP, Timeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no members") {
		t.Fatalf("error %v: want no members", err)
	}
}

func TestClosedClient(t *testing.T) {
	fc := newFakeCluster(t, 3)
	c := newHTTPClientFor(t, fc, time.Second)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := c.Get(context.Background(), []byte("k"), GetOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("error %v: want ErrClosed", err)
	}
}

func TestHTTPBase(t *testing.T) {
	c := &Client{seed: "https://seed:8001", status: api.Status{Node: "n1", HTTP: "10.0.0.1:8001"}}
	for _, tc := range []struct {
		m    api.Member
		want string
	}{
		{api.Member{ID: "n2", Addr: "10.0.0.2:7002", HTTP: "10.0.0.2:8002"}, "https://10.0.0.2:8002"},
		{api.Member{ID: "n2", Addr: "10.0.0.2:7002", HTTP: "0.0.0.0:8002"}, "https://10.0.0.2:8002"},
		{api.Member{ID: "n2", Addr: "10.0.0.2:7002", HTTP: "[::]:8002"}, "https://10.0.0.2:8002"},
		{api.Member{ID: "n2", Addr: "10.0.0.2:7002", HTTP: ":8002"}, "https://10.0.0.2:8002"},
		{api.Member{ID: "n2", Addr: "10.0.0.2:7002"}, "https://seed:8001"},
		{api.Member{ID: "n1", Addr: "10.0.0.1:7001"}, "https://10.0.0.1:8001"},
	} {
		if got := c.httpBase(tc.m); got != tc.want {
			t.Errorf("httpBase(%+v) = %q, want %q", tc.m, got, tc.want)
		}
	}
}

// TestConcurrentUse runs many goroutines on one client; run with -race.
func TestConcurrentUse(t *testing.T) {
	fc := newFakeCluster(t, 5)
	c := newHTTPClientFor(t, fc, 5*time.Second)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				key := []byte(fmt.Sprintf("g%d-%d", g, i))
				if _, err := c.Put(ctx, key, key, PutOptions{}); err != nil {
					errs <- err
					return
				}
				res, err := c.Get(ctx, key, GetOptions{})
				if err != nil || !bytes.Equal(res.Values[0], key) {
					errs <- fmt.Errorf("get %s: %+v, %v", key, res, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
