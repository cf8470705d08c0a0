package history

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// failingReport has something in every list, more lost elements than the
// examples show, and a label that would break a naive line.
func failingReport() Report {
	in := Input{Label: "run\n2", Nemesis: "partition", Nodes: 3, DifferingKeys: 1}
	for i := range 12 {
		in.Ops = append(in.Ops, ok("s1", fmt.Sprintf("lost-%02d", i)))
	}
	in.Ops = append(in.Ops, ok("s1", "kept"), ok("s1", "stale"), failed("s1", "applied"), unknown("s1", "u"), ok("s2", "unverified"))
	in.Finals = []FinalRead{
		read("n1", "s1", "kept", "stale", "applied", "u", "<bogus>"),
		read("n2", "s1", "kept"),
		readErr("n1", "s2"),
	}
	in.Phases = []Phase{{"baseline", 0, time.Second}, {"partition", time.Second, 2 * time.Second}}
	return Check(in)
}

func TestSummaryLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Report
	}{
		{"empty", Check(Input{})},
		{"failing", failingReport()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line := tc.r.SummaryLine()
			if strings.ContainsAny(line, "\n\r") {
				t.Fatalf("SummaryLine has a line break: %q", line)
			}
			body, found := strings.CutPrefix(line, "faults-summary ")
			if !found {
				t.Fatalf("SummaryLine lacks the prefix: %q", line)
			}
			var got struct {
				Label              string   `json:"label"`
				Pass               bool     `json:"pass"`
				Attempted          int      `json:"attempted"`
				Lost               int      `json:"lost"`
				Unexpected         int      `json:"unexpected"`
				Stale              int      `json:"stale"`
				Unverified         int      `json:"unverified"`
				FailedButPresent   int      `json:"failed_but_present"`
				RecoveredUnknown   int      `json:"recovered_unknown"`
				FinalReadErrors    int      `json:"final_read_errors"`
				DifferingKeys      int      `json:"differing_keys"`
				LostExamples       []string `json:"lost_examples"`
				UnexpectedExamples []string `json:"unexpected_examples"`
				Phases             []struct {
					Name         string  `json:"name"`
					Ops          int     `json:"ops"`
					Availability float64 `json:"availability"`
				} `json:"phases"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("SummaryLine is not JSON after the prefix: %v\n%s", err, body)
			}
			r := tc.r
			if got.Label != r.Label || got.Pass != r.Pass() || got.Attempted != r.Attempted ||
				got.Lost != len(r.Lost) || got.Unexpected != len(r.Unexpected) || got.Stale != len(r.Stale) ||
				got.Unverified != len(r.Unverified) || got.FailedButPresent != len(r.FailedButPresent) ||
				got.RecoveredUnknown != r.RecoveredUnknown || got.FinalReadErrors != r.FinalReadErrors ||
				got.DifferingKeys != r.DifferingKeys || len(got.Phases) != len(r.Phases) {
				t.Errorf("summary %+v does not match report %+v", got, r)
			}
			if len(got.LostExamples) != min(len(r.Lost), 10) {
				t.Errorf("lost examples = %q, want the first %d of %q", got.LostExamples, min(len(r.Lost), 10), r.Lost)
			}
			if len(got.UnexpectedExamples) != min(len(r.Unexpected), 10) {
				t.Errorf("unexpected examples = %q, want %q", got.UnexpectedExamples, r.Unexpected)
			}
		})
	}
}

func TestSummaryLineFailingCounts(t *testing.T) {
	line := failingReport().SummaryLine()
	for _, want := range []string{`"pass":false`, `"lost":12`, `"unexpected":1`, `"stale":1`, `"unverified":1`,
		`"failed_but_present":1`, `"recovered_unknown":1`, `"final_read_errors":1`, `"<bogus>"`, `"label":"run\n2"`} {
		if !strings.Contains(line, want) {
			t.Errorf("SummaryLine lacks %s:\n%s", want, line)
		}
	}
	if strings.Contains(line, "lost-10") {
		t.Errorf("SummaryLine quotes more than 10 lost examples:\n%s", line)
	}
}

func TestTable(t *testing.T) {
	tests := []struct {
		name    string
		r       Report
		want    []string
		notWant []string
	}{
		{
			name: "fail names the broken promises",
			r:    failingReport(),
			want: []string{"verdict: FAIL: 12 lost, 1 unexpected, 1 failed but present, 1 unverified",
				"lost                12", `"lost-00"`, `run                 "run\n2"`, "... 2 more", `"<bogus>"`, "partition"},
			notWant: []string{"PASS"},
		},
		{
			name: "pass",
			r: Check(Input{
				Ops:    []Op{{Key: "s1", Element: "a", Start: 0, End: 12 * time.Millisecond}},
				Finals: []FinalRead{read("n1", "s1", "a")},
				Phases: []Phase{{"baseline", 0, time.Second}, {"quiet", time.Second, 2 * time.Second}},
			}),
			want:    []string{"verdict: PASS", "baseline  1    1   0       0        100.0%  12.0    12.0    12.0", "quiet     0    0   0       0        -       -       -       -"},
			notWant: []string{"FAIL", "stale:"},
		},
		{
			name:    "pass with stale notes it",
			r:       Check(Input{Ops: []Op{ok("s1", "a")}, Finals: []FinalRead{read("n1", "s1", "a"), read("n2", "s1")}}),
			want:    []string{"verdict: PASS (1 stale", `stale: "a"`},
			notWant: []string{"FAIL"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := tc.r.Table()
			for _, w := range tc.want {
				if !strings.Contains(table, w) {
					t.Errorf("Table lacks %q:\n%s", w, table)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(table, w) {
					t.Errorf("Table has %q:\n%s", w, table)
				}
			}
		})
	}
}
