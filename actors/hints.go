package actors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/hints"
	"github.com/dynamokv/dynamo/internal/mpbuf"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/store"
	"github.com/dynamokv/dynamo/version"
	"github.com/rs/zerolog"
)

// HintsKind and HintsID name a node's hint buffer; HintsPID finds it from
// a node's address alone.
const (
	HintsKind = "hints"
	HintsID   = "local"
)

// HintsPID is the hint buffer of the node at addr.
func HintsPID(addr string) *actor.PID { return actor.NewPID(addr, HintsKind+"/"+HintsID) }

// HintPartition holds a node's hints, apart from every vnode's data (rings
// have at most 65536 partitions), so they survive a restart and no scan or
// drop of a real partition sees them.
const HintPartition uint32 = 0xFFFFFFFD

// HintsConfig configures a node's hint buffer.
type HintsConfig struct {
	Node  string
	Ring  *cluster.View // where home nodes are
	Store store.Store
	Dots  *version.DotSource // names the writes it coordinates as a stand-in
	// Up reports whether a home node should be handed its hints now: the
	// failure detector clears it. Called inside Receive; must not block.
	Up     func(home string) bool
	Limits hints.Limits
	// MaxSetBytes bounds a hint's sibling set, as a vnode's; 0 none.
	MaxSetBytes int
	Tick        time.Duration // how often replays and expiry run; default 100ms
	Now         func() int64  // unix nanoseconds; nil means the wall clock
	View        *HintView
	Log         zerolog.Logger
}

// HintView is the buffer's published figures, per home node.
type HintView struct{ p atomic.Pointer[[]hints.Stats] }

// Homes returns the figures of every home node the buffer holds or held
// hints for.
func (v *HintView) Homes() []hints.Stats {
	if s := v.p.Load(); s != nil {
		return *s
	}
	return nil
}

type hintsTick struct{}

// Hints is a node's hint buffer: it keeps the replicas this node took as a
// stand-in for home nodes that were down, answers reads for them, and hands
// them over, each deleted only on the home vnode's acknowledgement, once
// the failure detector clears the home node.
type Hints struct {
	cfg    HintsConfig
	book   *hints.Book
	repeat *actor.SendRepeater
	buf    []byte
}

// NewHints returns the producer of a node's hint buffer.
func NewHints(cfg HintsConfig) actor.Producer {
	if cfg.Tick <= 0 {
		cfg.Tick = 100 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = func() int64 { return time.Now().UnixNano() }
	}
	if cfg.Up == nil {
		cfg.Up = func(string) bool { return true }
	}
	if cfg.View == nil {
		cfg.View = &HintView{}
	}
	cfg.Log = cfg.Log.With().Str("node", cfg.Node).Str("component", "hints").Logger()
	return func() actor.Receiver {
		return &Hints{cfg: cfg, book: hints.New(cfg.Limits, rand.Uint64N(1<<62))}
	}
}

// Receive implements actor.Receiver.
func (h *Hints) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Started:
		h.load()
		r := c.SendRepeat(c.PID(), hintsTick{}, h.cfg.Tick)
		h.repeat = &r
		h.publish()
	case actor.Stopped:
		if h.repeat != nil {
			h.repeat.Stop()
		}
	case hintsTick:
		h.tick(c)
	case *messages.HintPut:
		ack := &messages.ReplicaPutAck{ReqID: m.ReqID, Node: h.cfg.Node}
		if err := h.put(m.Home, m.Partition, m.Key, m.Versions); err != nil {
			ack.Err = err.Error()
		}
		if m.ReqID != 0 {
			c.Respond(ack)
		}
	case *messages.HintGet:
		reply := &messages.ReplicaGetReply{ReqID: m.ReqID, Node: h.cfg.Node}
		if rec, err := h.read(hintKey(m.Home, m.Partition, m.Key)); err != nil {
			reply.Err = err.Error()
		} else {
			reply.Versions = rec.set
		}
		c.Respond(reply)
	case *messages.CoordinatePut:
		c.Respond(h.coordinate(m))
	case *messages.ReplicaPutAck:
		h.handedOver(m)
		h.replay(c) // keep the window full instead of waiting for the tick
	case actor.Initialized:
	default:
		h.cfg.Log.Warn().Str("message", messages.NameOf(m)).Str("peer", peer(c)).Msg("hints: unexpected message dropped")
	}
}

// hintRecord is what the store holds for one hint.
type hintRecord struct {
	stored int64 // when first stored
	set    version.Siblings
}

