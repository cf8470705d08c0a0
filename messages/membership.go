package messages

import "github.com/dynamokv/dynamo/membership"

// The membership protocol. Every node's membership actor holds the
// cluster's member set as versioned state (package membership) and, every
// half second, sends Gossip to the membership actor of a random member it
// does not suspect; the receiver merges what it got and answers with its
// own state when the sender lacked something (push-pull). Changes come
// only from operators: a new node asks any member to be let in (JoinRequest,
// sent by `dynamo node --join`), and `dynamo leave` and `dynamo remove`
// send LeaveRequest to any member. The node that accepts a change persists
// it and gossips it on.

// Gossip is sent by a membership actor to another's, and sent back as the
// answer (Reply set) when the receiver held something the sender did not.
// A receiver whose state cannot be merged (another cluster name, Q or N)
// reports the sender and serves no data with it.
type Gossip struct {
	Node         string           `msgpack:"n"`
	State        membership.State `msgpack:"s"`
	Coordinators int              `msgpack:"k"` // every node must run the same number (see CoordinatorFor)
	HTTP         string           `msgpack:"h"` // the sender's HTTP API address
	Reply        bool             `msgpack:"y"`
}

// JoinRequest is sent by a node starting with --join to a member's
// membership actor: let me in. The member checks the cluster name, Q, N
// and the coordinator count, adds the node at the next version, persists
// the change and answers JoinReply with the state (or Err, and changes
// nothing).
type JoinRequest struct {
	ID           string `msgpack:"i"`
	Addr         string `msgpack:"a"`
	HTTP         string `msgpack:"h"`
	Cluster      string `msgpack:"c"`
	Partitions   int    `msgpack:"q"`
	Replicas     int    `msgpack:"n"`
	Coordinators int    `msgpack:"k"`
}

// JoinReply answers JoinRequest.
type JoinReply struct {
	State membership.State `msgpack:"s"`
	Err   string           `msgpack:"e"`
}

// LeaveRequest is sent to a member's membership actor: member ID leaves
// (it hands its partitions over first), or, with Remove, is gone for good
// (the other replicas give its partitions to their new owners). The
// member answers LeaveReply.
type LeaveRequest struct {
	ID     string `msgpack:"i"`
	Remove bool   `msgpack:"r"`
}

// LeaveReply answers LeaveRequest.
type LeaveReply struct {
	State membership.State `msgpack:"s"`
	Err   string           `msgpack:"e"`
}

// PartitionFilled is sent by a node that handed a partition over (its last
// round found every new home node holding all it held, with its writes
// refused) to the vnode of that partition on each home node. A vnode new
// to its partition answers reads as Partial until it gets this, or until
// its own syncer has pulled the partition from every other home node that
// is not partial itself: only then does its answer count towards R. Not
// answered.
type PartitionFilled struct {
	Partition uint32 `msgpack:"p"`
	Node      string `msgpack:"n"` // the node that handed it over
}
