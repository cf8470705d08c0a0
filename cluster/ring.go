// Package cluster implements the partition ring of a Dynamo-style store,
// following Dynamo's partitioning strategy 3: the 64-bit hash space is cut
// into Q fixed, equal partitions and each partition is owned by one member.
//
// A Ring is a pure function of (Q, N, ordered member list). It keeps no
// hidden state, so every node that is given the same inputs builds the same
// ring, and Fingerprint lets nodes cheaply check that they agree. The order
// of the member list matters: ownership is decided by replaying the members'
// claims in list order (join order, or the order the operator lists them in
// a static configuration). Each member takes its fair share from the
// most-loaded members that came before it, leaving every member with
// floor(Q/S) or ceil(Q/S) partitions, and spreads what it takes around the
// ring so preference lists stay short walks. Appending a member to the end
// of the list therefore moves only the floor(Q/(S+1)) partitions it claims
// (S being the size before the append), the minimum needed to stay
// balanced. Reordering or removing members from the middle of the list may
// move many more, which is why the order must be kept stable.
//
// The preference list of a partition is found by walking the ring clockwise
// from it and collecting distinct owners until N members are found.
package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cespare/xxhash/v2"
)

const (
	// DefaultPartitions is the default number of partitions Q.
	DefaultPartitions = 64
	// DefaultReplicas is the default replication factor N.
	DefaultReplicas = 3
	// MaxPartitions bounds Q so that per-partition tables stay small.
	MaxPartitions = 1 << 16
)

// ringVersion is mixed into fingerprints so that nodes running different
// assignment algorithms never believe they agree.
const ringVersion = 2

// Errors returned by NewRing, wrapped with the offending value.
var (
	ErrInvalidPartitions = errors.New("invalid partition count")
	ErrInvalidReplicas   = errors.New("invalid replica count")
	ErrInvalidMembers    = errors.New("invalid member list")
)

// Member is one node of the cluster.
type Member struct {
	// ID uniquely and permanently names the member.
	ID string `msgpack:"id" json:"id"`
	// Addr is the member's peer transport address, "host:port".
	Addr string `msgpack:"addr" json:"addr"`
}

// Ring maps keys to partitions and partitions to preference lists. It is
// immutable and safe for concurrent use.
type Ring struct {
	q       int
	n       int
	bits    int
	members []Member
	index   map[string]int // member ID -> position in members

	owner []int32 // primary owner index per partition
	width int     // length of every preference list: min(n, len(members))
	// The walk of partition p is its preference list followed by the next
	// distinct members met walking the ring on, up to min(2n, members):
	// the stand-ins of a sloppy quorum.
	walkWidth int
	walk      []int32 // q*walkWidth member indexes, walk of p at p*walkWidth
	ids       []string
	fp        uint64
}

// Event is one change of the membership, in the order the membership
// records them: a member joins, or leaves (gracefully or removed).
type Event struct {
	Member Member
	Leave  bool
}

// NewRing builds the ring for q partitions, n replicas and the ordered
// member list: the ring of their joins in that order. q must be a power of
// two in [1, MaxPartitions] and n at least 1; member IDs and addresses must
// be non-empty and unique. The members slice is copied.
func NewRing(q, n int, members []Member) (*Ring, error) {
	events := make([]Event, len(members))
	for i, m := range members {
		events[i] = Event{Member: m}
	}
	return Replay(q, n, events)
}

