// Package api holds the HTTP API's wire types and names, shared by the
// node's HTTP server and the Go client, so that neither imports the other.
//
// The API, on every node:
//
//	PUT    /kv/{key}   body = value; header X-Dynamo-Context (optional); ?w=W
//	                   200, reply header X-Dynamo-Context = a context covering what
//	                   the writer read and wrote (never versions it did not see)
//	GET    /kv/{key}   ?r=R
//	                   200: one value, the body; its context in X-Dynamo-Context
//	                   300: concurrent siblings, JSON Siblings
//	                   (Accept: application/json always gives the JSON form)
//	                   404: no value
//	DELETE /kv/{key}   header X-Dynamo-Context (required); ?w=W
//	GET    /status     JSON Status
//	GET    /admin/local/{key}  this node's own copy of the key, JSON LocalCopy
//
// Errors are JSON Error with status 400 (malformed key or context), 413
// (key or value over the limits), 503 (quorum not reached) or 504 (the
// node's coordinator did not answer in time). A failed PUT or DELETE whose
// write may have been stored all the same says so: header X-Dynamo-Outcome:
// unknown and Error.Outcome "unknown". Without it, nothing was stored.
package api

// ContextHeader carries a version context, opaque to clients.
const ContextHeader = "X-Dynamo-Context"

// KeyPrefix is the path prefix of keys; the rest of the path is the key,
// URL-unescaped.
const KeyPrefix = "/kv/"

// LocalPrefix is the path prefix of the admin read of one replica's own
// copy of a key: GET /admin/local/{key} answers LocalCopy, or 404 when the
// node holds no replica of the key's partition.
const LocalPrefix = "/admin/local/"

// LocalCopy is what one replica holds for a key.
type LocalCopy struct {
	Node      string         `json:"node"`
	Partition int            `json:"partition"`
	Versions  []LocalVersion `json:"versions"` // none: the replica holds nothing
	// Digest is equal on replicas holding the same versions; "" for none.
	Digest string `json:"digest"`
}

// LocalVersion is one stored version (values in base64 in JSON).
type LocalVersion struct {
	Dot     string `json:"dot"`
	Context string `json:"context"`
	Deleted bool   `json:"deleted,omitempty"`
	Value   []byte `json:"value,omitempty"`
}

// OutcomeHeader is set to OutcomeUnknown on the error reply of a write
// that may have been applied all the same: the coordinating replica
// stored it, or may have, and too few others acknowledged in time. The
// write may still reach every replica; read the key to find out.
const OutcomeHeader = "X-Dynamo-Outcome"

// OutcomeUnknown is the value of OutcomeHeader and Error.Outcome.
const OutcomeUnknown = "unknown"

// Error is the body of every error reply.
type Error struct {
	Error   string `json:"error"`
	Outcome string `json:"outcome,omitempty"` // OutcomeUnknown, or empty: nothing was stored
}

// Siblings is the JSON form of a read: every concurrent value, base64 in
// JSON, and one context that covers them all.
type Siblings struct {
	Context  string   `json:"context"`
	Siblings [][]byte `json:"siblings"`
}

// Status is a node's view of itself and the cluster.
type Status struct {
	Node         string      `json:"node"`
	Cluster      string      `json:"cluster"`
	Address      string      `json:"address"` // peer transport address
	HTTP         string      `json:"http"`
	Partitions   int         `json:"partitions"`
	Replicas     int         `json:"replicas"`
	ReadQuorum   int         `json:"read_quorum"`
	WriteQuorum  int         `json:"write_quorum"`
	Coordinators int         `json:"coordinators"`
	Members      []Member    `json:"members"`
	Ring         []Partition `json:"ring"`
	Vnodes       []uint32    `json:"vnodes"` // partitions this node runs a vnode for
	// Filling counts the vnodes new to their partition (after a membership
	// change) and not filled yet: their reads do not count towards R.
	Filling   int          `json:"filling"`
	Peers     []Peer       `json:"peers"`
	Problems  []string     `json:"problems,omitempty"`
	Transport TransportCnt `json:"transport"`
	Panics    uint64       `json:"actor_panics"`
	// DotNode names the versions this node coordinates: its ID and an
	// incarnation new at every start.
	DotNode string   `json:"dot_node"`
	Storage StoreCnt `json:"storage"`
	// Hints are the replicas this node keeps as a stand-in, per home node.
	Hints []HintQueue `json:"hints,omitempty"`
	// AntiEntropy is the last exchange of each partition this node holds.
	AntiEntropy []Exchange `json:"anti_entropy,omitempty"`
	// Membership is the node's copy of the membership, which the ring is
	// computed from; Members above are its current members.
	Membership Membership `json:"membership"`
	// Handoffs are the partitions this node no longer owns and is handing
	// over; Dropped counts those handed over since it started.
	Handoffs []Handoff `json:"handoffs,omitempty"`
	Dropped  uint64    `json:"partitions_dropped"`
	// Requests are the client requests this node's coordinators answered
	// over the last 10 to 20 seconds, by operation.
	Requests []RequestRate `json:"requests,omitempty"`
	// TreeBuilds counts Merkle trees this node's vnodes built from stored
	// keys since it started (at start, or after a write of unknown outcome);
	// a partition that moves here brings its tree, built as keys arrive.
	TreeBuilds uint64 `json:"tree_builds"`
}

