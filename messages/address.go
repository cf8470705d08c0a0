package messages

import (
	"strconv"

	"github.com/anthdm/hollywood/actor"
	"github.com/cespare/xxhash/v2"
)

// Where a client's requests go: every node runs the same number of
// coordinator actors, kind CoordinatorKind, IDs 0 to n-1, and a key's
// requests go to coordinator CoordinatorFor(key, n) of a node of its
// preference list (ClientPut, ClientGet).

// CoordinatorKind is the kind coordinators are spawned as.
const CoordinatorKind = "coord"

// CoordinatorID returns the actor ID of coordinator i.
func CoordinatorID(i int) string { return strconv.Itoa(i) }

// CoordinatorPID returns the PID of coordinator i on the node at addr.
func CoordinatorPID(addr string, i int) *actor.PID {
	return actor.NewPID(addr, CoordinatorKind+"/"+CoordinatorID(i))
}

// CoordinatorFor picks which of a node's n coordinators handles key. Any
// choice is correct; hashing spreads keys over them while one key always
// meets the same coordinator, so its requests are handled in order.
func CoordinatorFor(key []byte, n int) int {
	if n <= 1 {
		return 0
	}
	return int(xxhash.Sum64(key) % uint64(n))
}
