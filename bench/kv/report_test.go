package kv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The README is shared: a rewrite must leave the other sections, and the
// hand-written in-process subsection of ours, as they were.
func TestWriteSectionKeepsTheRest(t *testing.T) {
	cases := []struct{ name, before, want string }{
		{"missing file", "", "## Key-value path\n\nnew\n"},
		{"appended", "# Bench\n\n## Transport\n\nt\n", "# Bench\n\n## Transport\n\nt\n\n## Key-value path\n\nnew\n"},
		{"replaced at the end",
			"# Bench\n\n## Key-value path\n\nold\n",
			"# Bench\n\n## Key-value path\n\nnew\n"},
		{"replaced in the middle",
			"# Bench\n\n## Key-value path\n\nold\n\n## Transport\n\nt\n",
			"# Bench\n\n## Key-value path\n\nnew\n\n## Transport\n\nt\n"},
		{"in-process kept",
			"## Key-value path\n\nold\n\n### In process\n\nfigures\n\n## Later\n",
			"## Key-value path\n\nnew\n\n### In process\n\nfigures\n\n## Later\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "README.md")
			if c.before != "" {
				if err := os.WriteFile(path, []byte(c.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteSection(path, Heading+"\n\nnew\n"); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}

func TestComparisonNamesTheFasterClient(t *testing.T) {
	mk := func(mode string, ops int64) *Result {
		r := &Result{Mode: mode, Workload: Mixed.Name, Ops: ops, Elapsed: time.Second, Latency: newHist()}
		_ = r.Latency.RecordValue(2000)
		return r
	}
	got := Comparison([]*Result{mk("native", 10000), mk("http", 15000)})
	for _, want := range []string{"faster client (http) reached 15000 ops/s", "http client is 50% faster than the native one",
		"although the client defaults to native"} {
		if !strings.Contains(got, want) {
			t.Errorf("comparison lacks %q:\n%s", want, got)
		}
	}
}

func TestReplaceSectionKeepsTheOtherSections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	if err := os.WriteFile(path, []byte("# T\n\n## A\n\nold\n\n## B\n\nkept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceSection(path, "## A", "", "## A\n\nnew\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "# T\n\n## A\n\nnew\n\n## B\n\nkept\n"; string(got) != want {
		t.Errorf("after the rewrite:\n%q\nwant\n%q", got, want)
	}
}
