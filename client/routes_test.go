package client

import (
	"context"
	"testing"
	"time"
)

// A node answers with the membership version it routed by; a client on an
// older one reads the membership again and routes by the new ring, so a
// key whose primary is a node that joined reaches it directly.
func TestClientRefreshesItsRingWhenToldItIsStale(t *testing.T) {
	fc := newFakeCluster(t, 3)
	c := newHTTPClientFor(t, fc, 3*time.Second)
	if v := c.RingVersion(); v != 3 {
		t.Fatalf("ring version %d after New, want 3", v)
	}
	ctx := context.Background()
	n4 := fc.addNode()
	key := fc.keyWithPrimary(n4.id)
	// The first request goes by the old ring and tells the client it is
	// stale.
	if _, err := c.Put(ctx, []byte(key), []byte("v"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.RingVersion() != 4 {
		if time.Now().After(deadline) {
			t.Fatalf("ring version %d 5s after a node answered from version 4", c.RingVersion())
		}
		time.Sleep(10 * time.Millisecond)
	}
	fc.takeHits()
	if _, err := c.Put(ctx, []byte(key), []byte("v2"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	hits := fc.takeHits()
	if len(hits) != 1 || hits[0].node != n4.id {
		t.Fatalf("the put of a key whose primary is %s went to %v", n4.id, hits)
	}
}
