package main

import (
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// dynamo bench loads a running cluster, runs workloads against it, prints
// a summary of every workload and kind of operation, and draws the run.
func TestBenchCommandMeasuresARunningCluster(t *testing.T) {
	c := startCluster(t, 3)
	plot := filepath.Join(t.TempDir(), "run.png")
	cmd := exec.Command(binary, "bench", "--node", "http://"+c.nodes[0].http, "--workloads", "load,a,f",
		"--distribution", "uniform,zipfian", "--records", "300", "--clients", "8", "--duration", "1s", "--warmup", "0s",
		"--plot", plot)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dynamo bench: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	for _, row := range []string{"load     all", "a uniform     all", "a uniform  update", "f zipfian     rmw", "plot: " + plot} {
		if !strings.Contains(string(out), row) {
			t.Errorf("the summary has no row %q:\n%s", row, out)
		}
	}
	if !strings.Contains(stderr.String(), "[load] done: ") || !strings.Contains(stderr.String(), "[f zipfian] done: ") {
		t.Errorf("no progress on stderr:\n%s", stderr.String())
	}
	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("--plot wrote no PNG: %v", err)
	}
}

func TestBenchCommandRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--workloads", "a,e"}, `workload "e": want load, a, b, c, d or f`},
		{[]string{"--distribution", "hotspot"}, `distribution "hotspot": want uniform or zipfian`},
		{[]string{"--records", "0"}, "--records 0: want at least 1"},
		{[]string{"--plot", "run.svg"}, "--plot run.svg: name a .png file"},
		{[]string{"extra"}, "want 0 argument(s)"},
	} {
		out, err := exec.Command(binary, append([]string{"bench"}, tc.args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) || !strings.HasSuffix(string(out), "\n") {
			t.Errorf("dynamo bench %v: %v, %q; want an error saying %q", tc.args, err, out, tc.want)
		}
	}
}
