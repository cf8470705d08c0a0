package node

import (
	"fmt"
	"strings"

	"github.com/dynamokv/dynamo/cluster"
)

// ParseMembers parses "id=host:port" entries, in join order.
func ParseMembers(list []string) ([]cluster.Member, error) {
	out := make([]cluster.Member, 0, len(list))
	seen := map[string]bool{}
	for _, s := range list {
		id, addr, ok := strings.Cut(strings.TrimSpace(s), "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("%q: want id=host:port", s)
		}
		if err := checkHostPort(addr, false); err != nil {
			return nil, fmt.Errorf("%q: %v", s, err)
		}
		if seen[id] {
			return nil, fmt.Errorf("%q: member %s listed twice", s, id)
		}
		seen[id] = true
		out = append(out, cluster.Member{ID: id, Addr: addr})
	}
	return out, nil
}
