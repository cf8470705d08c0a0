package ycsb

import (
	"context"
	"hash/fnv"
	"sync"
	"sync/atomic"

	"github.com/dynamokv/dynamo/client"
)

// DynamoStore drives this store through its Go client. A write sends the
// context of the client's last read or write of the key, as an
// application that reads before it writes does: without it every write
// would become a sibling of the last.
type DynamoStore struct {
	c      *client.Client
	get    client.GetOptions
	put    client.PutOptions
	shards [64]ctxShard
	// siblingReads counts reads that returned more than one value.
	siblingReads atomic.Int64
}

type ctxShard struct {
	mu  sync.Mutex
	ctx map[string]string
}

// NewDynamoStore wraps c; r and w are the quorums asked (0: the node's).
func NewDynamoStore(c *client.Client, r, w int) *DynamoStore {
	s := &DynamoStore{c: c, get: client.GetOptions{R: r}, put: client.PutOptions{W: w}}
	for i := range s.shards {
		s.shards[i].ctx = map[string]string{}
	}
	return s
}

func (s *DynamoStore) shard(key []byte) *ctxShard {
	h := fnv.New32a()
	_, _ = h.Write(key)
	return &s.shards[h.Sum32()%uint32(len(s.shards))]
}

func (s *DynamoStore) remember(key []byte, ctx string) {
	sh := s.shard(key)
	sh.mu.Lock()
	sh.ctx[string(key)] = ctx
	sh.mu.Unlock()
}

func (s *DynamoStore) Read(ctx context.Context, key []byte) ([]byte, error) {
	res, err := s.c.Get(ctx, key, s.get)
	if err != nil || !res.Found {
		return nil, err
	}
	s.remember(key, res.Context)
	if len(res.Values) > 1 {
		s.siblingReads.Add(1)
	}
	return res.Values[0], nil
}

func (s *DynamoStore) Write(ctx context.Context, key, value []byte) error {
	sh := s.shard(key)
	sh.mu.Lock()
	opt := s.put
	opt.Context = sh.ctx[string(key)]
	sh.mu.Unlock()
	c, err := s.c.Put(ctx, key, value, opt)
	if err == nil {
		s.remember(key, c)
	}
	return err
}

// SiblingReads is how many reads returned siblings.
func (s *DynamoStore) SiblingReads() int64 { return s.siblingReads.Load() }

func (s *DynamoStore) Close() error { return s.c.Close() }
