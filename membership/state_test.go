package membership

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dynamokv/dynamo/cluster"
)

func boot(t *testing.T, ids ...string) State {
	t.Helper()
	var ms []cluster.Member
	for _, id := range ids {
		ms = append(ms, cluster.Member{ID: id, Addr: id + ":7000"})
	}
	s, err := Bootstrap("c", 16, 3, ms)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checker returns a function that fails t on an error and passes the
// state on.
func checker(t *testing.T) func(State, error) State {
	return func(s State, err error) State {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestBootstrapIsTheStaticRing(t *testing.T) {
	s := boot(t, "a", "b", "c")
	r, err := s.Ring()
	if err != nil {
		t.Fatal(err)
	}
	static, _ := cluster.NewRing(16, 3, []cluster.Member{{ID: "a", Addr: "a:7000"}, {ID: "b", Addr: "b:7000"}, {ID: "c", Addr: "c:7000"}})
	if !r.Equal(static) || s.Version != 3 {
		t.Fatalf("bootstrap ring differs from the static one (version %d)", s.Version)
	}
}

func TestChanges(t *testing.T) {
	must := checker(t)
	s := boot(t, "a", "b", "c")
	for _, tt := range []struct {
		name string
		do   func() (State, error)
		want string
	}{
		{"join twice", func() (State, error) { return s.Join("a", "x:1", "") }, "member already"},
		{"join on a taken address", func() (State, error) { return s.Join("d", "a:7000", "") }, "already listens"},
		{"join without an address", func() (State, error) { return s.Join("d", "", "") }, "needs an ID"},
		{"leave a stranger", func() (State, error) { return s.Leave("z", false) }, "not a member"},
		{"leave below N members", func() (State, error) { return s.Leave("c", false) }, "join a node first"},
	} {
		if _, err := tt.do(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Fatalf("%s: %v; want %q", tt.name, err, tt.want)
		}
	}
	s2 := must(s.Join("d", "d:7000", "d:8000"))
	s3 := must(s2.Leave("b", false))
	if s3.Version != 5 || len(s3.Members()) != 3 {
		t.Fatalf("version %d, members %v", s3.Version, s3.Members())
	}
	if _, err := s3.Leave("b", true); err == nil || !strings.Contains(err.Error(), "left already") {
		t.Fatalf("leave twice: %v", err)
	}
	if _, err := s3.Join("b", "b:7000", ""); err == nil || !strings.Contains(err.Error(), "new ID") {
		t.Fatalf("rejoin: %v", err)
	}
	if _, err := s.Leave("c", true); err != nil {
		t.Fatalf("a node gone for good could not be removed from N members: %v", err)
	}
	one := boot(t, "a")
	if _, err := one.Leave("a", false); err == nil || !strings.Contains(err.Error(), "last member") {
		t.Fatalf("the last member left: %v", err)
	}
}

func TestMergeRefusesAnotherCluster(t *testing.T) {
	a := boot(t, "a")
	for _, b := range []State{{Cluster: "other", Partitions: 16, Replicas: 3}, {Cluster: "c", Partitions: 32, Replicas: 3}, {Cluster: "c", Partitions: 16, Replicas: 2}} {
		if _, err := Merge(a, b); err == nil {
			t.Fatalf("merged %+v", b)
		}
	}
}

// Concurrent changes, accepted on different nodes and merged in any order
// and grouping, end in one state and one ring everywhere.
func TestMergeConverges(t *testing.T) {
	must := checker(t)
	r := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 300; round++ {
		base := boot(t, "a", "b", "c")
		// Three nodes each accept some changes on their own copy.
		copies := []State{base, base, base}
		next := 0
		for i := range copies {
			for k := 0; k < r.IntN(3); k++ {
				if r.IntN(2) == 0 {
					next++
					id := fmt.Sprintf("j%d", next)
					copies[i] = must(copies[i].Join(id, id+":1", ""))
				} else if ms := copies[i].Members(); len(ms) > 1 {
					if s, err := copies[i].Leave(ms[r.IntN(len(ms))].ID, r.IntN(2) == 0); err == nil {
						copies[i] = s
					}
				}
			}
		}
		// Merge in two orders, with repeats.
		x := must(Merge(must(Merge(copies[0], copies[1])), copies[2]))
		y := must(Merge(copies[2], must(Merge(copies[1], copies[0]))))
		y = must(Merge(y, copies[1]))
		if !x.Equal(y) {
			t.Fatalf("round %d: merges differ:\n%+v\n%+v", round, x, y)
		}
		if again := must(Merge(x, x)); !again.Equal(x) {
			t.Fatalf("round %d: merge not idempotent", round)
		}
		rx, err1 := x.Ring()
		ry, err2 := y.Ring()
		if (err1 == nil) != (err2 == nil) || (err1 == nil && !rx.Equal(ry)) {
			t.Fatalf("round %d: rings differ (%v, %v)", round, err1, err2)
		}
	}
}

// A leave anywhere wins over a copy that still has the member.
func TestLeaveWins(t *testing.T) {
	must := checker(t)
	base := boot(t, "a", "b", "c")
	left := must(base.Leave("b", true))
	m := must(Merge(base, left))
	if rec, _ := m.Record("b"); rec.Member() || !rec.Removed {
		t.Fatalf("record %+v after merging a removal", rec)
	}
	learnt := base.SetHTTP("a", "a:8000")
	m = must(Merge(m, learnt))
	if rec, _ := m.Record("a"); rec.HTTP != "a:8000" || m.Version != left.Version {
		t.Fatalf("record %+v, version %d: the HTTP address is learnt without a version", rec, m.Version)
	}
}
