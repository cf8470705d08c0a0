package protocol

import (
	"strings"
	"testing"
	"time"
)

func TestForward(t *testing.T) {
	f, first, err := NewForward([]string{"a", "b", "c"}, 200*time.Millisecond)
	if err != nil || kinds(first) != "forward(a)" {
		t.Fatalf("start: %s, %v", kinds(first), err)
	}
	if got := kinds(f.Expire()); got != "forward(b)" {
		t.Fatalf("a does not take it: %s", got)
	}
	if got := kinds(f.Take("b")); got != "go(b) finish" {
		t.Fatalf("b takes it: %s", got)
	}

	f, _, _ = NewForward([]string{"a"}, 200*time.Millisecond)
	as := f.Expire()
	r, ok := as[0].(PutReply)
	if !ok || r.Unknown || r.Status != StatusUnavailable || !strings.Contains(r.Err, "nothing was stored") || kinds(as[1:]) != "finish" {
		t.Fatalf("nobody takes it: %s %+v; want a definite 503", kinds(as), as[0])
	}
	if _, _, err := NewForward(nil, time.Second); err == nil {
		t.Fatal("a forward to nobody started")
	}
}
