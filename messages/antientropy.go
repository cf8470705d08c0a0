package messages

import "github.com/dynamokv/dynamo/version"

// The anti-entropy protocol (Dynamo §4.7). A node's syncer compares one of
// its partitions with another replica of it by asking both vnodes, its
// own and the peer's, for their Merkle trees level by level, then for the
// keys of the segments that differ, then for the sets of the keys that
// differ; it merges each pair and sends the result to whichever side
// lacked it. The vnodes answer; only the syncer keeps state. Every reply
// is bounded (a level's hashes, a window of scanned keys, a chunk of sets).

// TreeRequest is sent by a syncer to a vnode: the hashes of the children
// of Nodes, nodes of level Level of the partition's tree (Level 0 and no
// Nodes: the root alone). The vnode answers TreeReply.
type TreeRequest struct {
	ReqID     uint64   `msgpack:"i"`
	Partition uint32   `msgpack:"p"`
	Level     int      `msgpack:"l"`
	Nodes     []uint32 `msgpack:"n"`
}

// TreeReply answers TreeRequest: the children's hashes, Fanout per node,
// in order, folded to 32 bits (merkle.Fold), which halves what travels at
// a 2^-32 chance per node of missing a difference until the next write
// there; Fanout and Depth give the tree's shape, so two replicas whose
// trees differ in shape say so instead of comparing nonsense.
type TreeReply struct {
	ReqID     uint64   `msgpack:"i"`
	Node      string   `msgpack:"o"`
	Partition uint32   `msgpack:"p"`
	Hashes    []uint32 `msgpack:"h"`
	Fanout    int      `msgpack:"f"`
	Depth     int      `msgpack:"d"`
	Err       string   `msgpack:"e"`
	Partial   bool     `msgpack:"a,omitempty"` // as ReplicaGetReply's: the vnode is still being filled
}

// SegmentRequest is sent by a syncer to a vnode: the keys of Segments and
// their item hashes. The vnode scans its partition after After for at
// most Limit entries and answers SegmentReply; the syncer asks again from
// Next until Next is empty.
type SegmentRequest struct {
	ReqID     uint64   `msgpack:"i"`
	Partition uint32   `msgpack:"p"`
	Segments  []uint32 `msgpack:"s"`
	After     []byte   `msgpack:"a"`
	Limit     int      `msgpack:"l"`
}

// SegmentReply answers SegmentRequest.
type SegmentReply struct {
	ReqID     uint64   `msgpack:"i"`
	Node      string   `msgpack:"o"`
	Partition uint32   `msgpack:"p"`
	Keys      [][]byte `msgpack:"k"`
	Hashes    []uint64 `msgpack:"h"`
	Next      []byte   `msgpack:"n"` // empty: the scan is done
	Err       string   `msgpack:"e"`
}

// SyncGet is sent by a syncer to a vnode: the sets of Keys. The vnode
// answers SyncSets, a set per key (none when absent).
type SyncGet struct {
	ReqID     uint64   `msgpack:"i"`
	Partition uint32   `msgpack:"p"`
	Keys      [][]byte `msgpack:"k"`
}

// SyncSets answers SyncGet.
type SyncSets struct {
	ReqID     uint64             `msgpack:"i"`
	Node      string             `msgpack:"o"`
	Partition uint32             `msgpack:"p"`
	Sets      []version.Siblings `msgpack:"s"`
	Err       string             `msgpack:"e"`
}

// SyncPut is sent by a syncer to a vnode: merge Sets[i] into Keys[i], as
// a replica write does (siblings kept, the obsolete dropped). The vnode
// answers SyncPutAck.
type SyncPut struct {
	ReqID     uint64             `msgpack:"i"`
	Partition uint32             `msgpack:"p"`
	Keys      [][]byte           `msgpack:"k"`
	Sets      []version.Siblings `msgpack:"s"`
}

// SyncPutAck answers SyncPut; Err names the first key that could not be
// merged (the others were).
type SyncPutAck struct {
	ReqID uint64 `msgpack:"i"`
	Node  string `msgpack:"o"`
	Err   string `msgpack:"e"`
}

// TombstoneScan is sent by a node's syncer to its own vnode: scan at most
// Limit entries after After and list the keys whose sets hold tombstones
// only, each stamped before Before (unix nanoseconds). The vnode answers
// TombstoneKeys, with where to go on next time; the syncer reads each key
// at R=N, which collects it where every home node holds the same
// tombstones (ReplicaReap).
type TombstoneScan struct {
	ReqID     uint64 `msgpack:"i"`
	Partition uint32 `msgpack:"p"`
	Before    int64  `msgpack:"b"`
	After     []byte `msgpack:"a"`
	Limit     int    `msgpack:"l"`
}

// TombstoneKeys answers TombstoneScan.
type TombstoneKeys struct {
	ReqID uint64   `msgpack:"i"`
	Keys  [][]byte `msgpack:"k"`
	Next  []byte   `msgpack:"n"`
}
