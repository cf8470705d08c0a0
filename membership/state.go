// Package membership is the cluster's member set as versioned state,
// changed only by operators (join, leave, remove) and spread by gossip,
// as Dynamo does (§4.8.1): every node holds a copy, merges the copies it
// is sent, and computes the same ring from it. Temporary failures never
// change it.
//
// The state is a record per member: when it joined and, once it has, when
// it left (leave: it hands its partitions over; remove: it is gone for
// good). Versions count changes; two changes accepted concurrently on two
// nodes get the same version and are ordered by member ID, so every node
// that has seen both replays the same history and builds the same ring.
// Merging takes, per member, its earliest join and its latest leave: a
// leave, once anywhere, wins.
//
// It is pure: no I/O, no clock.
package membership

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dynamokv/dynamo/cluster"
)

// Errors, wrapped with the particulars.
var (
	ErrMismatch = errors.New("not the same cluster")
	ErrInvalid  = errors.New("membership: invalid change")
)

// Record is one member as the membership knows it.
type Record struct {
	ID   string `msgpack:"i"`
	Addr string `msgpack:"a"` // peer transport address
	HTTP string `msgpack:"h"` // HTTP API address, "" until known
	// Joined is the version at which it joined; Left the version at which
	// it left or was removed, 0 while it is a member.
	Joined  uint64 `msgpack:"j"`
	Left    uint64 `msgpack:"l"`
	Removed bool   `msgpack:"r"` // removed rather than left: it handed nothing over
}

// Member reports whether the record is of a current member.
func (r Record) Member() bool { return r.Left == 0 }

// State is the cluster's membership. Values are immutable by convention:
// every method returns a new State.
type State struct {
	Cluster    string   `msgpack:"c"`
	Partitions int      `msgpack:"q"`
	Replicas   int      `msgpack:"n"`
	Version    uint64   `msgpack:"v"`
	Records    []Record `msgpack:"m"` // sorted by ID
}

// Bootstrap returns the state of a cluster started with a static member
// list: each member joined in list order, at versions 1, 2, ...
func Bootstrap(name string, q, n int, members []cluster.Member) (State, error) {
	s := State{Cluster: name, Partitions: q, Replicas: n}
	for _, m := range members {
		var err error
		if s, err = s.Join(m.ID, m.Addr, ""); err != nil {
			return State{}, err
		}
	}
	return s, nil
}

// Join adds a member at the next version.
func (s State) Join(id, addr, http string) (State, error) {
	switch {
	case id == "" || addr == "":
		return State{}, fmt.Errorf("%w: a member needs an ID and an address", ErrInvalid)
	case strings.ContainsAny(id, "=, ") || strings.ContainsAny(addr, "=, "):
		return State{}, fmt.Errorf("%w: ID %q or address %q holds '=', ',' or a space", ErrInvalid, id, addr)
	}
	for _, r := range s.Records {
		switch {
		case r.ID == id && r.Member():
			return State{}, fmt.Errorf("%w: %s is a member already", ErrInvalid, id)
		case r.ID == id:
			return State{}, fmt.Errorf("%w: %s left at version %d; a node joins again under a new ID", ErrInvalid, id, r.Left)
		case r.Addr == addr && r.Member():
			return State{}, fmt.Errorf("%w: %s already listens at %s", ErrInvalid, r.ID, addr)
		}
	}
	out := s.clone()
	out.Version++
	out.Records = append(out.Records, Record{ID: id, Addr: addr, HTTP: http, Joined: out.Version})
	out.sort()
	if _, err := out.Ring(); err != nil {
		return State{}, err
	}
	return out, nil
}

// Leave marks a member as gone at the next version: it hands its
// partitions over (leave), or is gone for good (removed). The last member
// cannot leave.
func (s State) Leave(id string, removed bool) (State, error) {
	i := slices.IndexFunc(s.Records, func(r Record) bool { return r.ID == id })
	switch {
	case i < 0:
		return State{}, fmt.Errorf("%w: %s is not a member", ErrInvalid, id)
	case !s.Records[i].Member():
		return State{}, fmt.Errorf("%w: %s left already, at version %d", ErrInvalid, id, s.Records[i].Left)
	case len(s.Members()) == 1:
		return State{}, fmt.Errorf("%w: %s is the last member", ErrInvalid, id)
	case !removed && len(s.Members())-1 < s.Replicas:
		// A node that is gone can still be removed; one that would hand
		// its partitions over would leave them short of replicas.
		return State{}, fmt.Errorf("%w: with %s gone %d members would hold N=%d replicas of each key: join a node first",
			ErrInvalid, id, len(s.Members())-1, s.Replicas)
	}
	out := s.clone()
	out.Version++
	out.Records[i].Left, out.Records[i].Removed = out.Version, removed
	return out, nil
}

