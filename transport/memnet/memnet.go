// Package memnet is an in-memory network of transports for engine-level
// tests: several hollywood engines in one process talk through it as they
// would through package transport, and a test injects faults (loss,
// duplication, delay, partitions, one-way cuts) between them.
//
// Every message is still encoded to a frame and decoded again on delivery,
// so a test fails on what the real transport would refuse: an unregistered
// type, a field msgpack cannot encode, a frame over the size limit.
//
// All random decisions (drop, duplicate, jitter) are drawn from one source
// seeded by New, in the order Send is called, so a test that sends in a
// fixed order sees the same faults on every run.
//
// Each directed pair of nodes has its own queue and delivery goroutine, so
// messages from one sender to one receiver arrive in the order they were
// sent unless the pair's rule has Jitter. The queues are unbounded: memnet
// never drops for lack of room, and a test that floods a slow receiver
// grows memory instead (DroppedQueueFull stays zero).
package memnet

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynamokv/dynamo/transport"
)

// DefaultMaxFrameSize bounds a frame, without its length prefix, unless
// SetMaxFrameSize says otherwise. It matches what a TCP peer would accept.
const DefaultMaxFrameSize = 4 << 20

// wildcard stands for any node in rules and cuts; "" means the same.
const wildcard = "*"

// Rule describes the faults of one direction of a link.
type Rule struct {
	Drop      float64       // probability that a message is lost
	Duplicate float64       // probability that a message is delivered twice
	Delay     time.Duration // every message is held at least this long
	Jitter    time.Duration // plus a random extra in [0, Jitter]; breaks FIFO
}

type pair struct{ from, to string }

// Network joins the transports it makes. Its methods are safe for
// concurrent use.
//
// Fault changes broadcast transport.PeerDown and transport.PeerUp on the
// engines of both sides. Change faults only once the engines involved have
// been built (NewEngine returned): an engine's event stream does not exist
// while its transport starts.
type Network struct {
	mu    sync.RWMutex
	rng   *rand.Rand
	nodes map[string]*Transport // started and not stopped, by address
	links map[pair]*link
	rules map[pair]Rule
	cuts  map[pair]bool  // directed; either side may be the wildcard
	group map[string]int // partition group by address; absent: no group
	max   atomic.Int64   // maximum frame size
}

// New returns an empty network whose random decisions all come from seed.
func New(seed int64) *Network {
	n := &Network{
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x6d656d6e6574)),
		nodes: map[string]*Transport{},
		links: map[pair]*link{},
		rules: map[pair]Rule{},
		cuts:  map[pair]bool{},
		group: map[string]int{},
	}
	n.max.Store(DefaultMaxFrameSize)
	return n
}

// Transport returns a transport for an engine at addr. It joins the network
// when the engine starts it and leaves when stopped; another transport may
// then take the same address, as a restarted node would. Faults are kept by
// address, so they outlive such a restart.
func (n *Network) Transport(addr string) *Transport {
	return &Transport{net: n, addr: addr}
}

// SetMaxFrameSize sets the largest frame, without its length prefix, that a
// transport will send. Larger ones are refused and counted.
func (n *Network) SetMaxFrameSize(size int) {
	n.max.Store(int64(size))
}

func norm(addr string) string {
	if addr == "" {
		return wildcard
	}
	return addr
}

// SetRule sets the faults of messages from → to; either may be "" or "*"
// for any node. An exact rule wins over one with a wildcard sender, which
// wins over one with a wildcard receiver, which wins over "*" → "*".
// Rules apply to messages sent afterwards; messages already queued keep
// the delay they were given.
func (n *Network) SetRule(from, to string, r Rule) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.rules[pair{norm(from), norm(to)}] = r
}

// ClearRules removes every rule; partitions and cuts stay.
func (n *Network) ClearRules() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.rules)
}

func (n *Network) ruleFor(from, to string) Rule {
	for _, p := range [...]pair{{from, to}, {wildcard, to}, {from, wildcard}, {wildcard, wildcard}} {
		if r, ok := n.rules[p]; ok {
			return r
		}
	}
	return Rule{}
}

// Partition splits the nodes into groups that cannot reach one another, in
// either direction. Nodes in no group still reach everyone. It replaces an
// earlier partition; cuts stay. A node named in two groups belongs to the
// last.
func (n *Network) Partition(groups ...[]string) {
	n.change("partitioned", func() {
		clear(n.group)
		for i, g := range groups {
			for _, addr := range g {
				n.group[addr] = i
			}
		}
	})
}

