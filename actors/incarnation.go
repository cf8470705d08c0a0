package actors

import (
	"crypto/rand"
	"encoding/base32"
)

// incarnationEncoding renders incarnations in lower case without padding,
// so they read well inside a clock's node names.
var incarnationEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewIncarnation returns a short random name (8 characters, 40 bits) for
// one start of a node process. Dots are named "<member>.<incarnation>", new
// at every start, because a node cannot tell from its store alone whether
// the store was rolled back (power loss without fsync, a restored backup,
// a VM snapshot) and so no longer knows every dot it issued.
func NewIncarnation() string {
	var b [5]byte
	_, _ = rand.Read(b[:]) // never fails
	return incarnationEncoding.EncodeToString(b[:])
}
