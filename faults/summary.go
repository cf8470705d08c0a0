package faults

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dynamokv/dynamo/faults/history"
)

// Overview renders one line per run: what was acknowledged and lost, and
// availability per phase, for the README and the end of a full run.
func Overview(results []Result) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "nodes\tnemesis\tops\tacked\tunknown\tfailed\tlost\tunexpected\tavail before\tavail fault\tavail healed\tp99 fault\tsuspected after\troots equal after\tdiffering\tverdict")
	for _, r := range results {
		rep := r.Report
		if r.Skipped != "" {
			fmt.Fprintf(tw, "%d\t%s\t\t\t\t\t\t\t\t\t\t\t\t\t\tskipped: %s\n", rep.Nodes, rep.Nemesis, r.Skipped)
			continue
		}
		avail := map[string]string{}
		p99 := "-"
		for _, p := range rep.Phases {
			avail[p.Name] = "-"
			if p.Ops > 0 {
				avail[p.Name] = fmt.Sprintf("%.1f%%", 100*p.Availability)
			}
			if p.Name == "fault" && p.OK > 0 {
				p99 = fmt.Sprintf("%.0f ms", float64(p.P99)/float64(time.Millisecond))
			}
		}
		verdict := "PASS"
		if !rep.Pass() {
			verdict = "FAIL"
		}
		suspected := "-"
		if r.Suspected > 0 {
			suspected = fmt.Sprintf("%.0f ms", float64(r.Suspected)/float64(time.Millisecond))
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%.1f s\t%d\t%s\n",
			rep.Nodes, rep.Nemesis, rep.Attempted, rep.Acknowledged, rep.Unknown, rep.Failed,
			len(rep.Lost), len(rep.Unexpected), dash(avail["before"]), dash(avail["fault"]), dash(avail["healed"]),
			p99, suspected, r.Converged.Seconds(), rep.DifferingKeys, verdict)
	}
	tw.Flush()
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// topErrors lists the commonest error texts of the operations that did not
// succeed, with their outcome and count, so a table says why.
func topErrors(ops []history.Op, max int) []string {
	type key struct {
		outcome history.Outcome
		text    string
	}
	counts := map[key]int{}
	for _, op := range ops {
		if op.Outcome == history.OK {
			continue
		}
		counts[key{op.Outcome, normalizeError(op.Err)}]++
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return strings.Compare(a.text, b.text)
	})
	var out []string
	for _, k := range keys[:min(max, len(keys))] {
		out = append(out, fmt.Sprintf("%6d %-7s %s", counts[k], k.outcome, k.text))
	}
	return out
}

// normalizeError drops what differs between occurrences of one error:
// addresses, ports and numbers.
func normalizeError(s string) string {
	s = digits.ReplaceAllString(s, "N")
	if len(s) > 140 {
		s = s[:140] + "..."
	}
	return s
}

var digits = regexp.MustCompile(`[0-9]+`)
