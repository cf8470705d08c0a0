package messages

import "github.com/dynamokv/dynamo/version"

// The key-value protocols. A client request enters a node (its HTTP API or
// the native protocol of package client) and is sent to one of the node's
// coordinator actors. The coordinator sends to the vnode actors of the key's
// preference list, counts answers against R or W, and answers the client.
// Replica requests carry a request id chosen by the coordinator; answers
// carry it back, so late answers to a finished request are recognised and
// ignored, except the coordinating vnode's CoordinatePutDone: the write it
// reports was stored, so it is still sent to the other replicas.

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
// ClientPutReply.
//
// A coordinator on a node that is not among the key's targets (the first
// N members of its partition's walk it does not suspect) forwards the
// request, sender unchanged, to a coordinator of the first target, naming
// the write (ID) and itself (Origin). The target asks the origin with
// PutTake before coordinating it and goes on only on PutGo; the origin
// tries the next target when none asks in time (see package protocol).
type ClientPut struct {
	Key     []byte        `msgpack:"k"`
	Value   []byte        `msgpack:"v"`
	Context version.Clock `msgpack:"c"`           // the context of the versions the client read; empty for a blind write
	Also    version.Dots  `msgpack:"a,omitempty"` // single events beyond Context the client saw (version.Dots)
	Delete  bool          `msgpack:"d"`
	W       int           `msgpack:"w"`  // 0: the node's default
	PW      int           `msgpack:"pw"` // acknowledgements needed from home nodes (not stand-ins); 0: none
	Hops    int           `msgpack:"h"`  // forwards so far; bounded to stop loops
	ID      uint64        `msgpack:"id"` // set by the node that forwarded it first
	Origin  string        `msgpack:"o"`  // that node's peer address
}

// ClientPutReply answers ClientPut. Status is StatusOK with a context for
// the client's next write of the key, or an error status with Err in words.
//
// The context is the client's own context advanced by the new version's
// dot when the node holds no version of its own that the client did not
// see. Otherwise the node has written versions the client never saw
// (siblings from other clients), and a clock covering the dot would cover
// them too, so the next write with it would silently discard them. The
// reply then carries the client's clock with the new dot named alone in
// Also (version.ReplyContext): its next write replaces its own previous
// write and keeps the others as siblings.
//
// Unknown is set on an error status when the write may have been stored
// all the same: the coordinating replica stored it, or was asked to and
// did not answer in time, and too few others acknowledged. Such a write
// may still appear on every replica (it is replicated late, and read
// repair spreads it), so the client must treat its outcome as unknown,
// not as failed. An error without Unknown stored nothing.
type ClientPutReply struct {
	Status  int           `msgpack:"s"`
	Err     string        `msgpack:"e"`
	Context version.Clock `msgpack:"c"`
	Also    version.Dots  `msgpack:"a,omitempty"`
	Unknown bool          `msgpack:"u"`
	// Ring is the coordinator's membership version: a client that routes
	// by an older ring refreshes it.
	Ring uint64 `msgpack:"r,omitempty"`
}

// ClientGet is sent by a client to a coordinator actor of any node, to read
// Key. The coordinator answers the sender with ClientGetReply.
type ClientGet struct {
	Key []byte `msgpack:"k"`
	R   int    `msgpack:"r"`  // 0: the node's default
	PR  int    `msgpack:"pr"` // answers needed from home nodes (not stand-ins); 0: none
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
	Also    version.Dots  `msgpack:"a,omitempty"` // as ClientPutReply's
	Ring    uint64        `msgpack:"r,omitempty"` // as ClientPutReply's
}

// CoordinatePut is sent by a coordinator to the vnode on its own node that
// replicates the key's partition: the vnode makes the new version (its own
// node's clock entry advanced past every version it holds), stores it, and
// answers CoordinatePutDone. The coordinator then sends the vnode's whole
// sibling set to the other targets with ReplicaPut or HintPut. A node that
// coordinates as a stand-in (none of the key's home nodes is up) sends it
// with Home set to its own hint buffer instead, which keeps the version as
// a hint for Home.
type CoordinatePut struct {
	Home      string        `msgpack:"o"`
	ReqID     uint64        `msgpack:"i"`
	Partition uint32        `msgpack:"p"`
	Key       []byte        `msgpack:"k"`
	Value     []byte        `msgpack:"v"`
	Delete    bool          `msgpack:"d"`
	Context   version.Clock `msgpack:"c"`
	Also      version.Dots  `msgpack:"a,omitempty"`
}

