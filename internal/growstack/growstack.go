// Package growstack grows the calling goroutine's stack in one step.
//
// hollywood runs an actor's inbox on a new goroutine each time the inbox
// turns from empty to busy, so every wake-up starts on a small stack; a
// vnode's write then reaches deep into Pebble and the runtime doubles the
// stack several times, each time copying it and adjusting every frame
// already on it. Profiles of node processes under load showed a fifth of
// their CPU there. Growing the stack once at the top of Receive, while it
// holds few frames, makes that one cheap copy instead; and goroutines
// parked on deep stacks (RaiseStartingStack) make the runtime start new
// goroutines on stacks that need no growing at all.
package growstack

// Size is how much stack Grow makes sure of. From a shallow start it
// makes a 16 KiB stack, the largest size the runtime keeps in its
// per-processor caches: a larger one (32 KiB made 64 KiB stacks) is
// allocated from the heap at every wake-up and freed when its goroutine
// ends, which took about 5% more of a node's CPU in paired runs of YCSB A
// and C. The few calls that go deeper than that, into Pebble, grow once
// more.
const Size = 12 << 10
