//go:build !amd64 && !arm64

package growstack

// Grow makes sure the goroutine has about Size bytes of stack left; on
// this architecture with a zeroed Go frame.
//
//go:noinline
func Grow() { use(new([Size]byte)[:0]) }

//go:noinline
func use([]byte) {}
