package client

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/version"
)

// Writes are not idempotent: one that may have reached a node is never
// sent to another, or it could be applied twice and make a sibling.

// someContext is a valid context for deletes of keys the test never read.
var someContext = version.EncodeContext(fakeContext(1), nil)

// writeOnce runs a put, then a delete, of key and checks that each fails
// with ErrOutcomeUnknown after reaching only the primary.
func writeOnce(t *testing.T, fc *fakeCluster, c *Client, key string) {
	t.Helper()
	primary := fc.ring.KeyPreferenceList([]byte(key))[0]
	_, putErr := c.Put(context.Background(), []byte(key), []byte("v"), PutOptions{})
	requireOutcomeUnknown(t, fc, putErr, "put", primary)
	// As if the failed member's cooldown had passed, so the delete goes to
	// the primary too.
	c.routes.Load().members[primary].markOK()
	delErr := c.Delete(context.Background(), []byte(key), someContext, PutOptions{})
	requireOutcomeUnknown(t, fc, delErr, "delete", primary)
}

func requireOutcomeUnknown(t *testing.T, fc *fakeCluster, err error, op, primary string) {
	t.Helper()
	if !errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("%s: error %v: want ErrOutcomeUnknown", op, err)
	}
	if hits := fc.takeHits(); len(hits) != 1 || hits[0].node != primary {
		t.Fatalf("%s: requests %v: want one, at %s, and none at the next member", op, hits, primary)
	}
}

// requireFailedOver checks that a request reached failed first and want
// last, and no other member. net/http may retry a read once on a new
// connection, so failed may be reached twice.
func requireFailedOver(t *testing.T, fc *fakeCluster, failed, want string) {
	t.Helper()
	hits := fc.takeHits()
	if len(hits) < 2 || hits[0].node != failed || hits[len(hits)-1].node != want {
		t.Fatalf("requests %v: want %s first, %s last", hits, failed, want)
	}
	for _, h := range hits[:len(hits)-1] {
		if h.node != failed {
			t.Fatalf("requests %v: want only %s before %s", hits, failed, want)
		}
	}
}

func TestNativeWriteToHungNodeIsNotRetried(t *testing.T) {
	fc := newFakeCluster(t, 4)
	fc.goNative(1)
	c := newNativeClientFor(t, fc, 500*time.Millisecond)
	key := fc.keyWithPrimary("n1")
	fc.node("n1").hang.Store(true)
	writeOnce(t, fc, c, key)
}

// A node that goes down after taking a request raises PeerDown: a read
// moves on at once, a write ends without waiting for the timeout.
func TestNativeNodeCrashingAfterSend(t *testing.T) {
	fc := newFakeCluster(t, 4)
	fc.goNative(1)
	c := newNativeClientFor(t, fc, 4*time.Second)

	key := fc.keyWithPrimary("n1")
	fc.node("n1").drop.Store(true)
	start := time.Now()
	_, err := c.Put(context.Background(), []byte(key), []byte("v"), PutOptions{})
	requireOutcomeUnknown(t, fc, err, "put", "n1")
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v: PeerDown should end the wait", d)
	}

	key = fc.keyWithPrimary("n2")
	pref := fc.ring.KeyPreferenceList([]byte(key))
	if contains(pref, "n1") {
		t.Skip("the key's preference list holds the node already down")
	}
	fc.node("n2").drop.Store(true)
	start = time.Now()
	if _, err := c.Get(context.Background(), []byte(key), GetOptions{}); err != nil {
		t.Fatalf("get: %v", err)
	}
	requireFailedOver(t, fc, "n2", pref[1])
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v: PeerDown should end the wait", d)
	}
}

