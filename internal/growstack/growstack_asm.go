//go:build amd64 || arm64

package growstack

// Grow makes sure the goroutine has about Size bytes of stack left. Its
// frame is declared in assembly, so nothing is zeroed: when the stack is
// already large enough it costs the prologue's bounds check alone.
//
//go:noescape
func Grow()
