package ycsb

import (
	"context"
	"hash/maphash"
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
	seed   maphash.Seed
	// siblingReads counts reads that returned more than one value.
	siblingReads atomic.Int64
}

type ctxShard struct {
	mu sync.Mutex
	// ctx holds each key's last context behind a pointer, so that
	// remembering a key seen before is a lookup, which does not allocate,
	// not an assignment, which makes the key's string anew.
	ctx map[string]*string
}

// NewDynamoStore wraps c; r and w are the quorums asked (0: the node's).
func NewDynamoStore(c *client.Client, r, w int) *DynamoStore {
	s := &DynamoStore{c: c, get: client.GetOptions{R: r}, put: client.PutOptions{W: w}, seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].ctx = map[string]*string{}
	}
	return s
}

func (s *DynamoStore) shard(key []byte) *ctxShard {
	return &s.shards[maphash.Bytes(s.seed, key)%uint64(len(s.shards))]
}

func (s *DynamoStore) remember(key []byte, ctx string) {
	sh := s.shard(key)
	sh.mu.Lock()
	if p := sh.ctx[string(key)]; p != nil {
		*p = ctx
	} else {
		first := ctx // declared here, so only a new key allocates it
		sh.ctx[string(key)] = &first
	}
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
	p := sh.ctx[string(key)]
	if p == nil {
		p = new(string)
		sh.ctx[string(key)] = p
	}
	opt := s.put
	opt.Context = *p
	sh.mu.Unlock()
	c, err := s.c.Put(ctx, key, value, opt)
	if err == nil {
		// The key's entry is never removed: its reply context goes where
		// its context came from, without looking the key up again.
		sh.mu.Lock()
		*p = c
		sh.mu.Unlock()
	}
	return err
}

// SiblingReads is how many reads returned siblings.
func (s *DynamoStore) SiblingReads() int64 { return s.siblingReads.Load() }

func (s *DynamoStore) Close() error { return s.c.Close() }