// A write to a node whose address refuses connections cannot have reached
// it, so it goes to the next member.
func TestNativeRefusedDeleteFailsOver(t *testing.T) {
	fc := newFakeCluster(t, 4)
	fc.goNative(1, "n2")
	c := newNativeClientFor(t, fc, 4*time.Second)
	key := fc.keyWithPrimary("n2")
	pref := fc.ring.KeyPreferenceList([]byte(key))
	if err := c.Delete(context.Background(), []byte(key), someContext, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if hits := fc.takeHits(); len(hits) != 1 || hits[0].node != pref[1] {
		t.Fatalf("requests %v: want one, at %s", hits, pref[1])
	}
}

func TestHTTPWriteToHungNodeIsNotRetried(t *testing.T) {
	fc := newFakeCluster(t, 4)
	c := newHTTPClientFor(t, fc, 300*time.Millisecond)
	key := fc.keyWithPrimary("n2")
	fc.node("n2").hang.Store(true)
	writeOnce(t, fc, c, key)
}

// A connection closed after the request was written: the write's outcome
// is unknown, the read moves on.
func TestHTTPNodeDroppingTheConnection(t *testing.T) {
	fc := newFakeCluster(t, 4)
	c := newHTTPClientFor(t, fc, 3*time.Second)
	key := fc.keyWithPrimary("n3")
	pref := fc.ring.KeyPreferenceList([]byte(key))
	fc.node("n3").drop.Store(true)
	writeOnce(t, fc, c, key)

	c.routes.Load().members["n3"].markOK()
	if _, err := c.Get(context.Background(), []byte(key), GetOptions{}); err != nil {
		t.Fatalf("get: %v", err)
	}
	requireFailedOver(t, fc, "n3", pref[1])
}

func TestHTTPRefusedWritesFailOver(t *testing.T) {
	fc := newFakeCluster(t, 4)
	key := fc.keyWithPrimary("n2")
	pref := fc.ring.KeyPreferenceList([]byte(key))
	fc.node("n2").srv.Close()
	for _, op := range []string{"put", "delete"} {
		// A fresh client has not yet learnt that n2 is down.
		c := newHTTPClientFor(t, fc, 3*time.Second)
		var err error
		if op == "put" {
			_, err = c.Put(context.Background(), []byte(key), []byte("v"), PutOptions{})
		} else {
			err = c.Delete(context.Background(), []byte(key), someContext, PutOptions{})
		}
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if hits := fc.takeHits(); len(hits) != 1 || hits[0].node != pref[1] {
			t.Fatalf("%s: requests %v: want one, at %s", op, hits, pref[1])
		}
	}
}

// A caller that gives up on a write already sent learns both why it ended
// and that the write may land.
func TestWriteCancelledAfterSend(t *testing.T) {
	fc := newFakeCluster(t, 4)
	c := newHTTPClientFor(t, fc, 3*time.Second)
	key := fc.keyWithPrimary("n1")
	fc.node("n1").hang.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Put(ctx, []byte(key), []byte("v"), PutOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v: want the caller's deadline", err)
	}
	requireOutcomeUnknown(t, fc, err, "put", "n1")
}

// A node that answers a write with 503 after storing it says its outcome
// is unknown; the client's error says so too, wraps ErrOutcomeUnknown, and
// the write goes to no other member. Without the word, a 503 stored
// nothing, and the next member is tried.
func TestAnsweredUnknownOutcome(t *testing.T) {
	for _, mode := range []Mode{ModeHTTP, ModeNative} {
		t.Run(mode.String(), func(t *testing.T) {
			fc := newFakeCluster(t, 4)
			var c *Client
			if mode == ModeNative {
				fc.goNative(1)
				c = newNativeClientFor(t, fc, 3*time.Second)
			} else {
				c = newHTTPClientFor(t, fc, 3*time.Second)
			}
			key := fc.keyWithPrimary("n1")
			fc.node("n1").failWith.Store(http.StatusServiceUnavailable)
			fc.node("n1").unknown.Store(true)
			_, err := c.Put(context.Background(), []byte(key), []byte("v"), PutOptions{})
			if e := requireStatus(t, err, http.StatusServiceUnavailable); !e.Unknown {
				t.Fatalf("error %v: want Unknown set", e)
			}
			requireOutcomeUnknown(t, fc, err, "put", "n1")

			// Without the word, a 503 stored nothing: the next member is tried.
			fc.node("n1").unknown.Store(false)
			c.routes.Load().members["n1"].markOK()
			if _, err := c.Put(context.Background(), []byte(key), []byte("v"), PutOptions{}); err != nil {
				t.Fatalf("put after a definite 503: %v", err)
			}
			if hits := fc.takeHits(); len(hits) != 2 || hits[0].node != "n1" {
				t.Fatalf("requests %v: want n1, then the next member", hits)
			}
		})
	}
}
