package growstack

import "sync"

// The runtime starts every goroutine on a stack the size of the average
// stack it found in use at the last garbage collection. A node's
// long-lived goroutines are shallow, so that average is small, and every
// actor wake-up (hollywood runs it on a new goroutine) must first grow its
// stack to 16 KiB (Grow): about a tenth of a node's CPU under load.
// Goroutines parked with about 12 KiB in use raise the average, so that
// new goroutines start on 16 KiB stacks, which the runtime keeps with its
// dead goroutines and hands on to new ones without allocating or copying;
// Grow then finds the room already there. 16 KiB is also the largest
// stack the runtime keeps in its per-processor caches, so going further
// would make every new goroutine allocate its stack from the heap.

// Parked is how many goroutines RaiseStartingStack parks: enough to
// outweigh several hundred shallow ones, for 8 MiB of stacks.
const Parked = 512

var raise sync.Once

// RaiseStartingStack parks Parked goroutines on deep stacks for the life
// of the process (once, whatever the number of calls), so that new
// goroutines start on 16 KiB stacks from the next garbage collection on.
// With more shallow goroutines than it outweighs, the runtime's average
// falls back and new goroutines start small again: slower, not wrong.
func RaiseStartingStack() {
	raise.Do(func() { Park(Parked, nil) })
}

// Park starts n goroutines that wait with about 12 KiB of stack in use
// until done is closed (a nil done: for good), and returns once they all
// wait there.
func Park(n int, done <-chan struct{}) {
	var parked sync.WaitGroup
	parked.Add(n)
	for range n {
		go parkDeep(parkFrames, &parked, done)
	}
	parked.Wait()
}

// parkFrames frames of about 1 KiB make about 12 KiB in use.
const parkFrames = 11

//go:noinline
func parkDeep(depth int, parked *sync.WaitGroup, done <-chan struct{}) byte {
	var pad [1000]byte
	if depth > 0 {
		pad[depth] = parkDeep(depth-1, parked, done)
		return pad[depth%len(pad)]
	}
	parked.Done()
	<-done
	return pad[0]
}
