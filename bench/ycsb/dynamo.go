package ycsb

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/dynamokv/dynamo/client"
)

// DynamoStore drives this store through its Go client. A write sends the
// context of what the clients have seen of the key (their reads, the
// replies to their writes), as an application that overwrites a record
// does: without it every write would become a sibling of the last. Writes
// still in flight when another is sent stay siblings of it.
type DynamoStore struct {
	c      *client.Client
	get    client.GetOptions
	put    client.PutOptions
	shards [64]ctxShard
	seed   maphash.Seed
	// siblingReads counts reads that returned more than one value.
	siblingReads atomic.Int64
	// merges counts answers whose context was merged with another's.
	merges atomic.Int64
}

type ctxShard struct {
	mu sync.Mutex
	// ctx holds each key's context behind a pointer, so that keeping
	// a key seen before is a lookup, which does not allocate, not an
	// assignment, which makes the key's string anew.
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

// slot returns the key's context cell, made on first use, and the
// context it holds now.
func (s *DynamoStore) slot(key []byte) (*ctxShard, *string, string) {
	sh := s.shard(key)
	sh.mu.Lock()
	p := sh.ctx[string(key)]
	if p == nil {
		p = new(string)
		sh.ctx[string(key)] = p
	}
	sent := *p
	sh.mu.Unlock()
	return sh, p, sent
}

// settle keeps got, the context an answer brought, in the key's cell p.
// It covers sent, what the cell held when the request left: a write's
// reply covers the context it was sent with, and a read (R+W > N) sees
// every write acknowledged before it started. So when the cell still
// holds sent, got replaces it; when another request of the key has
// answered meanwhile, the two are merged, so that what that one covered
// is not forgotten (each write forgotten would stay as a sibling of the
// next).
func (s *DynamoStore) settle(sh *ctxShard, p *string, sent, got string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if *p == sent {
		*p = got
		return
	}
	s.merges.Add(1)
	if m, err := client.MergeContexts(*p, got); err == nil {
		*p = m
	} else {
		*p = got
	}
}

func (s *DynamoStore) Read(ctx context.Context, key []byte) ([]byte, error) {
	sh, p, sent := s.slot(key)
	res, err := s.c.Get(ctx, key, s.get)
	if err != nil || !res.Found {
		return nil, err
	}
	s.settle(sh, p, sent, res.Context)
	if len(res.Values) > 1 {
		s.siblingReads.Add(1)
	}
	return res.Values[0], nil
}

func (s *DynamoStore) Write(ctx context.Context, key, value []byte) error {
	sh, p, sent := s.slot(key)
	opt := s.put
	opt.Context = sent
	c, err := s.c.Put(ctx, key, value, opt)
	if err == nil {
		s.settle(sh, p, sent, c)
	}
	return err
}

// Merges is how many answers brought a context that was merged with
// another answer's, the key's requests having overlapped.
func (s *DynamoStore) Merges() int64 { return s.merges.Load() }

// SiblingReads is how many reads returned siblings.
func (s *DynamoStore) SiblingReads() int64 { return s.siblingReads.Load() }

func (s *DynamoStore) Close() error { return s.c.Close() }
