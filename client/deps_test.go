package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The client is a library an application imports without the server: it
// depends on the protocol's packages, never on the actors, the node or
// the store.
func TestClientDependsOnTheProtocolOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/dynamokv/dynamo/client").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const mod = "github.com/dynamokv/dynamo/"
	banned := []string{mod + "actors", mod + "node", mod + "store", mod + "protocol", mod + "hints", "github.com/cockroachdb/pebble"}
	for _, dep := range strings.Fields(string(out)) {
		for _, b := range banned {
			if dep == b || strings.HasPrefix(dep, b+"/") {
				t.Errorf("the client depends on %s", dep)
			}
		}
	}
}
