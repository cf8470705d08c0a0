// Package transport carries actor messages between node processes. It
// implements hollywood's actor.Remoter seam with msgpack frames (see
// package messages) instead of hollywood's own protobuf remote, because a
// Dynamo store must keep talking to its healthy peers while others are dead,
// hung or unreachable:
//
//   - Send never waits on the network: it encodes the message and enqueues
//     it for the target peer's writer goroutine;
//   - each peer has its own connection, writer, bounded queue, dial timeout
//     and backoff, so one bad peer delays nobody else;
//   - what cannot be queued is dropped and counted: the store's protocols
//     end their waits with their own timers.
//
// Package transport/memnet offers the same seam in memory, with seeded
// fault rules, for engine-level tests.
package transport

import (
	"time"

	"github.com/anthdm/hollywood/actor"
)

// Transport is an actor.Remoter that reports what it did.
type Transport interface {
	actor.Remoter
	// Stats returns a snapshot of the transport's counters.
	Stats() Stats
}

// PeerUp is broadcast on the engine's event stream when a connection to a
// peer is established (after a dial, or on the first dial after a failure).
type PeerUp struct {
	Addr string
}

// PeerDown is broadcast on the engine's event stream when a peer that was up
// can no longer be reached: its connection broke, a write timed out, or a
// dial failed.
type PeerDown struct {
	Addr   string
	Reason string
}

// Stats are a transport's counters since it started. Every message that is
// not delivered is counted in exactly one Dropped or Refused field.
type Stats struct {
	Sent             uint64 // frames handed to a peer's connection
	Received         uint64 // frames decoded and delivered to the engine
	BytesSent        uint64 // bytes written to peers' connections, length prefixes included
	BytesReceived    uint64 // bytes of frames read from inbound connections, heartbeats included
	DroppedQueueFull uint64 // frames dropped because a peer's queue was full
	DroppedPeerDown  uint64 // frames dropped because their peer was down
	RefusedTooLarge  uint64 // frames refused at the sender: over the maximum size
	RefusedEncode    uint64 // messages that could not be encoded (unregistered type, ...)
	BadFrames        uint64 // received frames dropped: oversized, undecodable or unknown tag
	Dials            uint64 // dial attempts
	DialFailures     uint64 // failed dial attempts
	Peers            []PeerStats
}

// PeerStats describes one outbound peer.
type PeerStats struct {
	Addr    string
	Up      bool
	Queued  int // bytes waiting in the peer's queue
	Sent    uint64
	Dropped uint64
	// LastHeard is when a frame last arrived from the peer on our
	// connection to it (its heartbeats), zero if never; Reason is why it
	// last went down.
	LastHeard time.Time
	Reason    string
}
