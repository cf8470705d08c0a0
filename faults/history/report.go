package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// SummaryPrefix starts the line SummaryLine returns, so a harness can pick
// the summary out of a log.
const SummaryPrefix = "faults-summary "

// maxExamples bounds the elements quoted per list, so one bad run cannot
// make the summary or the table unreadable.
const maxExamples = 10

// summary is the JSON shape of SummaryLine: counts, not lists, plus a few
// examples of whatever failed.
type summary struct {
	Label            string         `json:"label"`
	Nemesis          string         `json:"nemesis"`
	Nodes            int            `json:"nodes"`
	Pass             bool           `json:"pass"`
	Attempted        int            `json:"attempted"`
	Acknowledged     int            `json:"acknowledged"`
	Failed           int            `json:"failed"`
	Unknown          int            `json:"unknown"`
	Lost             int            `json:"lost"`
	Stale            int            `json:"stale"`
	Unexpected       int            `json:"unexpected"`
	Unverified       int            `json:"unverified"`
	FailedButPresent int            `json:"failed_but_present"`
	Duplicates       int            `json:"duplicates"`
	RecoveredUnknown int            `json:"recovered_unknown"`
	FinalReadErrors  int            `json:"final_read_errors"`
	DifferingKeys    int            `json:"differing_keys"`
	OutsidePhases    int            `json:"outside_phases"`
	Phases           []phaseSummary `json:"phases"`

	LostExamples             []string `json:"lost_examples,omitempty"`
	UnexpectedExamples       []string `json:"unexpected_examples,omitempty"`
	UnverifiedExamples       []string `json:"unverified_examples,omitempty"`
	FailedButPresentExamples []string `json:"failed_but_present_examples,omitempty"`
}

type phaseSummary struct {
	Name         string  `json:"name"`
	Ops          int     `json:"ops"`
	OK           int     `json:"ok"`
	Failed       int     `json:"failed"`
	Unknown      int     `json:"unknown"`
	Availability float64 `json:"availability"`
	P50ms        float64 `json:"p50_ms"`
	P99ms        float64 `json:"p99_ms"`
	MaxMs        float64 `json:"max_ms"`
}

