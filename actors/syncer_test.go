package actors_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/messages"
)

// repair runs anti-entropy on node i for every partition it holds.
func (tc *testCluster) repair(i int) *actors.RepairResult {
	tc.tb.Helper()
	n := tc.nodes[i]
	res, err := n.engine.Request(actors.SyncerPID(n.addr), &actors.RepairRequest{Partition: -1}, 60*time.Second).Result()
	if err != nil {
		tc.tb.Fatalf("repair on %s: %v", n.id, err)
	}
	return res.(*actors.RepairResult)
}

// One replica misses d of n writes while cut off (no stand-ins with three
// nodes, so no hints): one round of exchanges from another node leaves
// every replica holding the same versions, and carries far less than the
// partition.
func TestAntiEntropyRepairsADivergedReplica(t *testing.T) {
	const n, d = 3000, 100
	tc := newTestCluster(t, clusterSpec{partitions: 1})
	for i := 0; i < n-d; i++ {
		tc.putMsg(0, &messages.ClientPut{Key: []byte(fmt.Sprintf("key-%05d", i)), Value: []byte(strings.Repeat("v", 100)), W: 3})
	}
	tc.down("n3")
	for i := n - d; i < n; i++ {
		tc.mustPut(0, fmt.Sprintf("key-%05d", i), strings.Repeat("w", 100), nil)
	}
	tc.upAll()
	res := tc.repair(0)
	repaired, bytes := 0, int64(0)
	for _, e := range res.Exchanges {
		if e.Err != "" {
			t.Fatalf("exchange %+v", e)
		}
		repaired += e.RepairedRem
		bytes += e.Bytes
	}
	if repaired != d {
		t.Fatalf("exchanges %+v: repaired %d keys, want %d", res.Exchanges, repaired, d)
	}
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("key-%05d", i)
		if a, c := tc.stored("n1", k), tc.stored("n3", k); !a.Equal(c) || len(a) == 0 {
			t.Fatalf("%s: n1 holds %v, n3 %v", k, a, c)
		}
	}
	if again := tc.repair(2); !again.Exchanges[0].InSync || !again.Exchanges[1].InSync {
		t.Fatalf("a second round: %+v; want every pair in sync", again.Exchanges)
	}
	// At this small n the tree's levels weigh most; package exchange
	// shows d=100 among 100 000 under 1%.
	whole := int64(n * (len("key-00000") + 100 + 60))
	t.Logf("%d keys repaired with %d bytes; the partition is about %d", repaired, bytes, whole)
	if bytes*5 > whole {
		t.Fatalf("the exchange carried %d bytes, over a fifth of the partition's %d", bytes, whole)
	}
}

// An exchange whose peer stops answering ends on its timer, saying so.
func TestAntiEntropyPeerThatStopsAnsweringEndsTheExchange(t *testing.T) {
	tc := newTestCluster(t, clusterSpec{partitions: 1})
	tc.mustPut(0, "k", "v", nil)
	tc.net.Isolate(tc.node("n2").addr) // not suspected: the syncer tries it
	start := time.Now()
	res := tc.repair(0)
	var failed int
	for _, e := range res.Exchanges {
		if e.Peer == "n2" {
			if e.Err != "a replica stopped answering" {
				t.Fatalf("exchange with the silent peer: %+v", e)
			}
			failed++
		}
	}
	if failed != 1 || time.Since(start) > 5*time.Second {
		t.Fatalf("exchanges %+v after %v", res.Exchanges, time.Since(start))
	}
}
