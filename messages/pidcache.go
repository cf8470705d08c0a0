package messages

import (
	"bytes"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/internal/mpbuf"
)

// ReplyBoxPrefix starts the IDs of reply boxes (package reply): one-shot
// addresses, each named for one request.
const ReplyBoxPrefix = "reply/"

var oneShotPrefix = []byte(ReplyBoxPrefix)

// FrameDecoder decodes the frames of one connection. It remembers the PIDs
// it has decoded, so that the few targets and senders a connection carries
// are not turned into new strings for every frame. Not safe for concurrent
// use: one per reading goroutine.
type FrameDecoder struct {
	pids map[string]*actor.PID
	body mpbuf.Reader // reused: a reader passed to a codec through an interface escapes
}

// maxCachedPIDs bounds the cache; a connection that names more distinct
// PIDs than this starts over, which costs only the allocations saved.
const maxCachedPIDs = 4096

// Decode is DecodeFrame with the connection's PID cache. The PIDs it
// returns are shared between frames: receivers must not modify them (no
// actor does; hollywood treats PIDs as values).
func (d *FrameDecoder) Decode(b []byte) (Frame, error) {
	if d.pids == nil {
		d.pids = make(map[string]*actor.PID)
	}
	return decodeFrame(b, d.pid, &d.body)
}

// pid returns the cached PID for the raw header bytes of one PID.
func (d *FrameDecoder) pid(raw []byte, addr, id []byte) *actor.PID {
	if p, ok := d.pids[string(raw)]; ok {
		return p
	}
	if bytes.HasPrefix(id, oneShotPrefix) {
		// A reply box's PID is named once per request: caching it would
		// only push out the PIDs that recur.
		return &actor.PID{Address: string(addr), ID: string(id)}
	}
	if len(d.pids) >= maxCachedPIDs {
		clear(d.pids)
	}
	p := &actor.PID{Address: string(addr), ID: string(id)}
	d.pids[string(raw)] = p
	return p
}
