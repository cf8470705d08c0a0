package history

import (
	"fmt"
	"slices"
	"time"
)

// Kind is the kind of a client operation. Check treats both kinds alike;
// the kind only says how the workload produced the element.
type Kind int

// Kinds.
const (
	Add   Kind = iota // read-modify-write adding one element to a set key
	Write             // blind write of a fresh key; the value is the element
)

func (k Kind) String() string {
	switch k {
	case Add:
		return "add"
	case Write:
		return "write"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Outcome is how an operation ended, as the client saw it.
type Outcome int

// Outcomes. OK is the zero value, and Check treats any value other than
// Failed and Unknown as OK: a forgotten or corrupt outcome then demands
// the element be kept, the strictest reading, instead of excusing it.
const (
	OK      Outcome = iota // acknowledged
	Failed                 // definitely not applied
	Unknown                // may or may not have been applied
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Failed:
		return "failed"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Op is one client operation and its outcome.
type Op struct {
	Kind    Kind
	Key     string
	Element string        // the element added (Add) or the value written (Write); unique per history
	Node    string        // the node the client sent the request to
	Start   time.Duration // since the run's start
	End     time.Duration
	Outcome Outcome
	Err     string // for failed/unknown, the error text
}

// Phase is a named half-open interval [Start, End) of the run.
type Phase struct {
	Name       string
	Start, End time.Duration
}

// FinalRead is one read of Key through Node after convergence: the
// elements found (the union of the siblings' elements for a set key, the
// values found for a blind key), or Err when the read failed.
type FinalRead struct {
	Node, Key string
	Elements  []string
	Err       string
}

// Input is everything Check needs from a run.
type Input struct {
	Ops    []Op
	Phases []Phase // in order; may leave gaps
	Finals []FinalRead

	// DifferingKeys is the number of keys whose replicas still differ
	// after convergence, counted by the caller from each replica's own
	// copy; Check only copies it.
	DifferingKeys int

	// Copied into the report.
	Nodes   int
	Nemesis string
	Label   string
}

// Report is the verdict on one run. The package doc defines each count.
type Report struct {
	Label, Nemesis string
	Nodes          int

	Attempted, Acknowledged, Failed, Unknown int

	// Sorted element lists, nil when empty.
	Lost             []string // acknowledged, absent from every successful read of their key
	Stale            []string // acknowledged, present on some node's read and absent from another's
	Unexpected       []string // found under a key no operation attempted them on
	Unverified       []string // acknowledged, on a key no final read of which succeeded
	FailedButPresent []string // failed definitely, yet found under their key
	Duplicates       []string // attempted by more than one operation

	RecoveredUnknown int // unknown operations whose element was found under their key
	FinalReadErrors  int // final reads that failed
	DifferingKeys    int // copied from Input

	Phases        []PhaseStats
	OutsidePhases int // operations whose Start falls in no phase
}

// PhaseStats describes the operations that started in one phase.
type PhaseStats struct {
	Name                     string
	Ops, OK, Failed, Unknown int
	Availability             float64       // OK / Ops; 0 when Ops is 0
	P50, P99, Max            time.Duration // nearest-rank latency of OK ops; 0 when none
}

// Pass reports whether the run kept every promise: nothing lost,
// unexpected, applied despite failing or unverifiable, and a well-formed
// history. Stale elements do not fail a run.
func (r Report) Pass() bool {
	return len(r.Lost) == 0 && len(r.Unexpected) == 0 && len(r.FailedButPresent) == 0 &&
		len(r.Unverified) == 0 && len(r.Duplicates) == 0
}

// keyReads is the evidence for one key: the element set of each
// successful final read.
type keyReads struct {
	reads []map[string]bool
}

// presence says in how many of a key's successful reads an element is.
func (k *keyReads) presence(element string) (hits, reads int) {
	for _, r := range k.reads {
		if r[element] {
			hits++
		}
	}
	return hits, len(k.reads)
}

// Check judges a history. It does not modify in.
func Check(in Input) Report {
	r := Report{
		Label:         in.Label,
		Nemesis:       in.Nemesis,
		Nodes:         in.Nodes,
		Attempted:     len(in.Ops),
		DifferingKeys: in.DifferingKeys,
	}

	byKey := map[string]*keyReads{}
	for _, f := range in.Finals {
		if f.Err != "" {
			r.FinalReadErrors++
			continue
		}
		k := byKey[f.Key]
		if k == nil {
			k = &keyReads{}
			byKey[f.Key] = k
		}
		set := make(map[string]bool, len(f.Elements))
		for _, e := range f.Elements {
			set[e] = true
		}
		k.reads = append(k.reads, set)
	}

	type attempt struct{ key, element string }
	attempted := make(map[attempt]bool, len(in.Ops))
	seen := make(map[string]bool, len(in.Ops))
	var lost, stale, unverified, failedPresent, dups []string
	for _, op := range in.Ops {
		attempted[attempt{op.Key, op.Element}] = true
		if seen[op.Element] {
			dups = append(dups, op.Element)
		}
		seen[op.Element] = true

		hits, reads := 0, 0
		if k := byKey[op.Key]; k != nil {
			hits, reads = k.presence(op.Element)
		}
		switch op.Outcome {
		case Failed:
			r.Failed++
			if hits > 0 {
				failedPresent = append(failedPresent, op.Element)
			}
		case Unknown:
			r.Unknown++
			if hits > 0 {
				r.RecoveredUnknown++
			}
		default:
			r.Acknowledged++
			switch {
			case reads == 0:
				unverified = append(unverified, op.Element)
			case hits == 0:
				lost = append(lost, op.Element)
			case hits < reads:
				stale = append(stale, op.Element)
			}
		}
	}

	var unexpected []string
	for _, f := range in.Finals {
		if f.Err != "" {
			continue
		}
		for _, e := range f.Elements {
			if !attempted[attempt{f.Key, e}] {
				unexpected = append(unexpected, e)
			}
		}
	}

	r.Lost = sortedSet(lost)
	r.Stale = sortedSet(stale)
	r.Unverified = sortedSet(unverified)
	r.FailedButPresent = sortedSet(failedPresent)
	r.Duplicates = sortedSet(dups)
	r.Unexpected = sortedSet(unexpected)
	r.Phases, r.OutsidePhases = phaseStats(in.Phases, in.Ops)
	return r
}

// sortedSet sorts and deduplicates s in place, so reports compare and
// print the same whatever order the history came in. It returns nil for
// an empty list, so an empty report has no non-nil empty slices.
func sortedSet(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// phaseStats buckets ops by the first phase their Start falls in and
// returns the stats per phase, in the phases' order, and how many ops fell
// in no phase.
func phaseStats(phases []Phase, ops []Op) ([]PhaseStats, int) {
	if len(phases) == 0 {
		return nil, len(ops)
	}
	stats := make([]PhaseStats, len(phases))
	latencies := make([][]time.Duration, len(phases))
	outside := 0
	for _, op := range ops {
		i := slices.IndexFunc(phases, func(p Phase) bool {
			return p.Start <= op.Start && op.Start < p.End
		})
		if i < 0 {
			outside++
			continue
		}
		s := &stats[i]
		s.Ops++
		switch op.Outcome {
		case Failed:
			s.Failed++
		case Unknown:
			s.Unknown++
		default:
			s.OK++
			latencies[i] = append(latencies[i], op.End-op.Start)
		}
	}
	for i, p := range phases {
		s := &stats[i]
		s.Name = p.Name
		if s.Ops > 0 {
			s.Availability = float64(s.OK) / float64(s.Ops)
		}
		l := latencies[i]
		slices.Sort(l)
		s.P50 = percentile(l, 50)
		s.P99 = percentile(l, 99)
		if len(l) > 0 {
			s.Max = l[len(l)-1]
		}
	}
	return stats, outside
}
