package memnet

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/transport"
)

// Transport is one node's end of a Network: an actor.Remoter for
// actor.NewEngineConfig().WithRemote, and a transport.Transport.
//
// Its Stats follow package transport: Sent counts frames that left a queue
// for their receiver (a duplicate counts twice), Received counts frames
// decoded and delivered to the engine. A frame lost to a rule's Drop is
// counted in DroppedPeerDown, because to the sender a lossy link looks like
// a peer that was briefly unreachable; Lost tells those apart.
type Transport struct {
	net  *Network
	addr string

	engine   *actor.Engine // set by Start, under net.mu
	stopped  bool          // under net.mu
	stopOnce sync.Once
	wg       sync.WaitGroup

	sent, received                 atomic.Uint64
	droppedPeerDown, lost          atomic.Uint64
	refusedTooLarge, refusedEncode atomic.Uint64
	badFrames                      atomic.Uint64
}

var _ transport.Transport = (*Transport)(nil)

// Address implements actor.Remoter.
func (t *Transport) Address() string { return t.addr }

// Start implements actor.Remoter: the node joins the network. It fails if
// another started transport holds the address, or if t was started or
// stopped before.
func (t *Transport) Start(e *actor.Engine) error {
	if e == nil {
		return errors.New("memnet: start without an engine")
	}
	n := t.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if t.engine != nil || t.stopped {
		return fmt.Errorf("memnet: transport %q cannot start twice", t.addr)
	}
	if n.nodes[t.addr] != nil {
		return fmt.Errorf("memnet: address %q already in use", t.addr)
	}
	t.engine = e
	n.nodes[t.addr] = t
	return nil
}

// Send implements actor.Remoter. It never waits for the receiver: the
// frame is encoded here, so encoding and size errors are counted at the
// sender as the TCP transport counts them, then queued for the receiver.
func (t *Transport) Send(target *actor.PID, msg any, sender *actor.PID) {
	if target == nil {
		return
	}
	frame, err := messages.AppendFrame(nil, target, sender, msg)
	if err != nil {
		t.refusedEncode.Add(1)
		return
	}
	if int64(len(frame)-messages.LengthSize) > t.net.max.Load() {
		t.refusedTooLarge.Add(1)
		return
	}
	t.net.route(t, target.Address, frame)
}

// Stop implements actor.Remoter: the node leaves the network, its links
// (both directions) stop, and what they still held is dropped and counted.
// The returned WaitGroup ends when their goroutines have; Stop may be
// called again and returns the same WaitGroup.
func (t *Transport) Stop() *sync.WaitGroup {
	t.stopOnce.Do(func() {
		n := t.net
		n.mu.Lock()
		t.stopped = true
		if n.nodes[t.addr] == t {
			delete(n.nodes, t.addr)
		}
		var closing []*link
		for k, l := range n.links {
			if l.from == t || l.to == t {
				close(l.done)
				delete(n.links, k)
				closing = append(closing, l)
			}
		}
		n.mu.Unlock()
		t.wg.Add(len(closing))
		for _, l := range closing {
			go func() {
				<-l.finished
				t.wg.Done()
			}()
		}
	})
	return &t.wg
}

// Lost returns how many of t's messages a rule's Drop lost. They are
// included in Stats().DroppedPeerDown.
func (t *Transport) Lost() uint64 { return t.lost.Load() }

// Stats implements transport.Transport. Peers lists the links t has sent
// on, by address; Up is false while a fault separates the pair.
func (t *Transport) Stats() transport.Stats {
	s := transport.Stats{
		Sent:            t.sent.Load(),
		Received:        t.received.Load(),
		DroppedPeerDown: t.droppedPeerDown.Load(),
		RefusedTooLarge: t.refusedTooLarge.Load(),
		RefusedEncode:   t.refusedEncode.Load(),
		BadFrames:       t.badFrames.Load(),
	}
	n := t.net
	n.mu.RLock()
	for _, l := range n.links {
		if l.from != t {
			continue
		}
		s.Peers = append(s.Peers, transport.PeerStats{
			Addr:    l.to.addr,
			Up:      n.up(t.addr, l.to.addr),
			Queued:  l.queued(),
			Sent:    l.sent.Load(),
			Dropped: l.dropped.Load(),
		})
	}
	n.mu.RUnlock()
	slices.SortFunc(s.Peers, func(a, b transport.PeerStats) int { return strings.Compare(a.Addr, b.Addr) })
	return s
}
