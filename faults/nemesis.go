package faults

import (
	"fmt"
	"os"
	"syscall"

	"github.com/dynamokv/dynamo/internal/files"
)

// A nemesis is one kind of fault. The run calls prepare halfway through
// the calm before the fault (for what must happen before it, such as the
// snapshot a rollback returns to), start when the fault phase begins and
// heal when it ends; after the last phase the run brings every node and
// link back whatever the nemesis left.
type nemesis struct {
	name, does string
	network    bool // needs hosts whose links can be cut
	prepare    func(r *run) error
	start      func(r *run) error
	heal       func(r *run) error
}

// Nemeses lists every nemesis by name, in the order a full run uses.
var Nemeses = []string{"kill", "kill2", "pause", "isolate", "partition", "oneway", "loss", "rollback", "clock"}

// Describe says what a nemesis does, for the README and the command's help.
func Describe(name string) string {
	if n, ok := nemeses[name]; ok {
		return n.does
	}
	return ""
}

var nemeses = map[string]nemesis{
	"kill": {
		name: "kill", does: "kill -9 one node; restart it when the fault phase ends",
		start: func(r *run) error { r.c.kill(r.victim()); return nil },
		heal:  func(r *run) error { return r.c.start(r.victim()) },
	},
	"kill2": {
		name: "kill2", does: "kill -9 two nodes; restart them when the fault phase ends",
		start: func(r *run) error {
			for _, v := range r.victims(2) {
				r.c.kill(v)
			}
			return nil
		},
		heal: func(r *run) error {
			for _, v := range r.victims(2) {
				if err := r.c.start(v); err != nil {
					return err
				}
			}
			return nil
		},
	},
	"pause": {
		name: "pause", does: "SIGSTOP one node (its peers' connections stay open and unanswered); SIGCONT at the end",
		start: func(r *run) error { return r.c.signal(r.victim(), syscall.SIGSTOP) },
		heal:  func(r *run) error { return r.c.signal(r.victim(), syscall.SIGCONT) },
	},
	"isolate": {
		name: "isolate", does: "cut one node off from every other node, both ways", network: true,
		start: func(r *run) error { return r.links.Isolate(r.victimIndex()) },
		heal:  func(r *run) error { return r.links.Heal() },
	},
	"partition": {
		name: "partition", does: "split the nodes into a majority and a minority that cannot talk", network: true,
		start: func(r *run) error {
			n := len(r.c.nodes)
			var major, minor []int
			for i := 0; i < n; i++ {
				if i < n/2+1 {
					major = append(major, i)
				} else {
					minor = append(minor, i)
				}
			}
			return r.links.Partition(major, minor)
		},
		heal: func(r *run) error { return r.links.Heal() },
	},
	"oneway": {
		name: "oneway", does: "one way: the first node can no longer reach the second, which still reaches it", network: true,
		start: func(r *run) error { return r.links.Cut(0, r.victimIndex()) },
		heal:  func(r *run) error { return r.links.Heal() },
	},
	"loss": {
		name: "loss", does: "drop 30% of the packets to and from one node, at random", network: true,
		start: func(r *run) error { return r.links.Loss(r.victimIndex(), 30) },
		heal:  func(r *run) error { return r.links.Heal() },
	},
	"rollback": {
		name: "rollback", does: "copy one node's store (killed, copied, restarted), then kill it again and restart it on that earlier copy",
		prepare: func(r *run) error {
			v := r.victim()
			r.c.kill(v)
			if err := files.CopyDir(v.data, r.snapshot()); err != nil {
				return fmt.Errorf("snapshot %s: %w", v.id, err)
			}
			return r.c.start(v)
		},
		start: func(r *run) error {
			v := r.victim()
			r.c.kill(v)
			if err := os.RemoveAll(v.data); err != nil {
				return err
			}
			if err := files.CopyDir(r.snapshot(), v.data); err != nil {
				return fmt.Errorf("restore %s: %w", v.id, err)
			}
			return r.c.start(v)
		},
		heal: func(r *run) error { return nil },
	},
	"clock": {
		name: "clock", does: "restart one node with its clock an hour behind; back on time at the end",
		start: func(r *run) error {
			v := r.victim()
			r.c.terminate(v)
			v.extra = []string{"--clock-offset", "-1h"}
			return r.c.start(v)
		},
		heal: func(r *run) error { return r.c.restore() },
	},
}
