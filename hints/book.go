// Package hints keeps the books of a node's hint buffer: which hints it
// holds for which home node, the bounds they must stay within, and the
// replay of each home node's hints once it is back. It is pure: the hint
// buffer actor stores the hints and sends the messages; the Book decides
// what to admit, what to replay next, what has expired. Time is passed in
// as unix nanoseconds.
package hints

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Limits bound what a buffer holds per home node; zero fields take the
// defaults.
type Limits struct {
	MaxHints int           // hints per home node; default 100 000
	MaxBytes int64         // bytes of hints per home node; default 256 MiB
	Window   time.Duration // a hint older than this is dropped; default 3h, as Cassandra's
	// Replay: at most Inflight hints of one home node unacknowledged at a
	// time, at most Rate per second over all, an unacknowledged one given
	// up after AckWait, then a pause from Backoff doubling to MaxBackoff.
	Inflight   int
	Rate       int
	AckWait    time.Duration
	Backoff    time.Duration
	MaxBackoff time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxHints <= 0 {
		l.MaxHints = 100_000
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 256 << 20
	}
	if l.Window <= 0 {
		l.Window = 3 * time.Hour
	}
	if l.Inflight <= 0 {
		l.Inflight = 64
	}
	if l.Rate <= 0 {
		l.Rate = 5000
	}
	if l.AckWait <= 0 {
		l.AckWait = 2 * time.Second
	}
	if l.Backoff <= 0 {
		l.Backoff = 200 * time.Millisecond
	}
	if l.MaxBackoff < l.Backoff {
		l.MaxBackoff = max(10*time.Second, l.Backoff)
	}
	return l
}

// Key names one hint: a key of a partition, held for a home node.
type Key struct {
	Home      string
	Partition uint32
	Key       string
}

type hint struct {
	bytes  int
	stored int64 // when first stored: the window runs from there
	gen    uint64
	// inflight is set while a replay of this generation waits for its ack;
	// queued while it waits in the home node's queue.
	inflight, queued bool
}

type home struct {
	hints    map[Key]*hint
	bytes    int64
	queue    []Key // to replay, in order
	inflight map[uint64]flight
	retryAt  int64
	backoff  time.Duration
	// counters
	replayed, refused, expired uint64
}

type flight struct {
	key      Key
	gen      uint64
	deadline int64
}

// Book is the state of one node's hints.
type Book struct {
	lim     Limits
	homes   map[string]*home
	nextID  uint64
	tokens  float64
	last    int64 // when tokens were last refilled
	started bool
}

// New returns an empty book. First is the first replay request id; the
// caller makes it random so answers from before a restart match nothing.
func New(lim Limits, first uint64) *Book {
	return &Book{lim: lim.withDefaults(), homes: map[string]*home{}, nextID: first}
}

func (b *Book) home(id string) *home {
	h, ok := b.homes[id]
	if !ok {
		h = &home{hints: map[Key]*hint{}, inflight: map[uint64]flight{}, backoff: b.lim.Backoff}
		b.homes[id] = h
	}
	return h
}

// Admit says whether a hint of size bytes for k may be stored now: an
// update of a hint already held always may, if it stays within the bytes;
// a new one only within the home node's bounds. A refusal is counted.
func (b *Book) Admit(k Key, bytes int) error {
	h := b.home(k.Home)
	old := 0
	if cur, ok := h.hints[k]; ok {
		old = cur.bytes
	} else if len(h.hints) >= b.lim.MaxHints {
		h.refused++
		return fmt.Errorf("hint buffer for %s is full: %d hints, the limit", k.Home, len(h.hints))
	}
	if h.bytes-int64(old)+int64(bytes) > b.lim.MaxBytes {
		h.refused++
		return fmt.Errorf("hint buffer for %s is full: %d bytes held, the limit is %d", k.Home, h.bytes, b.lim.MaxBytes)
	}
	return nil
}

// Stored records that the hint k now holds bytes; stored is when it was
// first stored (kept across updates, so the window is not renewed).
func (b *Book) Stored(k Key, bytes int, stored int64) int64 {
	h := b.home(k.Home)
	cur, ok := h.hints[k]
	if !ok {
		cur = &hint{stored: stored}
		h.hints[k] = cur
	}
	h.bytes += int64(bytes - cur.bytes)
	cur.bytes = bytes
	cur.gen++
	cur.inflight = false // an update is replayed anew, whatever was in flight
	b.enqueue(h, k, cur)
	return cur.stored
}

func (b *Book) enqueue(h *home, k Key, cur *hint) {
	if !cur.queued {
		cur.queued = true
		h.queue = append(h.queue, k)
	}
}

// StoredAt returns when hint k was first stored, and whether it is held.
func (b *Book) StoredAt(k Key) (int64, bool) {
	if h, ok := b.homes[k.Home]; ok {
		if cur, ok := h.hints[k]; ok {
			return cur.stored, true
		}
	}
	return 0, false
}

// remove forgets hint k.
func (b *Book) remove(h *home, k Key) {
	if cur, ok := h.hints[k]; ok {
		h.bytes -= int64(cur.bytes)
		delete(h.hints, k)
	}
}

// Replay is one hint to send to its home node, under request id ID.
type Replay struct {
	ID  uint64
	Key Key
}

