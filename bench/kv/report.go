package kv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"
)

// Heading is the README section this package owns.
const Heading = "## Key-value path"

// inProcessHeading starts the part of the section that holds in-process
// figures measured with go test; a rewrite keeps it.
const inProcessHeading = "### In process"

// Setup is what a report states about how the figures were taken.
type Setup struct {
	Command   string
	Date      time.Time
	CPUs      int
	GoVersion string
	Nodes     int
	Storage   string
	NodeProcs int // GOMAXPROCS of each node, 0 for Go's default
	Config    Config
}

// Table renders the results as a markdown table.
func Table(rs []*Result) string {
	var b strings.Builder
	b.WriteString("| client | workload | ops/s | p50 ms | p99 ms | p99.9 ms | errors | reads with siblings | server CPU µs/op | client CPU µs/op | other load (cores) |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n")
	for _, r := range rs {
		sib := "–"
		if r.Reads > 0 {
			sib = fmt.Sprintf("%d of %d", r.SiblingReads, r.Reads)
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.2f | %.2f | %.2f | %s | %s | %.1f | %.1f | %.2f |\n",
			r.Mode, r.Workload, r.OpsPerSec(), r.Percentile(50), r.Percentile(99), r.Percentile(99.9),
			errorSummary(r), sib, r.ServerCPUPerOp(), r.ClientCPUPerOp(),
			r.CPU.Others().Seconds()/r.Elapsed.Seconds())
	}
	return b.String()
}

func errorSummary(r *Result) string {
	if len(r.Errors) == 0 {
		return "0"
	}
	kinds := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s: %d", k, r.Errors[k])
	}
	return fmt.Sprintf("%d (%s)", r.ErrorCount(), strings.Join(parts, ", "))
}

// find returns the first result of mode and workload, or nil.
func find(rs []*Result, mode string, w Mix) *Result {
	for _, r := range rs {
		if r.Mode == mode && r.Workload == w.Name {
			return r
		}
	}
	return nil
}

// Section renders the README section: setup, command, table and a
// comparison with the peers measured on the same kind of machine.
func Section(s Setup, rs []*Result) string {
	var b strings.Builder
	c := s.Config
	fmt.Fprintf(&b, "%s\n\n", Heading)
	fmt.Fprintf(&b, "%d node processes on loopback (N=3, R=2, W=2, %s storage), driven through the Go "+
		"client by %d goroutines with one request each in flight: %d uniform keys of 16 bytes, "+
		"%d-byte values, preloaded; %v of warm-up, then %v measured per row. A writer sends the "+
		"context of the last reply any client got for that key, as an application would; a read "+
		"that returns more than one value counts as a read with siblings (siblings left by one run stay "+
		"until a write resolves them, so the get-only rows see some too). Server CPU is the user+system "+
		"time of the node processes over the window, divided by the operations; client CPU is that of "+
		"the benchmark process; other load is what the rest of the machine used meanwhile.\n\n",
		s.Nodes, s.Storage, c.Clients, c.Keys, c.ValueSize, c.Warmup, c.Duration)
	procs := "Go's default GOMAXPROCS in every process"
	if s.NodeProcs > 0 {
		procs = fmt.Sprintf("GOMAXPROCS=%d in each node", s.NodeProcs)
	}
	fmt.Fprintf(&b, "Measured %s on %d cores, %s, clients and nodes on the same cores, %s:\n\n",
		s.Date.Format("2006-01-02"), s.CPUs, s.GoVersion, procs)
	fmt.Fprintf(&b, "```sh\n%s\n```\n\n", s.Command)
	b.WriteString(Table(rs))
	b.WriteString("\n")
	b.WriteString(Comparison(rs))
	b.WriteString("\n")
	return b.String()
}