// Cut stops messages from → to, one way; either may be "" or "*".
func (n *Network) Cut(from, to string) {
	n.change("cut", func() { n.cuts[pair{norm(from), norm(to)}] = true })
}

// Isolate cuts addr from every node, both ways, including nodes that join
// later.
func (n *Network) Isolate(addr string) {
	n.change("isolated", func() {
		n.cuts[pair{addr, wildcard}] = true
		n.cuts[pair{wildcard, addr}] = true
	})
}

// Heal removes the partition and every cut. Rules stay.
func (n *Network) Heal() {
	n.change("healed", func() {
		clear(n.group)
		clear(n.cuts)
	})
}

// blocked reports whether from cannot reach to. The caller holds mu.
func (n *Network) blocked(from, to string) bool {
	if n.cuts[pair{from, to}] || n.cuts[pair{from, wildcard}] ||
		n.cuts[pair{wildcard, to}] || n.cuts[pair{wildcard, wildcard}] {
		return true
	}
	gf, okf := n.group[from]
	gt, okt := n.group[to]
	return okf && okt && gf != gt
}

// up reports whether two nodes can talk both ways: a one-way cut makes the
// pair useless for request and response, so both sides see it as down.
func (n *Network) up(a, b string) bool {
	return !n.blocked(a, b) && !n.blocked(b, a)
}

// change applies f and tells both engines of every pair of started nodes
// whose reachability it changed. Events are broadcast under the lock so
// that each engine sees the changes in the order they were made;
// BroadcastEvent only enqueues, so this cannot wait on an actor.
func (n *Network) change(reason string, f func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	addrs := make([]string, 0, len(n.nodes))
	for addr := range n.nodes {
		addrs = append(addrs, addr)
	}
	slices.Sort(addrs)
	before := map[pair]bool{}
	for i, a := range addrs {
		for _, b := range addrs[i+1:] {
			before[pair{a, b}] = n.up(a, b)
		}
	}
	f()
	for i, a := range addrs {
		for _, b := range addrs[i+1:] {
			was, is := before[pair{a, b}], n.up(a, b)
			switch {
			case was && !is:
				n.nodes[a].engine.BroadcastEvent(transport.PeerDown{Addr: b, Reason: reason})
				n.nodes[b].engine.BroadcastEvent(transport.PeerDown{Addr: a, Reason: reason})
			case !was && is:
				n.nodes[a].engine.BroadcastEvent(transport.PeerUp{Addr: b})
				n.nodes[b].engine.BroadcastEvent(transport.PeerUp{Addr: a})
			}
		}
	}
}

// route decides the fate of one encoded frame from → target address:
// dropped (and why), or queued with the due times of its copies. All
// random draws happen here, under the lock, in Send order.
func (n *Network) route(from *Transport, to string, frame []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.nodes[from.addr] != from {
		from.droppedPeerDown.Add(1) // stopped, or never started
		return
	}
	dst := n.nodes[to]
	if dst == nil {
		from.droppedPeerDown.Add(1)
		return
	}
	l := n.linkLocked(from, dst)
	if n.blocked(from.addr, to) {
		l.drop(1)
		return
	}
	r := n.ruleFor(from.addr, to)
	if r.Drop > 0 && n.rng.Float64() < r.Drop {
		from.lost.Add(1)
		l.drop(1)
		return
	}
	copies := 1
	if r.Duplicate > 0 && n.rng.Float64() < r.Duplicate {
		copies = 2
	}
	now := time.Now()
	for range copies {
		due := now.Add(r.Delay)
		if r.Jitter > 0 {
			due = due.Add(time.Duration(n.rng.Int64N(int64(r.Jitter) + 1)))
		}
		l.push(frame, due, r.Jitter == 0)
	}
}

// linkLocked returns the link from → to, starting it if needed. The caller
// holds mu for writing.
func (n *Network) linkLocked(from, to *Transport) *link {
	k := pair{from.addr, to.addr}
	if l := n.links[k]; l != nil {
		return l
	}
	l := newLink(n, from, to)
	n.links[k] = l
	go l.run()
	return l
}

// deliverable reports whether a frame leaving l's queue now may cross.
func (n *Network) deliverable(l *link) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.nodes[l.to.addr] == l.to && !n.blocked(l.from.addr, l.to.addr)
}
