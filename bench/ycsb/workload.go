package ycsb

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Kind is what one operation does.
type Kind int

const (
	OpRead   Kind = iota
	OpUpdate      // a write of an existing record
	OpInsert      // a write of a new record
	OpRMW         // read a record, then write it with what was read (timed as one)
	numKinds
)

func (k Kind) String() string {
	return [...]string{"read", "update", "insert", "rmw"}[k]
}

// Workload is one of YCSB's core workloads: the share of each kind of
// operation, in percent, and whether the newest records are the hot ones.
type Workload struct {
	Name        string
	Description string
	Percent     [numKinds]int
	// Load inserts every record once, in order, instead of drawing
	// operations: it fills the store for the others.
	Load bool
	// Latest draws records by recency (workload D) instead of the run's
	// distribution.
	Latest bool
}

// The core workloads, as YCSB defines them.
var (
	Load = Workload{Name: "load", Description: "insert every record once", Load: true}
	A    = Workload{Name: "a", Description: "update heavy: 50% read, 50% update", Percent: [numKinds]int{OpRead: 50, OpUpdate: 50}}
	B    = Workload{Name: "b", Description: "read mostly: 95% read, 5% update", Percent: [numKinds]int{OpRead: 95, OpUpdate: 5}}
	C    = Workload{Name: "c", Description: "read only", Percent: [numKinds]int{OpRead: 100}}
	D    = Workload{Name: "d", Description: "read latest: 95% read, 5% insert, the newest records hottest",
		Percent: [numKinds]int{OpRead: 95, OpInsert: 5}, Latest: true}
	F = Workload{Name: "f", Description: "read-modify-write: 50% read, 50% read then write", Percent: [numKinds]int{OpRead: 50, OpRMW: 50}}
)

// Workloads are the core workloads by name.
var Workloads = []Workload{Load, A, B, C, D, F}

// ParseWorkloads reads a comma-separated list of workload names.
func ParseWorkloads(s string) ([]Workload, error) {
	var out []Workload
	for _, name := range strings.Split(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		found := false
		for _, w := range Workloads {
			if w.Name == name {
				out = append(out, w)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("workload %q: want load, a, b, c, d or f", name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no workload given: want a list of load, a, b, c, d, f")
	}
	return out, nil
}

// Distribution names how a run draws records: "uniform" or "zipfian".
type Distribution string

const (
	DistUniform Distribution = "uniform"
	DistZipfian Distribution = "zipfian"
)

// ParseDistribution checks a distribution's name.
func ParseDistribution(s string) (Distribution, error) {
	switch d := Distribution(strings.ToLower(s)); d {
	case DistUniform, DistZipfian:
		return d, nil
	}
	return "", fmt.Errorf("distribution %q: want uniform or zipfian", s)
}

// Chooser returns the record chooser of the workload over records.
func (w Workload) Chooser(d Distribution, records int) Chooser {
	switch {
	case w.Latest:
		return NewLatest(records)
	case d == DistZipfian:
		return NewZipfian(records, 0.99, true)
	}
	return Uniform{}
}

// Pick draws the kind of the next operation.
func (w Workload) Pick(r *rand.Rand) Kind {
	x := r.IntN(100)
	for k := range numKinds {
		if x < w.Percent[k] {
			return k
		}
		x -= w.Percent[k]
	}
	return OpRead
}