// CoordinatePutDone answers CoordinatePut with the version stored, or Err.
//
// Set is every version the vnode holds for the key after the write, the
// new one included. Replicas are sent the whole set, not only the new
// version: a context that covers a node's dot k is taken to cover all of
// that node's earlier dots, which holds only if a replica that has dot k
// also has every earlier dot of that node still alive.
//
// Partition and Key repeat the request's, so a coordinator that has given
// up on the request can still replicate the write it did not wait for.
// Status is StatusTooLarge when the write was refused because the key's
// sibling set would outgrow what one message may carry.
//
// MaybeStored is set with Err when the store failed while writing: the
// write may be there all the same, so its outcome is unknown. Any other
// Err means nothing was stored.
//
// Reply is the context for the client's next write (ClientPutReply's):
// only the vnode knows whether the key holds versions of its node that
// the client did not see (version.ReplyContext).
type CoordinatePutDone struct {
	ReqID       uint64           `msgpack:"i"`
	Node        string           `msgpack:"n"`
	Version     version.Version  `msgpack:"v"`
	Err         string           `msgpack:"e"`
	Set         version.Siblings `msgpack:"s"`
	Partition   uint32           `msgpack:"p"`
	Key         []byte           `msgpack:"k"`
	Status      int              `msgpack:"t"`
	Reply       version.Clock    `msgpack:"r"`
	ReplyAlso   version.Dots     `msgpack:"ra,omitempty"`
	MaybeStored bool             `msgpack:"m"`
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
	// Ring is the sender's membership version, 0 when unknown: a replica
	// on another version has the two membership actors gossip at once.
	Ring uint64 `msgpack:"r,omitempty"`
}

// ReplicaPutAck answers ReplicaPut: stored, or Err. A vnode refuses a
// merge whose sibling set would outgrow what one message may carry (every
// replica must be able to send what it holds); the versions stay on the
// replicas that have them until a write with a read's context resolves
// the siblings.
type ReplicaPutAck struct {
	ReqID uint64 `msgpack:"i"`
	Node  string `msgpack:"n"`
	Err   string `msgpack:"e"`
}

// ReplicaGet is sent by a coordinator to a replica's vnode, which answers
// ReplicaGetReply with every version it holds for Key (none when absent).
// With Digest it answers the hash of them instead (ReplicaGetReply.Digest):
// the coordinator reads the versions from its own replica and compares.
type ReplicaGet struct {
	ReqID     uint64 `msgpack:"i"`
	Partition uint32 `msgpack:"p"`
	Key       []byte `msgpack:"k"`
	Ring      uint64 `msgpack:"r,omitempty"` // as ReplicaPut's
	Digest    bool   `msgpack:"d,omitempty"`
}

// ReplicaGetReply answers ReplicaGet.
type ReplicaGetReply struct {
	ReqID    uint64           `msgpack:"i"`
	Node     string           `msgpack:"n"`
	Versions version.Siblings `msgpack:"v"`
	Err      string           `msgpack:"e"`
	// Partial says the vnode is new to its partition and still being
	// filled (see PartitionFilled): its answer does not count towards R.
	Partial bool `msgpack:"f,omitempty"`
	// Hash is the key's item hash in the vnode's Merkle tree (0: none
	// held), the same on every replica holding the same versions.
	Hash uint64 `msgpack:"h,omitempty"`
	// Digest says Versions were left out, as ReplicaGet.Digest asked:
	// Hash alone stands for them.
	Digest bool `msgpack:"g,omitempty"`
}

// ReplicaReap is sent by a coordinator to every replica's vnode after a
// read found all of them holding the same set, made of tombstones only,
// every one older than the node's tombstone grace: delete the key, but
// only if what the vnode holds is still exactly those tombstones (Dots),
// so that a write arriving meanwhile is never dropped. Nothing answers
// it; a replica that keeps the key is reaped by a later read.
type ReplicaReap struct {
	Partition uint32        `msgpack:"p"`
	Key       []byte        `msgpack:"k"`
	Dots      []version.Dot `msgpack:"d"`
}

// HintPut is sent by a coordinator to the hint buffer of a stand-in: keep
// Versions, merged with what it holds, as a hint for the key's home node
// Home, and hand them to Home's vnode once Home is up again. The buffer
// answers ReplicaPutAck when ReqID is not zero; a buffer over its bounds
// answers with Err, and the write counts one acknowledgement less.
type HintPut struct {
	ReqID     uint64           `msgpack:"i"`
	Home      string           `msgpack:"o"`
	Partition uint32           `msgpack:"p"`
	Key       []byte           `msgpack:"k"`
	Versions  version.Siblings `msgpack:"v"`
}

// HintGet is sent by a coordinator to the hint buffer of a stand-in among
// a read's targets; it answers ReplicaGetReply with what it holds for the
// key as a hint for Home (none when nothing), so a client reads its own
// write across the failure of the key's home nodes.
type HintGet struct {
	ReqID     uint64 `msgpack:"i"`
	Home      string `msgpack:"o"`
	Partition uint32 `msgpack:"p"`
	Key       []byte `msgpack:"k"`
}

// PutTake is sent by the coordinator that received a forwarded ClientPut
// to a coordinator of the write's origin, before coordinating it: may I?
// The origin answers PutGo to the first that asks and PutAbort to any
// other, or to a write it no longer tracks.
type PutTake struct {
	ID   uint64 `msgpack:"id"`
	Node string `msgpack:"n"` // the asker's member ID
	Addr string `msgpack:"a"` // the asker's peer address
}

// PutGo answers PutTake: coordinate the write.
type PutGo struct {
	ID uint64 `msgpack:"id"`
}

// PutAbort answers PutTake: another target took the write, or the origin
// gave up on it; drop it, and answer nobody (the origin answered).
type PutAbort struct {
	ID uint64 `msgpack:"id"`
}