// hintKey lays out a hint's store key: the home node (length-prefixed),
// the partition, the user key.
func hintKey(home string, p uint32, key []byte) []byte {
	out := make([]byte, 0, 2+len(home)+4+len(key))
	out = binary.BigEndian.AppendUint16(out, uint16(len(home)))
	out = append(out, home...)
	out = binary.BigEndian.AppendUint32(out, p)
	return append(out, key...)
}

func splitHintKey(k []byte) (hints.Key, error) {
	if len(k) < 2 {
		return hints.Key{}, errors.New("short hint key")
	}
	n := int(binary.BigEndian.Uint16(k))
	if len(k) < 2+n+4 {
		return hints.Key{}, errors.New("short hint key")
	}
	return hints.Key{Home: string(k[2 : 2+n]), Partition: binary.BigEndian.Uint32(k[2+n:]), Key: string(k[2+n+4:])}, nil
}

func (h *Hints) encode(r hintRecord) []byte {
	b := mpbuf.AppendMapLen(h.buf[:0], 2)
	b = mpbuf.AppendInt(mpbuf.AppendString(b, "s"), r.stored)
	h.buf = r.set.AppendMsgpack(mpbuf.AppendString(b, "v"))
	return h.buf
}

func decodeHint(raw []byte) (hintRecord, error) {
	var rec hintRecord
	r := mpbuf.NewReader(raw)
	n, err := r.MapLen()
	if err != nil {
		return rec, err
	}
	for i := 0; i < n; i++ {
		key, err := r.View()
		if err != nil {
			return rec, err
		}
		switch string(key) {
		case "s":
			rec.stored, err = r.Int64()
		case "v":
			err = rec.set.DecodeFrom(&r)
		default:
			err = r.Skip()
		}
		if err != nil {
			return rec, err
		}
	}
	if r.Len() != 0 {
		return rec, fmt.Errorf("%d trailing bytes", r.Len())
	}
	return rec, nil
}

// read returns the stored hint at k; an absent hint is empty.
func (h *Hints) read(k []byte) (hintRecord, error) {
	raw, err := h.cfg.Store.Get(HintPartition, k)
	if errors.Is(err, store.ErrNotFound) {
		return hintRecord{}, nil
	}
	if err != nil {
		return hintRecord{}, fmt.Errorf("read hint: %w", err)
	}
	rec, err := decodeHint(raw)
	if err != nil {
		return hintRecord{}, fmt.Errorf("%w: hint: %w", version.ErrCorruptSiblings, err)
	}
	return rec, nil
}

// load rebuilds the books from the store, so hints survive a restart.
func (h *Hints) load() {
	var bad [][]byte
	n := 0
	_, err := h.cfg.Store.Scan(HintPartition, nil, 0, func(k, raw []byte) error {
		hk, err := splitHintKey(k)
		rec, derr := decodeHint(raw)
		if err != nil || derr != nil {
			bad = append(bad, append([]byte(nil), k...))
			return nil
		}
		h.book.Stored(hk, len(raw), rec.stored)
		n++
		return nil
	})
	if err != nil {
		h.cfg.Log.Error().Err(err).Msg("hints: reading the stored hints failed; some may not be handed over")
	}
	if len(bad) > 0 {
		b := store.NewBatch()
		for _, k := range bad {
			b.Delete(HintPartition, k)
		}
		_ = h.cfg.Store.Apply(b)
		h.cfg.Log.Error().Int("hints", len(bad)).Msg("hints: corrupt stored hints dropped")
	}
	if n > 0 {
		h.cfg.Log.Info().Int("hints", n).Msg("hints: stored hints loaded, to hand over")
	}
}

// put merges versions into the hint for home, within the bounds.
func (h *Hints) put(home string, p uint32, key []byte, versions version.Siblings) error {
	k := hintKey(home, p, key)
	rec, err := h.read(k)
	if err != nil {
		h.cfg.Log.Error().Err(err).Uint64("key_hash", keyHash(key)).Str("home", home).Msg("hints: stored hint unreadable, replaced")
		rec = hintRecord{}
	}
	next := version.Reconcile(rec.set, versions) // as folding Add over versions, in one pass
	_, _, err = h.store(home, p, key, rec, next)
	return err
}