// SetHTTP records a member's HTTP address, which nodes learn as they go:
// it changes no version.
func (s State) SetHTTP(id, http string) State {
	out := s.clone()
	for i := range out.Records {
		if out.Records[i].ID == id {
			out.Records[i].HTTP = http
		}
	}
	return out
}

// Merge combines two copies of a cluster's membership: every member of
// either, with its earliest join and its latest leave. It fails for copies
// of different clusters, which must not be mixed.
func Merge(a, b State) (State, error) {
	if err := Compatible(a, b); err != nil {
		return State{}, err
	}
	out := a.clone()
	out.Version = max(a.Version, b.Version)
	for _, r := range b.Records {
		i := slices.IndexFunc(out.Records, func(x Record) bool { return x.ID == r.ID })
		if i < 0 {
			out.Records = append(out.Records, r)
			continue
		}
		cur := &out.Records[i]
		if r.Joined < cur.Joined || (r.Joined == cur.Joined && r.Addr > cur.Addr) {
			cur.Joined, cur.Addr = r.Joined, r.Addr
		}
		if r.Left > cur.Left {
			cur.Left, cur.Removed = r.Left, r.Removed
		} else if r.Left == cur.Left && r.Removed {
			cur.Removed = true
		}
		if r.HTTP > cur.HTTP {
			cur.HTTP = r.HTTP
		}
	}
	out.sort()
	return out, nil
}

// Compatible says why two copies cannot be merged: another cluster name,
// Q or N.
func Compatible(a, b State) error {
	switch {
	case a.Cluster != b.Cluster:
		return fmt.Errorf("cluster name %q, this node has %q: %w", b.Cluster, a.Cluster, ErrMismatch)
	case a.Partitions != b.Partitions:
		return fmt.Errorf("partitions Q=%d, this node has Q=%d: %w", b.Partitions, a.Partitions, ErrMismatch)
	case a.Replicas != b.Replicas:
		return fmt.Errorf("replicas N=%d, this node has N=%d: %w", b.Replicas, a.Replicas, ErrMismatch)
	}
	return nil
}

// Equal reports whether two states hold the same records and version.
func (s State) Equal(o State) bool {
	return s.Cluster == o.Cluster && s.Partitions == o.Partitions && s.Replicas == o.Replicas &&
		s.Version == o.Version && slices.Equal(s.Records, o.Records)
}

// Members returns the current members, in the order they joined.
func (s State) Members() []Record {
	var out []Record
	for _, r := range s.Records {
		if r.Member() {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Record) int {
		return cmp.Or(cmp.Compare(a.Joined, b.Joined), strings.Compare(a.ID, b.ID))
	})
	return out
}

// Record returns the record of id.
func (s State) Record(id string) (Record, bool) {
	i := slices.IndexFunc(s.Records, func(r Record) bool { return r.ID == id })
	if i < 0 {
		return Record{}, false
	}
	return s.Records[i], true
}

// Events returns the history the ring is replayed from: every join and
// leave by version, member ID breaking ties.
func (s State) Events() []cluster.Event {
	type ev struct {
		v     uint64
		leave bool
		m     cluster.Member
	}
	var evs []ev
	for _, r := range s.Records {
		m := cluster.Member{ID: r.ID, Addr: r.Addr}
		evs = append(evs, ev{v: r.Joined, m: m})
		if !r.Member() {
			evs = append(evs, ev{v: r.Left, leave: true, m: m})
		}
	}
	slices.SortFunc(evs, func(a, b ev) int {
		return cmp.Or(cmp.Compare(a.v, b.v), strings.Compare(a.m.ID, b.m.ID))
	})
	out := make([]cluster.Event, len(evs))
	for i, e := range evs {
		out[i] = cluster.Event{Member: e.m, Leave: e.leave}
	}
	return out
}

// Ring builds the ring of the state.
func (s State) Ring() (*cluster.Ring, error) {
	r, err := cluster.Replay(s.Partitions, s.Replicas, s.Events())
	if err != nil {
		return nil, fmt.Errorf("membership version %d: %w", s.Version, err)
	}
	return r, nil
}

func (s State) clone() State {
	out := s
	out.Records = slices.Clone(s.Records)
	return out
}

func (s *State) sort() {
	slices.SortFunc(s.Records, func(a, b Record) int { return strings.Compare(a.ID, b.ID) })
}
