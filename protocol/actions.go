package protocol

import "github.com/dynamokv/dynamo/version"

// Action is what a core asks its actor to do. Each is a plain value; the
// actor turns it into a message, a reply or the request's end.
type Action interface{ action() }

// WriteLocal asks this node to make and store the new version: its vnode
// when Home is "", otherwise its hint buffer, standing in for Home. The
// answer comes back as Put.Local.
type WriteLocal struct{ Home string }

// Replicate sends versions to a target: a home node's vnode, or a
// stand-in's hint buffer with a hint for Target.Home. NoAck: nobody waits
// for the answer any more (a write replicated after its client was told).
type Replicate struct {
	Target   Target
	Versions version.Siblings
	NoAck    bool
}

// Read asks a target for what it holds of the key: a home node's vnode, a
// stand-in's hint buffer. The answer comes back as Get.Answer or Get.Fail.
// Digest asks a home node's vnode for the hash of what it holds instead,
// which comes back as Get.Digest.
type Read struct {
	Target Target
	Digest bool
}

// Repair sends versions to a home node whose answer was stale; nobody
// waits for an answer.
type Repair struct {
	Node     string
	Versions version.Siblings
}

// Reap asks every node to delete the key if it still holds exactly these
// tombstones (see messages.ReplicaReap).
type Reap struct {
	Nodes []string
	Dots  []version.Dot
}

// PutReply answers the client of a write.
type PutReply struct {
	Status  int
	Err     string
	Context version.Clock
	Also    version.Dots
	Unknown bool // the write may have been stored despite the error
}

// GetReply answers the client of a read.
type GetReply struct {
	Status  int
	Err     string
	Values  [][]byte
	Context version.Clock
	Also    version.Dots
}

// Unanswered names the targets that had not answered when the request's
// timer fired: the failure detector hears of them.
type Unanswered struct{ Nodes []string }

// Finish ends the request: later answers to it are late.
type Finish struct{}

func (WriteLocal) action() {}
func (Replicate) action()  {}
func (Read) action()       {}
func (Repair) action()     {}
func (Reap) action()       {}
func (PutReply) action()   {}
func (GetReply) action()   {}
func (Unanswered) action() {}
func (Finish) action()     {}