// Next returns the hints to send now to every home node that up reports
// up, within the window of unacknowledged hints per home node and the rate.
func (b *Book) Next(now int64, up func(home string) bool) []Replay {
	b.refill(now)
	var out []Replay
	for _, id := range b.homeIDs() {
		h := b.homes[id]
		if len(h.queue) == 0 || now < h.retryAt || !up(id) {
			continue
		}
		for len(h.queue) > 0 && len(h.inflight) < b.lim.Inflight && b.tokens >= 1 {
			k := h.queue[0]
			h.queue = h.queue[1:]
			cur, ok := h.hints[k]
			if !ok || !cur.queued {
				continue // expired, or handed over, since it was queued
			}
			cur.queued = false
			b.nextID++
			cur.inflight = true
			h.inflight[b.nextID] = flight{key: k, gen: cur.gen, deadline: now + b.lim.AckWait.Nanoseconds()}
			b.tokens--
			out = append(out, Replay{ID: b.nextID, Key: k})
		}
	}
	return out
}

func (b *Book) refill(now int64) {
	if !b.started {
		b.started, b.last = true, now
		b.tokens = float64(b.lim.Inflight)
		return
	}
	b.tokens += float64(now-b.last) / 1e9 * float64(b.lim.Rate)
	b.tokens = min(b.tokens, float64(b.lim.Rate)/10+float64(b.lim.Inflight))
	b.last = now
}

// Acked takes the home vnode's answer to replay id. It returns the hint to
// delete from the store when the hint was handed over and has not changed
// since; ok is false otherwise (an error, an update meanwhile, an unknown
// id). An error pauses the home node's replay.
func (b *Book) Acked(home string, id uint64, failed bool, now int64) (Key, bool) {
	h, ok := b.homes[home]
	if !ok {
		return Key{}, false
	}
	f, ok := h.inflight[id]
	if !ok {
		return Key{}, false
	}
	delete(h.inflight, id)
	cur, held := h.hints[f.key]
	if !held || cur.gen != f.gen {
		return Key{}, false // updated meanwhile: Stored queued it again
	}
	cur.inflight = false
	if failed {
		b.enqueue(h, f.key, cur)
		b.pause(h, now)
		return Key{}, false
	}
	b.remove(h, f.key)
	h.replayed++
	h.backoff = b.lim.Backoff
	return f.key, true
}

func (b *Book) pause(h *home, now int64) {
	h.retryAt = now + h.backoff.Nanoseconds()
	h.backoff = min(2*h.backoff, b.lim.MaxBackoff)
}

// Expire gives up replays whose ack is overdue (they are sent again after
// a pause) and returns the hints past the window, forgotten and counted:
// the caller deletes them from the store.
func (b *Book) Expire(now int64) []Key {
	var gone []Key
	cutoff := now - b.lim.Window.Nanoseconds()
	for _, id := range b.homeIDs() {
		h := b.homes[id]
		overdue := false
		for rid, f := range h.inflight {
			if now >= f.deadline {
				delete(h.inflight, rid)
				if cur, ok := h.hints[f.key]; ok && cur.gen == f.gen {
					cur.inflight = false
					b.enqueue(h, f.key, cur)
				}
				overdue = true
			}
		}
		if overdue {
			b.pause(h, now)
		}
		for k, cur := range h.hints {
			if cur.stored < cutoff && !cur.inflight {
				b.remove(h, k)
				h.expired++
				gone = append(gone, k)
			}
		}
	}
	slices.SortFunc(gone, compareKeys)
	return gone
}

// Held reports whether hint k is held.
func (b *Book) Held(k Key) bool {
	h, ok := b.homes[k.Home]
	if !ok {
		return false
	}
	_, ok = h.hints[k]
	return ok
}

// HomesOf returns the home nodes for which a hint of partition p's key is
// held, sorted.
func (b *Book) HomesOf(p uint32, key string) []string {
	var out []string
	for _, id := range b.homeIDs() {
		if _, ok := b.homes[id].hints[Key{Home: id, Partition: p, Key: key}]; ok {
			out = append(out, id)
		}
	}
	return out
}

// Stats is what a book says of one home node.
type Stats struct {
	Home                       string
	Held                       int
	Bytes                      int64
	Inflight                   int
	Replayed, Refused, Expired uint64
	Oldest                     int64 // when the oldest hint held was stored; 0 if none
}

// Stats returns every home node's figures, sorted by home.
func (b *Book) Stats() []Stats {
	var out []Stats
	for _, id := range b.homeIDs() {
		h := b.homes[id]
		s := Stats{Home: id, Held: len(h.hints), Bytes: h.bytes, Inflight: len(h.inflight),
			Replayed: h.replayed, Refused: h.refused, Expired: h.expired}
		for _, cur := range h.hints {
			if s.Oldest == 0 || cur.stored < s.Oldest {
				s.Oldest = cur.stored
			}
		}
		out = append(out, s)
	}
	return out
}

func (b *Book) homeIDs() []string {
	ids := make([]string, 0, len(b.homes))
	for id := range b.homes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func compareKeys(a, b Key) int {
	if c := strings.Compare(a.Home, b.Home); c != 0 {
		return c
	}
	if a.Partition != b.Partition {
		if a.Partition < b.Partition {
			return -1
		}
		return 1
	}
	return strings.Compare(a.Key, b.Key)
}
