package growstack

import (
	"runtime"
	"runtime/metrics"
	"testing"
)

// deep recurses with a frame of its own, as a deep call chain does.
//
//go:noinline
func deep(n int) int {
	var pad [256]byte
	pad[n%256] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return deep(n-1) + int(pad[n%256])
}

func TestGrowLeavesTheGoroutineWorking(t *testing.T) {
	done := make(chan int)
	go func() {
		Grow()
		done <- deep(100) // about 30 KiB of frames
	}()
	if got, want := <-done, deep(100); got != want {
		t.Fatalf("after Grow the call chain computed %d, want %d", got, want)
	}
	runtime.GC() // stacks are scanned and shrunk: the frame must be well formed
}

func BenchmarkGrowOnANewGoroutine(b *testing.B) {
	for b.Loop() {
		done := make(chan struct{})
		go func() { Grow(); deep(100); close(done) }()
		<-done
	}
}

func BenchmarkNewGoroutineWithoutGrow(b *testing.B) {
	for b.Loop() {
		done := make(chan struct{})
		go func() { deep(100); close(done) }()
		<-done
	}
}

// Parked deep goroutines make the runtime start new goroutines on 16 KiB
// stacks, and closing done lets them go.
func TestParkRaisesTheStartingStack(t *testing.T) {
	done := make(chan struct{})
	Park(Parked, done)
	runtime.GC()
	if got := startingStack(); got < 16<<10 {
		t.Fatalf("new goroutines start on %d-byte stacks with %d deep goroutines parked; want 16 KiB", got, Parked)
	}
	close(done)
}

func startingStack() uint64 {
	s := []metrics.Sample{{Name: "/gc/stack/starting-size:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
