// Package protocol holds the coordinator's protocols as pure state
// machines, in the spirit of etcd's raft: a request's state goes in with
// each event (an answer, a timer), and what to do comes out as a list of
// actions (messages to send, the client's answer, the end of the request).
// The coordinator actor only executes them: it owns the engine, the
// timers and the PIDs; the cores own every decision, and are tested
// table-driven without an engine.
//
// Requests follow a sloppy quorum (Dynamo §4.6): they go to the first N
// members of the partition's walk that this node does not suspect, its
// home nodes first; a member past the preference list stands in for a home
// node that is suspected and keeps what it gets as a hint for it. W and R
// count stand-ins; PW and PR, when asked for, count home nodes only.
package protocol

// Target is one member a request goes to.
type Target struct {
	Node string
	// Home is the home node Node stands in for, "" when Node is one of
	// the partition's home nodes.
	Home string
}

// StandIn reports whether the target holds a hint rather than a replica.
func (t Target) StandIn() bool { return t.Home != "" }

// Targets picks the first n members of walk (a partition's walk: its
// preference list of n home nodes, then the members that may stand in)
// that suspected rejects, and pairs each stand-in with a suspected home
// node, in walk order. Fewer than n come back when too few members are up.
func Targets(walk []string, n int, suspected func(string) bool) []Target {
	homes := min(n, len(walk))
	var down []string
	out := make([]Target, 0, n)
	for i, id := range walk {
		if len(out) == n {
			break
		}
		if suspected(id) {
			if i < homes {
				down = append(down, id)
			}
			continue
		}
		t := Target{Node: id}
		if i >= homes {
			if len(down) == 0 {
				break // every home node is up and taken: no stand-in needed
			}
			t.Home, down = down[0], down[1:]
		}
		out = append(out, t)
	}
	return out
}

// index returns the position of node among ts, -1 when absent.
func index(ts []Target, node string) int {
	for i, t := range ts {
		if t.Node == node {
			return i
		}
	}
	return -1
}

// nodes lists the targets' members, in order; homes only when homeOnly.
func nodes(ts []Target, homeOnly bool) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		if !homeOnly || !t.StandIn() {
			out = append(out, t.Node)
		}
	}
	return out
}