// store writes next as the hint, checked against the bounds. maybe says
// that the store failed mid-write, so the hint may be there all the same.
func (h *Hints) store(home string, p uint32, key []byte, rec hintRecord, next version.Siblings) (_ version.Siblings, maybe bool, _ error) {
	hk := hints.Key{Home: home, Partition: p, Key: string(key)}
	if rec.stored == 0 {
		rec.stored = h.cfg.Now()
		if at, ok := h.book.StoredAt(hk); ok {
			rec.stored = at
		}
	}
	rec.set = next
	raw := h.encode(rec)
	if h.cfg.MaxSetBytes > 0 && len(raw) > h.cfg.MaxSetBytes {
		return nil, false, fmt.Errorf("the hint's %d versions would take %d bytes on %s, over the limit of %d",
			len(next), len(raw), h.cfg.Node, h.cfg.MaxSetBytes)
	}
	if err := h.book.Admit(hk, len(raw)); err != nil {
		h.cfg.Log.Warn().Err(err).Str("home", home).Uint64("key_hash", keyHash(key)).Msg("hints: hint refused")
		return nil, false, err
	}
	b := store.NewBatch()
	b.Put(HintPartition, hintKey(home, p, key), raw)
	if err := h.cfg.Store.Apply(b); err != nil {
		return nil, true, fmt.Errorf("store hint: %w", err)
	}
	h.book.Stored(hk, len(raw), rec.stored)
	return next, false, nil
}

// coordinate makes and keeps a new version as a stand-in for m.Home: no
// home node of the key is up, so the first stand-in coordinates the
// write. Its reply context is the client's own with the new version named
// alone (version.OwnReplyContext): the buffer cannot vouch that it knows
// every version this node wrote for the key.
func (h *Hints) coordinate(m *messages.CoordinatePut) *messages.CoordinatePutDone {
	done := &messages.CoordinatePutDone{ReqID: m.ReqID, Node: h.cfg.Node, Partition: m.Partition, Key: m.Key}
	k := hintKey(m.Home, m.Partition, m.Key)
	rec, err := h.read(k)
	if err != nil {
		done.Err = err.Error()
		return done
	}
	ver := h.cfg.Dots.NewVersion(rec.set, m.Context, m.Also, m.Value, m.Delete, h.cfg.Now(), 0)
	next, maybe, err := h.store(m.Home, m.Partition, m.Key, rec, rec.set.Add(ver))
	if err != nil {
		done.Err, done.MaybeStored = err.Error(), maybe
		return done
	}
	done.Version, done.Set = ver, next
	done.Reply, done.ReplyAlso = version.OwnReplyContext(ver)
	return done
}

// tick drops expired hints and hands over what the books say to.
func (h *Hints) tick(c *actor.Context) {
	now := h.cfg.Now()
	if gone := h.book.Expire(now); len(gone) > 0 {
		b := store.NewBatch()
		for _, k := range gone {
			b.Delete(HintPartition, hintKey(k.Home, k.Partition, []byte(k.Key)))
		}
		if err := h.cfg.Store.Apply(b); err != nil {
			h.cfg.Log.Error().Err(err).Msg("hints: deleting expired hints failed")
		}
		h.cfg.Log.Warn().Int("hints", len(gone)).Str("home", gone[0].Home).
			Msg("hints: hints past the window dropped; anti-entropy must repair their keys")
	}
	h.replay(c)
	h.publish()
}

// replay sends what the books say to send now.
func (h *Hints) replay(c *actor.Context) {
	now := h.cfg.Now()
	for _, r := range h.book.Next(now, h.cfg.Up) {
		home, ok := h.cfg.Ring.Load().Member(r.Key.Home)
		rec, err := h.read(hintKey(r.Key.Home, r.Key.Partition, []byte(r.Key.Key)))
		if !ok || err != nil {
			h.book.Acked(r.Key.Home, r.ID, true, now)
			continue
		}
		c.Send(VnodePID(home.Addr, r.Key.Partition), &messages.ReplicaPut{
			ReqID: r.ID, Partition: r.Key.Partition, Key: []byte(r.Key.Key), Versions: rec.set})
	}
}

// handedOver takes a home vnode's answer to a replay.
func (h *Hints) handedOver(m *messages.ReplicaPutAck) {
	k, ok := h.book.Acked(m.Node, m.ReqID, m.Err != "", h.cfg.Now())
	if m.Err != "" {
		h.cfg.Log.Warn().Str("home", m.Node).Str("err", m.Err).Msg("hints: home node refused a hint; retrying later")
	}
	if !ok {
		return
	}
	b := store.NewBatch()
	b.Delete(HintPartition, hintKey(k.Home, k.Partition, []byte(k.Key)))
	if err := h.cfg.Store.Apply(b); err != nil {
		h.cfg.Log.Error().Err(err).Str("home", k.Home).Msg("hints: deleting a handed-over hint failed")
	}
}

func (h *Hints) publish() {
	s := h.book.Stats()
	h.cfg.View.p.Store(&s)
}
