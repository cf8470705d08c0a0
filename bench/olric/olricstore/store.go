// Package olricstore lets the benchmarks drive an olric cluster: Store
// implements ycsb.Store (checked in the tests, so this package itself
// does not import the ycsb package) over olric's cluster client, and StartCluster runs
// olricnode member processes for it to talk to.
//
// It lives in its own module so the store's module never depends on olric.
package olricstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/olric-data/olric"
)

// routingRefresh is how often the client refetches olric's routing table.
// olric's default is a minute; the client sends each key to the primary
// owner it last heard of, so after a member dies a stale table would send
// requests to it for up to that long.
const routingRefresh = time.Second

// Store is an olric cluster client bound to one DMap. It is safe for
// concurrent use, as olric's client is.
type Store struct {
	client *olric.ClusterClient
	dm     olric.DMap
}

// Dial connects to the cluster through addrs (olric client host:port of
// one or more members; the client learns the rest) and uses the DMap
// named dmap.
func Dial(ctx context.Context, addrs []string, dmap string) (*Store, error) {
	if len(addrs) == 0 {
		return nil, errors.New("olricstore: no addresses")
	}
	type result struct {
		c   *olric.ClusterClient
		err error
	}
	// NewClusterClient takes no context (it is bounded by olric's own dial
	// and read timeouts), so wait for it here and give up on ctx.
	done := make(chan result, 1)
	go func() {
		c, err := olric.NewClusterClient(addrs, olric.WithRoutingTableFetchInterval(routingRefresh))
		done <- result{c, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		go func() {
			if r := <-done; r.err == nil {
				r.c.Close(context.Background())
			}
		}()
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, fmt.Errorf("olricstore: connect %v: %w", addrs, r.err)
	}
	dm, err := r.c.NewDMap(dmap)
	if err != nil {
		r.c.Close(ctx)
		return nil, fmt.Errorf("olricstore: dmap %q: %w", dmap, err)
	}
	return &Store{client: r.c, dm: dm}, nil
}

// Read returns key's value, or (nil, nil) if olric has no such key.
//
// With ReadQuorum above 1, olric v0.7.4 never says ErrKeyNotFound for a
// key that is nowhere: the owner counts its own (empty) lookup as a reply
// but a backup that answers "not found" as no reply, so the read falls
// short of the quorum and fails with ErrReadQuorum. Read therefore takes
// ErrReadQuorum as "missing" too. olric reports a backup that cannot be
// reached the same way, so a read that really lost its quorum also reads
// as missing; losing the member-count quorum (ErrClusterQuorum), timeouts
// and connection errors are still errors.
func (s *Store) Read(ctx context.Context, key []byte) ([]byte, error) {
	resp, err := s.dm.Get(ctx, string(key))
	if isOlricErr(err, olric.ErrKeyNotFound) || isOlricErr(err, olric.ErrReadQuorum) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v, err := resp.Byte()
	if err != nil {
		return nil, err
	}
	if v == nil {
		// A key that is there with an empty value must not read as missing.
		v = []byte{}
	}
	return v, nil
}

// isOlricErr reports whether err is olric's error target. errors.Is alone
// is not enough: olric v0.7.4 maps an error reply's prefix (READQUORUM,
// KEYNOTFOUND, ...) back to its sentinel only in a process that runs a
// member (olric.New registers the prefixes); in a client-only process the
// reply arrives as a plain error with the sentinel's text.
func isOlricErr(err, target error) bool {
	return err != nil && (errors.Is(err, target) || err.Error() == target.Error())
}

// Write puts value under key. olric encodes the value before Put returns,
// so the caller may reuse the slice afterwards.
func (s *Store) Write(ctx context.Context, key, value []byte) error {
	return s.dm.Put(ctx, string(key), value)
}

// Close closes the client and its connections.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.client.Close(ctx)
}