// Comparison is a short paragraph that sets the mixed-workload figures
// against olric (3 members, 3 copies, quorum 2/2: about 27k ops/s, p99
// 5.5 ms, 50-55 µs server CPU per op) and the roughly 60k quorum ops/s
// that three round trips of about 10.7 µs CPU allow on 2 cores.
func Comparison(rs []*Result) string {
	nat, web := find(rs, "native", Mixed), find(rs, "http", Mixed)
	best := nat
	if best == nil || (web != nil && web.OpsPerSec() > best.OpsPerSec()) {
		best = web
	}
	if best == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "On the mixed workload the faster client (%s) reached %.0f ops/s with p99 %.2f ms: "+
		"%.2f× olric's ~27k ops/s (3 members, 3 copies, quorum 2/2, p99 5.5 ms, measured with 64 "+
		"clients on the same kind of machine) and %.0f%% of the ~60k quorum ops/s that 2 cores allow "+
		"at three round trips of ~10.7 µs CPU each. The nodes spent %.1f µs of CPU per operation "+
		"(olric: 50-55 µs) and the clients %.1f µs more, on the same two cores.",
		best.Mode, best.OpsPerSec(), best.Percentile(99), best.OpsPerSec()/27000,
		100*best.OpsPerSec()/60000, best.ServerCPUPerOp(), best.ClientCPUPerOp())
	if nat != nil && web != nil {
		fast, slow := nat, web
		if web.OpsPerSec() > nat.OpsPerSec() {
			fast, slow = web, nat
		}
		gain := 100 * (fast.OpsPerSec()/slow.OpsPerSec() - 1)
		fmt.Fprintf(&b, " The %s client is %.0f%% faster than the %s one (%.0f vs %.0f ops/s, p99 %.2f vs %.2f ms)",
			fast.Mode, gain, slow.Mode, fast.OpsPerSec(), slow.OpsPerSec(), fast.Percentile(99), slow.Percentile(99))
		if fast.Mode == "http" {
			b.WriteString(", although the client defaults to native: on this machine the native path is the slower one.")
		} else {
			b.WriteString(", which supports native as the client's default.")
		}
	}
	var worst float64
	for _, r := range rs {
		worst = max(worst, r.CPU.Others().Seconds()/r.Elapsed.Seconds())
	}
	if worst > 0.2 {
		fmt.Fprintf(&b, " Other processes used up to %.2f cores during a run, so these figures are pessimistic.", worst)
	}
	b.WriteString("\n")
	return b.String()
}

// WriteSection replaces the Heading section of the README at path with
// section, keeping any in-process subsection it holds, or appends it.
func WriteSection(path, section string) error {
	return ReplaceSection(path, Heading, inProcessHeading, section)
}

// ReplaceSection replaces the section under heading (a "## " line) of the
// markdown file at path with section, its heading included, keeping any
// subsection of it headed keep ("" keeps none); a file without the
// section gets it appended. The file is read right before it is written,
// since others edit it too.
func ReplaceSection(path, heading, keep, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	doc := string(old)
	start, end := sectionBounds(doc, heading)
	if start < 0 {
		if doc != "" && !strings.HasSuffix(doc, "\n") {
			doc += "\n"
		}
		if doc != "" {
			doc += "\n"
		}
		return os.WriteFile(path, []byte(doc+section), 0o644)
	}
	if keep != "" {
		if i := strings.Index(doc[start:end], "\n"+keep); i >= 0 {
			section = strings.TrimRight(section, "\n") + "\n\n" + strings.TrimLeft(doc[start+i:end], "\n")
		}
	}
	if end < len(doc) && !strings.HasSuffix(section, "\n\n") {
		section = strings.TrimRight(section, "\n") + "\n\n"
	}
	return os.WriteFile(path, []byte(doc[:start]+section+doc[end:]), 0o644)
}

// sectionBounds returns where the heading's section starts and where the
// next second-level heading begins; start is -1 if there is none.
func sectionBounds(doc, heading string) (start, end int) {
	start = -1
	if strings.HasPrefix(doc, heading+"\n") {
		start = 0
	} else if i := strings.Index(doc, "\n"+heading+"\n"); i >= 0 {
		start = i + 1
	}
	if start < 0 {
		return -1, -1
	}
	rest := doc[start+len(heading):]
	if i := strings.Index(rest, "\n## "); i >= 0 {
		return start, start + len(heading) + i + 1
	}
	return start, len(doc)
}
