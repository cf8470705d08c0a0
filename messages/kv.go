package messages

import "github.com/dynamokv/dynamo/version"

// The key-value protocols. A client request enters a node (its HTTP API or
// the native protocol of package client) and is sent to one of the node's
// coordinator actors. The coordinator sends to the vnode actors of the key's
// preference list, counts answers against R or W, and answers the client.
// Replica requests carry a request id chosen by the coordinator; answers
// carry it back, so late answers to a finished request are recognised and
// ignored.

// Status codes in replies follow HTTP, so the HTTP API passes them through.
const (
	StatusOK          = 200
	StatusBadRequest  = 400
	StatusNotFound    = 404
	StatusTooLarge    = 413
	StatusUnavailable = 503 // quorum not reached, or the cluster configuration disagrees
	StatusTimeout     = 504
)

// ClientPut is sent by a client (the HTTP API, the native client) to a
// coordinator actor of any node, to store Value under Key, or a tombstone
// when Delete is set. The coordinator answers the sender with
// ClientPutReply. A coordinator on a node outside the key's preference list
// forwards the request, sender unchanged, to a coordinator on a node in it.
type ClientPut struct {
	Key     []byte        `msgpack:"k"`
	Value   []byte        `msgpack:"v"`
	Context version.Clock `msgpack:"c"` // the context of the versions the client read; empty for a blind write
	Delete  bool          `msgpack:"d"`
	W       int           `msgpack:"w"` // 0: the node's default
	Hops    int           `msgpack:"h"` // forwards so far; bounded to stop loops
}

// ClientPutReply answers ClientPut. Status is StatusOK with the new
// version's context, or an error status with Err in words.
type ClientPutReply struct {
	Status  int           `msgpack:"s"`
	Err     string        `msgpack:"e"`
	Context version.Clock `msgpack:"c"`
}

// ClientGet is sent by a client to a coordinator actor of any node, to read
// Key. The coordinator answers the sender with ClientGetReply.
type ClientGet struct {
	Key []byte `msgpack:"k"`
	R   int    `msgpack:"r"` // 0: the node's default
}

// ClientGetReply answers ClientGet. Status is StatusOK with at least one
// value (several are concurrent siblings), StatusNotFound when no replica
// holds a live value, or an error status with Err. Context covers every
// version seen, tombstones included; a put with it replaces them all.
type ClientGetReply struct {
	Status  int           `msgpack:"s"`
	Err     string        `msgpack:"e"`
	Values  [][]byte      `msgpack:"v"`
	Context version.Clock `msgpack:"c"`
}

// CoordinatePut is sent by a coordinator to the vnode on its own node that
// replicates the key's partition: the vnode makes the new version (its own
// node's clock entry advanced past every version it holds), stores it, and
// answers CoordinatePutDone. The coordinator then sends the version to the
// other replicas with ReplicaPut.
type CoordinatePut struct {
	ReqID     uint64        `msgpack:"i"`
	Partition uint32        `msgpack:"p"`
	Key       []byte        `msgpack:"k"`
	Value     []byte        `msgpack:"v"`
	Delete    bool          `msgpack:"d"`
	Context   version.Clock `msgpack:"c"`
}

// CoordinatePutDone answers CoordinatePut with the version stored, or Err.
type CoordinatePutDone struct {
	ReqID   uint64          `msgpack:"i"`
	Node    string          `msgpack:"n"`
	Version version.Version `msgpack:"v"`
	Err     string          `msgpack:"e"`
}

// ReplicaPut is sent by a coordinator to a replica's vnode: merge Versions
// into what it holds (keeping siblings, dropping obsolete versions) and
// store the result. The vnode answers ReplicaPutAck when ReqID is not zero;
// read repair sends with ReqID zero and expects no answer.
type ReplicaPut struct {
	ReqID     uint64           `msgpack:"i"`
	Partition uint32           `msgpack:"p"`
	Key       []byte           `msgpack:"k"`
	Versions  version.Siblings `msgpack:"v"`
}

// ReplicaPutAck answers ReplicaPut: stored, or Err.
type ReplicaPutAck struct {
	ReqID uint64 `msgpack:"i"`
	Node  string `msgpack:"n"`
	Err   string `msgpack:"e"`
}

// ReplicaGet is sent by a coordinator to a replica's vnode, which answers
// ReplicaGetReply with every version it holds for Key (none when absent).
type ReplicaGet struct {
	ReqID     uint64 `msgpack:"i"`
	Partition uint32 `msgpack:"p"`
	Key       []byte `msgpack:"k"`
}

// ReplicaGetReply answers ReplicaGet.
type ReplicaGetReply struct {
	ReqID    uint64           `msgpack:"i"`
	Node     string           `msgpack:"n"`
	Versions version.Siblings `msgpack:"v"`
	Err      string           `msgpack:"e"`
}