// Replay builds the ring of a membership's history: q partitions, n
// replicas, and its events in order. A member joins once; a member that
// left does not come back (it joins again under a new ID). At least one
// member must remain.
func Replay(q, n int, events []Event) (*Ring, error) {
	if q < 1 || q > MaxPartitions {
		return nil, fmt.Errorf("ring: partitions %d out of range [1, %d]: %w", q, MaxPartitions, ErrInvalidPartitions)
	}
	if q&(q-1) != 0 {
		return nil, fmt.Errorf("ring: partitions %d is not a power of two: %w", q, ErrInvalidPartitions)
	}
	if n < 1 {
		return nil, fmt.Errorf("ring: replicas %d is less than 1: %w", n, ErrInvalidReplicas)
	}
	joined := map[string]bool{}
	present := map[string]Member{}
	addrs := map[string]string{}
	var members []Member // present members, in join order
	slots := 0
	for i, ev := range events {
		m := ev.Member
		if ev.Leave {
			if _, ok := present[m.ID]; !ok {
				return nil, fmt.Errorf("ring: event %d: %q leaves but is not a member: %w", i, m.ID, ErrInvalidMembers)
			}
			delete(addrs, present[m.ID].Addr)
			delete(present, m.ID)
			continue
		}
		switch {
		case m.ID == "":
			return nil, fmt.Errorf("ring: member %d has an empty ID: %w", i, ErrInvalidMembers)
		case m.Addr == "":
			return nil, fmt.Errorf("ring: member %q has an empty address: %w", m.ID, ErrInvalidMembers)
		case joined[m.ID] && present[m.ID] == (Member{}):
			return nil, fmt.Errorf("ring: member %q joins again after leaving; give it a new ID: %w", m.ID, ErrInvalidMembers)
		case joined[m.ID]:
			return nil, fmt.Errorf("ring: duplicate member ID %q: %w", m.ID, ErrInvalidMembers)
		}
		if other, dup := addrs[m.Addr]; dup {
			return nil, fmt.Errorf("ring: members %q and %q share address %q: %w", other, m.ID, m.Addr, ErrInvalidMembers)
		}
		joined[m.ID] = true
		present[m.ID] = m
		addrs[m.Addr] = m.ID
		slots++
	}
	if len(present) == 0 {
		return nil, fmt.Errorf("ring: no members: %w", ErrInvalidMembers)
	}
	// Slots are joins in order; members keep the present ones, in order.
	slotMember := make([]int32, 0, slots)
	index := make(map[string]int, len(present))
	for _, ev := range events {
		if ev.Leave {
			continue
		}
		if _, ok := present[ev.Member.ID]; ok {
			slotMember = append(slotMember, int32(len(members)))
			index[ev.Member.ID] = len(members)
			members = append(members, ev.Member)
		} else {
			slotMember = append(slotMember, -1)
		}
	}
	r := &Ring{
		q:       q,
		n:       n,
		bits:    log2(q),
		members: members,
		index:   index,
		width:   min(n, len(members)),
	}
	r.walkWidth = min(2*n, len(members))
	r.owner = assign(q, events, slots)
	for p, s := range r.owner {
		r.owner[p] = slotMember[s]
	}
	r.buildPreferences()
	r.fp = fingerprint(q, n, events)
	return r, nil
}

// buildPreferences precomputes every walk, preference lists included, so
// lookups never allocate; q*2n entries is small.
func (r *Ring) buildPreferences() {
	s := len(r.members)
	r.walk = make([]int32, 0, r.q*r.walkWidth)
	seen := make([]int, s) // partition+1 that last collected each member
	for p := 0; p < r.q; p++ {
		stamp := p + 1
		got := 0
		for i := 0; i < r.q && got < r.walkWidth; i++ {
			o := r.owner[(p+i)&(r.q-1)]
			if seen[o] != stamp {
				seen[o] = stamp
				r.walk = append(r.walk, o)
				got++
			}
		}
		// With more members than partitions some own nothing; they still
		// count toward N, taken in list order, so every list is full.
		for m := 0; m < s && got < r.walkWidth; m++ {
			if seen[m] != stamp {
				seen[m] = stamp
				r.walk = append(r.walk, int32(m))
				got++
			}
		}
	}
	r.ids = make([]string, len(r.walk))
	for i, m := range r.walk {
		r.ids[i] = r.members[m].ID
	}
}

// fingerprint hashes everything the ring is a function of, in order.
func fingerprint(q, n int, events []Event) uint64 {
	d := xxhash.New()
	var buf [8]byte
	put := func(v int) {
		binary.LittleEndian.PutUint64(buf[:], uint64(v))
		d.Write(buf[:])
	}
	put(ringVersion)
	put(q)
	put(n)
	put(len(events))
	for _, ev := range events {
		m := ev.Member
		if ev.Leave {
			put(-1)
		}
		// Length prefixes keep ("ab","c") distinct from ("a","bc").
		put(len(m.ID))
		d.WriteString(m.ID)
		put(len(m.Addr))
		d.WriteString(m.Addr)
	}
	return d.Sum64()
}

// Partitions returns Q, the number of partitions.
func (r *Ring) Partitions() int { return r.q }

