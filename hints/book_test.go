package hints

import (
	"strings"
	"testing"
	"time"
)

const sec = int64(time.Second)

func k(home, key string) Key { return Key{Home: home, Partition: 1, Key: key} }

func always(string) bool { return true }

func TestAdmitBounds(t *testing.T) {
	b := New(Limits{MaxHints: 2, MaxBytes: 100}, 0)
	for _, key := range []string{"x", "y"} {
		if err := b.Admit(k("h", key), 10); err != nil {
			t.Fatal(err)
		}
		b.Stored(k("h", key), 10, 1)
	}
	if err := b.Admit(k("h", "z"), 10); err == nil || !strings.Contains(err.Error(), "2 hints") {
		t.Fatalf("third hint admitted: %v", err)
	}
	if err := b.Admit(k("h", "x"), 50); err != nil {
		t.Fatalf("an update within the bytes refused: %v", err)
	}
	if err := b.Admit(k("h", "x"), 95); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Fatalf("an update past the bytes admitted: %v", err)
	}
	if err := b.Admit(k("other", "z"), 10); err != nil {
		t.Fatalf("another home's bound applied: %v", err)
	}
	if s := b.Stats(); s[0].Home != "h" || s[0].Refused != 2 || s[0].Held != 2 || s[0].Bytes != 20 {
		t.Fatalf("stats %+v", s)
	}
}

func TestReplayHandsOverAndForgets(t *testing.T) {
	b := New(Limits{Inflight: 2, Rate: 1000}, 100)
	for _, key := range []string{"a", "b", "c"} {
		b.Stored(k("h", key), 10, 1)
	}
	down := func(string) bool { return false }
	if got := b.Next(0, down); len(got) != 0 {
		t.Fatalf("replays to a home that is down: %v", got)
	}
	got := b.Next(sec, always)
	if len(got) != 2 || got[0].Key.Key != "a" || got[1].Key.Key != "b" || got[0].ID != 101 {
		t.Fatalf("first replays %v; want a and b, within the window", got)
	}
	if more := b.Next(sec, always); len(more) != 0 {
		t.Fatalf("past the window: %v", more)
	}
	if key, ok := b.Acked("h", got[0].ID, false, sec); !ok || key.Key != "a" {
		t.Fatalf("ack of a: %v %v", key, ok)
	}
	if b.Held(k("h", "a")) {
		t.Fatal("a still held after its ack")
	}
	if _, ok := b.Acked("h", got[0].ID, false, sec); ok {
		t.Fatal("a repeated ack deleted again")
	}
	if next := b.Next(sec, always); len(next) != 1 || next[0].Key.Key != "c" {
		t.Fatalf("after one ack: %v; want c", next)
	}
	if s := b.Stats(); s[0].Replayed != 1 || s[0].Held != 2 || s[0].Inflight != 2 {
		t.Fatalf("stats %+v", s)
	}
}

// A hint updated while its replay is in flight is not deleted by that
// ack: the update would be lost. It is sent again.
func TestUpdateDuringReplayIsSentAgain(t *testing.T) {
	b := New(Limits{}, 0)
	b.Stored(k("h", "a"), 10, 1)
	r := b.Next(sec, always)
	b.Stored(k("h", "a"), 20, 2)
	if _, ok := b.Acked("h", r[0].ID, false, sec); ok {
		t.Fatal("an ack for the old content deleted the update")
	}
	again := b.Next(sec, always)
	if len(again) != 1 || again[0].Key.Key != "a" {
		t.Fatalf("update not replayed: %v", again)
	}
	if _, ok := b.Acked("h", again[0].ID, false, sec); !ok {
		t.Fatal("ack of the update did not hand it over")
	}
	if at, ok := b.StoredAt(k("h", "a")); ok {
		t.Fatalf("still held, stored at %d", at)
	}
}

func TestFailuresAndSilenceBackOff(t *testing.T) {
	b := New(Limits{Backoff: time.Second, MaxBackoff: 4 * time.Second, AckWait: time.Second}, 0)
	b.Stored(k("h", "a"), 10, 1)
	r := b.Next(0, always)
	b.Acked("h", r[0].ID, true, 0)
	if got := b.Next(sec/2, always); len(got) != 0 {
		t.Fatalf("retried within the backoff: %v", got)
	}
	r = b.Next(sec, always)
	if len(r) != 1 {
		t.Fatalf("not retried after the backoff: %v", r)
	}
	// No answer: given up at the ack wait, and the pause doubles.
	b.Expire(2*sec + 1)
	if got := b.Next(3*sec, always); len(got) != 0 {
		t.Fatalf("retried within the doubled backoff: %v", got)
	}
	if got := b.Next(4*sec+2, always); len(got) != 1 {
		t.Fatalf("not retried after the doubled backoff: %v", got)
	}
}

func TestWindowExpires(t *testing.T) {
	b := New(Limits{Window: time.Hour}, 0)
	b.Stored(k("h", "old"), 10, 0)
	b.Stored(k("h", "new"), 10, int64(30*time.Minute))
	// An update does not renew the window.
	b.Stored(k("h", "old"), 12, int64(50*time.Minute))
	gone := b.Expire(int64(61 * time.Minute))
	if len(gone) != 1 || gone[0].Key != "old" {
		t.Fatalf("expired %v; want old", gone)
	}
	s := b.Stats()[0]
	if s.Expired != 1 || s.Held != 1 || s.Bytes != 10 || s.Oldest != int64(30*time.Minute) {
		t.Fatalf("stats %+v", s)
	}
	if got := b.Next(int64(61*time.Minute), always); len(got) != 1 || got[0].Key.Key != "new" {
		t.Fatalf("replays after the expiry: %v", got)
	}
}

func TestRateLimits(t *testing.T) {
	b := New(Limits{Rate: 100, Inflight: 1000}, 0)
	for i := 0; i < 500; i++ {
		b.Stored(k("h", string(rune('a'+i%26))+string(rune('a'+i/26))), 1, 1)
	}
	sent := len(b.Next(1, always)) // the first call fills the window only
	for ms := int64(1); ms <= 1000; ms += 100 {
		sent += len(b.Next(ms*int64(time.Millisecond), always))
	}
	if sent > 1000+100+10 || sent < 100 {
		t.Fatalf("%d sent in a second at 100/s with a window of 1000", sent)
	}
}

func TestHomesOf(t *testing.T) {
	b := New(Limits{}, 0)
	b.Stored(k("b", "x"), 1, 1)
	b.Stored(k("a", "x"), 1, 1)
	if got := b.HomesOf(1, "x"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("HomesOf = %v", got)
	}
}
