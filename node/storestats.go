package node

import (
	"sync"
	"time"
)

// storeStats counts the keys and bytes of the partitions a node holds. A
// count scans every key, so it is kept for a few seconds: /status may be
// polled often (the status page does) without scanning the store each
// time.
type storeStats struct {
	mu           sync.Mutex
	at           time.Time
	keys, bytes  int64
	byPartition  map[uint32]partitionCount
	countedEvery time.Duration
}

// partitionCount is what one vnode's partition stores.
type partitionCount struct{ keys, bytes int64 }

func (n *Node) countStore() (keys, bytes int64, at time.Time) {
	s := &n.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	every := s.countedEvery
	if every == 0 {
		every = 5 * time.Second
	}
	if time.Since(s.at) < every {
		return s.keys, s.bytes, s.at
	}
	var k, b int64
	by := map[uint32]partitionCount{}
	for _, p := range n.partView.Held() {
		pk, pb, err := n.store.PartitionStats(p)
		if err != nil {
			continue // a partition being dropped; the next count has it right
		}
		k, b = k+int64(pk), b+pb
		by[p] = partitionCount{keys: int64(pk), bytes: pb}
	}
	s.keys, s.bytes, s.byPartition, s.at = k, b, by, time.Now()
	return s.keys, s.bytes, s.at
}

// countByPartition is countStore's count, partition by partition.
func (n *Node) countByPartition() map[uint32]partitionCount {
	n.countStore()
	n.stats.mu.Lock()
	defer n.stats.mu.Unlock()
	return n.stats.byPartition
}
