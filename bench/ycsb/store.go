package ycsb

import "context"

// Store is what a workload drives: one store's client, shared by every
// client goroutine of a run, so it must be safe for concurrent use.
type Store interface {
	// Read reads key; a key that is not there is (nil, nil), not an error.
	Read(ctx context.Context, key []byte) ([]byte, error)
	// Write stores value under key, replacing what the client last read
	// or wrote of it.
	Write(ctx context.Context, key, value []byte) error
	// Close releases the client.
	Close() error
}