// RootsPath answers GET /admin/roots: the Merkle root of every partition
// the node holds (Roots, hex, by partition), equal on replicas that agree.
const RootsPath = "/admin/roots"

// Roots answers GET /admin/roots.
type Roots struct {
	Node  string            `json:"node"`
	Roots map[uint32]string `json:"roots"`
}

// RepairPath runs anti-entropy now: POST /admin/repair (every partition
// the node holds) or ?partition=P; it answers Repair once every exchange
// with every other replica that is up has ended.
const RepairPath = "/admin/repair"

// Repair answers POST /admin/repair.
type Repair struct {
	Exchanges []Exchange `json:"exchanges"`
}

// Exchange is one anti-entropy comparison of a partition with a peer.
type Exchange struct {
	Partition     uint32  `json:"partition"`
	Peer          string  `json:"peer"`
	When          string  `json:"when"` // RFC 3339
	TookMs        float64 `json:"took_ms"`
	InSync        bool    `json:"in_sync"`
	Segments      int     `json:"segments_differing"`
	Keys          int     `json:"keys_differing"`
	RepairedHere  int     `json:"keys_repaired_here"`
	RepairedThere int     `json:"keys_repaired_there"`
	Messages      int     `json:"messages"`
	Bytes         int64   `json:"bytes"`
	Err           string  `json:"error,omitempty"`
}

// StoreCnt are counters of the node's vnodes.
type StoreCnt struct {
	// Quarantined counts stored sibling sets found corrupt and moved
	// aside; the keys are repaired from the other replicas.
	Quarantined uint64 `json:"quarantined_sets"`
	// RefusedTooLarge counts replica writes refused because the key's
	// merged siblings would outgrow one message.
	RefusedTooLarge uint64 `json:"refused_too_large"`
	// Reaped counts deleted keys removed once every replica held the
	// same tombstones for longer than the tombstone grace.
	Reaped uint64 `json:"reaped_tombstones"`
	// Keys and Bytes are what the partitions the node holds store (keys
	// and their sibling sets), as counted at CountedAt (RFC 3339): a count
	// scans the store, so it is redone at most every few seconds.
	Keys      int64  `json:"keys"`
	Bytes     int64  `json:"bytes"`
	CountedAt string `json:"counted_at"`
}

// Member is one cluster member as a node sees it.
type Member struct {
	ID     string `json:"id"`
	Addr   string `json:"addr"`
	HTTP   string `json:"http,omitempty"` // learnt from the member itself; "" until then
	Agreed bool   `json:"agreed"`         // it gossiped with this node, with a membership that merges with its own
	// Up is this node's failure detector's verdict: false while it
	// suspects the member (State "suspected", Why says why), and the
	// same verdict decides where requests go.
	Up    bool   `json:"up"`
	State string `json:"state"` // "up", "suspected", or "self"
	Why   string `json:"why,omitempty"`
	// Since is when the verdict last turned (RFC 3339), empty if never;
	// For is how long it has held, in seconds.
	Since     string  `json:"since,omitempty"`
	For       float64 `json:"for_seconds,omitempty"`
	LastHeard string  `json:"last_heard,omitempty"`
	// Suspicions counts the times this node's detector turned to suspect
	// the member since it started.
	Suspicions uint64 `json:"suspicions,omitempty"`
}

// HintQueue is what a node holds as a stand-in for one home node.
type HintQueue struct {
	Home     string `json:"home"`
	Held     int    `json:"held"`
	Bytes    int64  `json:"bytes"`
	Inflight int    `json:"inflight"`
	Replayed uint64 `json:"replayed"`
	Refused  uint64 `json:"refused"`
	Expired  uint64 `json:"expired"`
	Oldest   string `json:"oldest,omitempty"` // RFC 3339: when the oldest hint held was stored
}

// Partition is one partition's preference list, primary first.
type Partition struct {
	Partition      int      `json:"partition"`
	PreferenceList []string `json:"preference_list"`
}

// Peer is one outbound transport connection.
type Peer struct {
	Addr    string `json:"addr"`
	Up      bool   `json:"up"`
	Queued  int    `json:"queued_bytes"`
	Sent    uint64 `json:"sent"`
	Dropped uint64 `json:"dropped"`
}

// TransportCnt are the node transport's counters.
type TransportCnt struct {
	Sent             uint64 `json:"sent"`
	Received         uint64 `json:"received"`
	DroppedQueueFull uint64 `json:"dropped_queue_full"`
	DroppedPeerDown  uint64 `json:"dropped_peer_down"`
	RefusedTooLarge  uint64 `json:"refused_too_large"`
	BadFrames        uint64 `json:"bad_frames"`
}

// RequestRate is one operation's traffic through a node's coordinators.
type RequestRate struct {
	Op              string  `json:"op"` // get, put or delete
	PerSecond       float64 `json:"per_second"`
	FailedPerSecond float64 `json:"failed_per_second"` // answered 503, or outcome unknown
	P50Ms           float64 `json:"p50_ms"`
	P99Ms           float64 `json:"p99_ms"`
}
