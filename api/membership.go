package api

// Membership changes, on any member:
//
//	POST /admin/leave?node=ID   ID hands its partitions over, then holds none
//	POST /admin/remove?node=ID  ID is gone for good; its replicas are rebuilt
//	                            from the others (refused while ID is up)
//
// Both answer Membership, the state after the change, once the node that
// took it has persisted it; gossip spreads it to the others within
// seconds. 400 says why the change is refused (not a member, the last
// member, a node that is up for remove) and nothing changed.
const (
	LeavePath  = "/admin/leave"
	RemovePath = "/admin/remove"
)

// RingHeader, on every key answer, is the membership version of the ring
// the answering node routed by: a client holding an older one refreshes.
const RingHeader = "X-Dynamo-Ring"

// Membership is the cluster's membership as one node holds it: versioned,
// changed only by join, leave and remove.
type Membership struct {
	Version uint64         `json:"version"`
	Records []MemberRecord `json:"records"` // sorted by ID; members and those that left
}

// MemberRecord is one node of the membership.
type MemberRecord struct {
	ID     string `json:"id"`
	Addr   string `json:"addr"`
	HTTP   string `json:"http,omitempty"`
	Joined uint64 `json:"joined"`         // the version at which it joined
	Left   uint64 `json:"left,omitempty"` // the version at which it left or was removed; 0: a member
	// Removed: it was removed rather than left, handing nothing over.
	Removed bool `json:"removed,omitempty"`
}

// Handoff is one partition on its way from this node to its new owners:
// rounds compare it with each of them and send what they lack, until a
// round sends nothing; the node then stops taking its writes, checks once
// more and drops it.
type Handoff struct {
	Partition int     `json:"partition"`
	Since     string  `json:"since"` // RFC 3339
	For       float64 `json:"for_seconds"`
	Rounds    int     `json:"rounds"`
	Keys      int     `json:"keys_sent"`
	Total     int     `json:"keys_held"` // when it began
	Retired   bool    `json:"writes_refused"`
	Err       string  `json:"error,omitempty"`
}