// SummaryLine returns one machine-readable line: SummaryPrefix followed
// by compact JSON of the report's counts. JSON escapes control characters
// in strings, so labels and elements cannot break the line.
func (r Report) SummaryLine() string {
	s := summary{
		Label:            r.Label,
		Nemesis:          r.Nemesis,
		Nodes:            r.Nodes,
		Pass:             r.Pass(),
		Attempted:        r.Attempted,
		Acknowledged:     r.Acknowledged,
		Failed:           r.Failed,
		Unknown:          r.Unknown,
		Lost:             len(r.Lost),
		Stale:            len(r.Stale),
		Unexpected:       len(r.Unexpected),
		Unverified:       len(r.Unverified),
		FailedButPresent: len(r.FailedButPresent),
		Duplicates:       len(r.Duplicates),
		RecoveredUnknown: r.RecoveredUnknown,
		FinalReadErrors:  r.FinalReadErrors,
		DifferingKeys:    r.DifferingKeys,
		OutsidePhases:    r.OutsidePhases,
		Phases:           []phaseSummary{}, // [] rather than null for readers that index it

		LostExamples:             examples(r.Lost),
		UnexpectedExamples:       examples(r.Unexpected),
		UnverifiedExamples:       examples(r.Unverified),
		FailedButPresentExamples: examples(r.FailedButPresent),
	}
	for _, p := range r.Phases {
		s.Phases = append(s.Phases, phaseSummary{
			Name:         p.Name,
			Ops:          p.Ops,
			OK:           p.OK,
			Failed:       p.Failed,
			Unknown:      p.Unknown,
			Availability: p.Availability,
			P50ms:        ms(p.P50),
			P99ms:        ms(p.P99),
			MaxMs:        ms(p.Max),
		})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // elements stay readable; the line is not HTML
	if err := enc.Encode(s); err != nil {
		// Only strings, ints, bools and finite floats go in, so this
		// cannot happen; say so on the line rather than drop it.
		return SummaryPrefix + fmt.Sprintf(`{"error":%q}`, err.Error())
	}
	return SummaryPrefix + strings.TrimSuffix(b.String(), "\n")
}

func examples(s []string) []string {
	if len(s) > maxExamples {
		return s[:maxExamples]
	}
	return s
}

func ms(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

// Table returns the report for people: the totals, one row per phase and
// the verdict, with a few examples of whatever failed.
func (r Report) Table() string {
	var b strings.Builder

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(cells ...any) {
		for i, c := range cells {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprint(tw, "\n")
	}
	row("run", orDash(r.Label))
	row("nemesis", orDash(r.Nemesis))
	row("nodes", r.Nodes)
	row("attempted", r.Attempted)
	row("acknowledged", r.Acknowledged)
	row("failed", r.Failed)
	row("unknown", fmt.Sprintf("%d (%d recovered)", r.Unknown, r.RecoveredUnknown))
	row("lost", len(r.Lost))
	row("unexpected", len(r.Unexpected))
	row("failed but present", len(r.FailedButPresent))
	row("unverified", len(r.Unverified))
	row("duplicates", len(r.Duplicates))
	row("stale", len(r.Stale))
	row("final read errors", r.FinalReadErrors)
	row("differing keys", r.DifferingKeys)
	tw.Flush()

	if len(r.Phases) > 0 {
		b.WriteString("\n")
		// A separate writer, so the phase columns do not widen the totals'.
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		row("phase", "ops", "ok", "failed", "unknown", "avail", "p50 ms", "p99 ms", "max ms")
		for _, p := range r.Phases {
			avail, p50, p99, pmax := "-", "-", "-", "-"
			if p.Ops > 0 {
				avail = fmt.Sprintf("%.1f%%", 100*p.Availability)
			}
			if p.OK > 0 {
				p50, p99, pmax = fmtMs(p.P50), fmtMs(p.P99), fmtMs(p.Max)
			}
			row(orDash(p.Name), p.Ops, p.OK, p.Failed, p.Unknown, avail, p50, p99, pmax)
		}
		tw.Flush()
	}
	if r.OutsidePhases > 0 {
		fmt.Fprintf(&b, "%d operations started outside every phase\n", r.OutsidePhases)
	}

	b.WriteString("\n")
	b.WriteString(r.verdict())
	b.WriteString("\n")
	for _, l := range []struct {
		name  string
		elems []string
	}{
		{"lost", r.Lost},
		{"unexpected", r.Unexpected},
		{"failed but present", r.FailedButPresent},
		{"unverified", r.Unverified},
		{"duplicates", r.Duplicates},
		{"stale", r.Stale},
	} {
		if len(l.elems) == 0 {
			continue
		}
		quoted := make([]string, 0, maxExamples+1)
		for _, e := range examples(l.elems) {
			quoted = append(quoted, fmt.Sprintf("%q", e))
		}
		if len(l.elems) > maxExamples {
			quoted = append(quoted, fmt.Sprintf("... %d more", len(l.elems)-maxExamples))
		}
		fmt.Fprintf(&b, "  %s: %s\n", l.name, strings.Join(quoted, ", "))
	}
	return b.String()
}

// verdict is the one-line outcome: PASS, or FAIL with the count of each
// broken promise. Stale elements are noted but do not fail the run.
func (r Report) verdict() string {
	if r.Pass() {
		if len(r.Stale) > 0 {
			return fmt.Sprintf("verdict: PASS (%d stale: some node's read did not yet show an acknowledged write)", len(r.Stale))
		}
		return "verdict: PASS"
	}
	var why []string
	for _, c := range []struct {
		n    int
		what string
	}{
		{len(r.Lost), "lost"},
		{len(r.Unexpected), "unexpected"},
		{len(r.FailedButPresent), "failed but present"},
		{len(r.Unverified), "unverified"},
		{len(r.Duplicates), "duplicate elements"},
	} {
		if c.n > 0 {
			why = append(why, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return "verdict: FAIL: " + strings.Join(why, ", ")
}

// orDash readies a name for a table cell: a dash when empty, and quoted
// when it holds a tab, line break or other unprintable rune that would
// break the columns.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	if strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}

func fmtMs(d time.Duration) string {
	return fmt.Sprintf("%.1f", ms(d))
}
