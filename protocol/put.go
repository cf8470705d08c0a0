package protocol

import (
	"fmt"
	"time"

	"github.com/dynamokv/dynamo/quorum"
	"github.com/dynamokv/dynamo/version"
)

// Status codes, as HTTP's.
const (
	StatusOK          = 200
	StatusTooLarge    = 413
	StatusUnavailable = 503
)

// PutSpec is a write this node coordinates: Self is one of Targets.
type PutSpec struct {
	Self    string
	Targets []Target
	W       int           // acknowledgements needed, stand-ins counted
	PW      int           // of them from home nodes; 0 for none
	Timeout time.Duration // the request's timer, to word errors
}

// Put is the write protocol. The local node writes first, because the new
// version's dot is its own: its vnode (or, as a stand-in, its hint buffer)
// knows the counters it issued and the key's siblings. The whole set it
// then holds goes to every other target, and the client is answered at W
// acknowledgements (and PW of home nodes). A local write that finishes
// after the timer is still sent on.
type Put struct {
	spec      PutSpec
	all, home *quorum.Tally
	local     bool // the local write is done
	replied   bool
	expired   bool
	reply     version.Clock
	replyAlso version.Dots
}

// NewPut checks that the quorums can be met by the targets and starts the
// write. An error is a definite failure: nothing was stored.
func NewPut(spec PutSpec) (*Put, []Action, error) {
	i := index(spec.Targets, spec.Self)
	if i < 0 {
		return nil, nil, fmt.Errorf("this node is not among the targets %v", nodes(spec.Targets, false))
	}
	if spec.W > len(spec.Targets) {
		return nil, nil, fmt.Errorf("only %d replicas are reachable and W=%d: nothing was stored", len(spec.Targets), spec.W)
	}
	homes := nodes(spec.Targets, true)
	if spec.PW > len(homes) {
		return nil, nil, fmt.Errorf("strict quorum not reachable: only %d home replicas are up and PW=%d: nothing was stored",
			len(homes), spec.PW)
	}
	p := &Put{spec: spec}
	var err error
	if p.all, err = quorum.NewTally(nodes(spec.Targets, false), spec.W); err != nil {
		return nil, nil, err
	}
	if spec.PW > 0 {
		if p.home, err = quorum.NewTally(homes, spec.PW); err != nil {
			return nil, nil, err
		}
	}
	return p, []Action{WriteLocal{Home: spec.Targets[i].Home}}, nil
}

// LocalResult is the local vnode's or hint buffer's answer.
type LocalResult struct {
	Set         version.Siblings // every version held after the write
	Reply       version.Clock    // the context for the client's next write
	ReplyAlso   version.Dots     // with the single events beyond it
	Err         string
	Status      int  // StatusTooLarge when refused for size
	MaybeStored bool // with Err: the store failed mid-write
}

// Local takes the local write's answer.
func (p *Put) Local(r LocalResult) []Action {
	if p.local {
		return nil
	}
	p.local = true
	if r.Err != "" {
		var out []Action
		if !p.replied {
			switch {
			case r.Status == StatusTooLarge:
				out = append(out, PutReply{Status: StatusTooLarge, Err: r.Err})
			case r.MaybeStored:
				out = append(out, p.unknown("write failed on the coordinating replica: "+r.Err))
			default:
				out = append(out, PutReply{Status: StatusUnavailable,
					Err: "write failed on the coordinating replica, nothing was stored: " + r.Err})
			}
			p.replied = true
		}
		return append(out, Finish{})
	}
	p.reply, p.replyAlso = r.Reply, r.ReplyAlso
	var out []Action
	for _, t := range p.spec.Targets {
		if t.Node != p.spec.Self {
			out = append(out, Replicate{Target: t, Versions: r.Set, NoAck: p.expired})
		}
	}
	if p.expired {
		return append(out, Finish{})
	}
	return append(out, p.ack(p.spec.Self, "")...)
}

// Ack takes a target's answer; err is "" for success.
func (p *Put) Ack(node, err string) []Action {
	if !p.local || p.expired {
		return nil
	}
	return p.ack(node, err)
}

func (p *Put) ack(node, err string) []Action {
	var all, home quorum.Verdict
	if err == "" {
		all = p.all.Ack(node)
		if p.home != nil {
			home = p.home.Ack(node)
		}
	} else {
		all = p.all.Fail(node, err)
		if p.home != nil {
			home = p.home.Fail(node, err)
		}
	}
	var out []Action
	if !p.replied {
		switch {
		case all == quorum.Failed || home == quorum.Failed:
			out = append(out, p.unknown(p.failure()))
		case p.all.Verdict() == quorum.Reached && (p.home == nil || p.home.Verdict() == quorum.Reached):
			out = append(out, PutReply{Status: StatusOK, Context: p.reply, Also: p.replyAlso})
			p.replied = true
		}
	}
	if p.all.Complete() {
		out = append(out, Finish{})
	}
	return out
}

// unknown answers a failed write that the local node stored, or may have.
func (p *Put) unknown(why string) PutReply {
	p.replied = true
	return PutReply{Status: StatusUnavailable, Unknown: true, Err: "outcome unknown, the write may have been applied: " + why}
}

func (p *Put) failure() string {
	if p.home != nil && p.home.Verdict() == quorum.Failed {
		return "strict " + p.home.FailureError()
	}
	return p.all.FailureError()
}

// Expire takes the request's timer. A write whose local part has not
// answered yet stays open, so that, stored late, it is still sent on; a
// second Expire, the caller's last deadline, ends it.
func (p *Put) Expire() []Action {
	if p.expired {
		return []Action{Finish{}}
	}
	p.expired = true
	var out []Action
	if !p.replied {
		why := p.all.TimeoutError(p.spec.Timeout)
		if p.home != nil && p.all.Verdict() == quorum.Reached {
			why = fmt.Sprintf("strict quorum not reached: %d of %d home replicas answered within %s",
				p.home.Acks(), p.home.Need(), p.spec.Timeout)
		}
		out = append(out, p.unknown(why))
	}
	if waiting := p.all.Waiting(); len(waiting) > 0 && p.local {
		out = append(out, Unanswered{Nodes: waiting})
	}
	if p.local {
		out = append(out, Finish{})
	}
	return out
}