// Replicas returns N, the configured replication factor. Preference lists
// are shorter when the ring has fewer than N members.
func (r *Ring) Replicas() int { return r.n }

// Members returns a copy of the ordered member list.
func (r *Ring) Members() []Member { return append([]Member(nil), r.members...) }

// Member returns the member with the given ID.
func (r *Ring) Member(id string) (Member, bool) {
	i, ok := r.index[id]
	if !ok {
		return Member{}, false
	}
	return r.members[i], true
}

// PartitionOf returns the partition of key: the top log2(Q) bits of its
// 64-bit xxhash, so partitions are equal, contiguous slices of hash space.
func (r *Ring) PartitionOf(key []byte) int {
	if r.bits == 0 {
		return 0
	}
	return int(xxhash.Sum64(key) >> (64 - r.bits))
}

// Owner returns the ID of the primary owner of partition p. It panics if p
// is not in [0, Partitions()).
func (r *Ring) Owner(p int) string {
	r.check(p)
	return r.members[r.owner[p]].ID
}

// PreferenceList returns the IDs of the min(N, members) members responsible
// for partition p, primary first. The slice is shared with the ring and
// must not be modified; its capacity is clipped so appending to it copies.
// It panics if p is not in [0, Partitions()).
func (r *Ring) PreferenceList(p int) []string {
	r.check(p)
	lo := p * r.walkWidth
	return r.ids[lo : lo+r.width : lo+r.width]
}

// Walk returns partition p's preference list followed by the next distinct
// members met walking the ring on, min(2N, members) in all: in a sloppy
// quorum, the first N of them that are up take the writes, those past the
// preference list standing in for the members of it that are down. The
// slice is shared as PreferenceList's is. It panics if p is not in
// [0, Partitions()).
func (r *Ring) Walk(p int) []string {
	r.check(p)
	lo, hi := p*r.walkWidth, (p+1)*r.walkWidth
	return r.ids[lo:hi:hi]
}

// KeyPreferenceList returns the preference list of the partition of key,
// with the same sharing rules as PreferenceList.
func (r *Ring) KeyPreferenceList(key []byte) []string {
	return r.PreferenceList(r.PartitionOf(key))
}

// InPreferenceList reports whether member id is in the preference list of
// partition p. It returns false for unknown members or out-of-range p.
func (r *Ring) InPreferenceList(p int, id string) bool {
	m, ok := r.index[id]
	if !ok || p < 0 || p >= r.q {
		return false
	}
	for _, o := range r.walk[p*r.walkWidth : p*r.walkWidth+r.width] {
		if int(o) == m {
			return true
		}
	}
	return false
}

// PartitionsOf returns, in ascending order, the partitions whose preference
// list contains member id: the partitions it stores a replica of. It
// returns nil for unknown members.
func (r *Ring) PartitionsOf(id string) []int {
	if _, ok := r.index[id]; !ok {
		return nil
	}
	var ps []int
	for p := 0; p < r.q; p++ {
		if r.InPreferenceList(p, id) {
			ps = append(ps, p)
		}
	}
	return ps
}

// Ownership returns how many partitions each member owns as primary. Every
// member is present, with zero if it owns none.
func (r *Ring) Ownership() map[string]int {
	out := make(map[string]int, len(r.members))
	for _, m := range r.members {
		out[m.ID] = 0
	}
	for _, o := range r.owner {
		out[r.members[o].ID]++
	}
	return out
}

// Equal reports whether r and other were built from the same Q, N and
// ordered member list, and therefore assign every partition identically.
// Two nil rings are equal.
func (r *Ring) Equal(other *Ring) bool {
	if r == nil || other == nil {
		return r == other
	}
	if r.q != other.q || r.n != other.n || r.fp != other.fp || len(r.members) != len(other.members) {
		return false
	}
	for i := range r.members {
		if r.members[i] != other.members[i] {
			return false
		}
	}
	return true
}

// Fingerprint returns a hash of Q, N and the ordered member list (IDs and
// addresses), so nodes can cheaply check that they built the same ring.
func (r *Ring) Fingerprint() uint64 { return r.fp }

func (r *Ring) check(p int) {
	if p < 0 || p >= r.q {
		panic(fmt.Sprintf("ring: partition %d out of range [0, %d)", p, r.q))
	}
}
