package protocol

import (
	"slices"
	"testing"
)

func TestTargets(t *testing.T) {
	walk := []string{"a", "b", "c", "d", "e", "f"} // N=3: a b c home
	tests := []struct {
		name string
		down []string
		want []Target
	}{
		{"all up", nil, []Target{{Node: "a"}, {Node: "b"}, {Node: "c"}}},
		{"one home down", []string{"b"}, []Target{{Node: "a"}, {Node: "c"}, {Node: "d", Home: "b"}}},
		{"two homes down", []string{"a", "c"}, []Target{{Node: "b"}, {Node: "d", Home: "a"}, {Node: "e", Home: "c"}}},
		{"a stand-in down too", []string{"a", "d"}, []Target{{Node: "b"}, {Node: "c"}, {Node: "e", Home: "a"}}},
		{"every home down", []string{"a", "b", "c"}, []Target{{Node: "d", Home: "a"}, {Node: "e", Home: "b"}, {Node: "f", Home: "c"}}},
		{"too few up", []string{"a", "b", "c", "d", "e"}, []Target{{Node: "f", Home: "a"}}},
		{"only stand-ins down", []string{"d", "e"}, []Target{{Node: "a"}, {Node: "b"}, {Node: "c"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Targets(walk, 3, func(id string) bool { return slices.Contains(tt.down, id) })
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Targets = %v, want %v", got, tt.want)
			}
		})
	}
	// A walk shorter than N: a small cluster.
	if got := Targets([]string{"a", "b"}, 3, func(string) bool { return false }); !slices.Equal(got, []Target{{Node: "a"}, {Node: "b"}}) {
		t.Fatalf("short walk: %v", got)
	}
}
