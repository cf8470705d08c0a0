package growstack

import (
	"runtime"
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
