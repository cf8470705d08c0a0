package node_test

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dynamokv/dynamo/internal/ports"
	"github.com/dynamokv/dynamo/node"
)

// What a Prometheus user looks for is there and counts what happened:
// requests by operation and outcome, their latency, the siblings a read
// returned, the store's size.
func TestMetricsCountRequestsByOperationAndOutcome(t *testing.T) {
	ps, err := ports.Free("127.0.0.1", 2)
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.New(node.Config{ID: "n1", Listen: "127.0.0.1:" + strconv.Itoa(ps[0]), HTTP: "127.0.0.1:" + strconv.Itoa(ps[1]),
		Storage: "memory", Replicas: 1, ReadQuorum: 1, WriteQuorum: 1, LogLevel: "error"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	base := "http://" + n.HTTPAddr()
	for i := range 3 {
		req, _ := http.NewRequest(http.MethodPut, base+"/kv/k"+strconv.Itoa(i), strings.NewReader("v"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("put: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	for _, k := range []string{"k0", "missing"} {
		resp, err := http.Get(base + "/kv/" + k)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	metrics := scrape(t, base+"/metrics")
	var vnodeKeys float64
	for name, v := range metrics {
		if strings.HasPrefix(name, `dynamo_vnode_keys{partition="`) {
			vnodeKeys += v
		}
	}
	if vnodeKeys != 3 {
		t.Errorf("dynamo_vnode_keys sums to %v over the partitions, want the 3 keys put", vnodeKeys)
	}
	for name, want := range map[string]float64{
		`dynamo_requests_total{op="put",outcome="ok"}`:        3,
		`dynamo_requests_total{op="get",outcome="ok"}`:        1,
		`dynamo_requests_total{op="get",outcome="not_found"}`: 1,
		`dynamo_request_duration_seconds_count{op="put"}`:     3,
		`dynamo_read_siblings_count`:                          1,
		`dynamo_store_keys`:                                   3,
		`dynamo_vnodes`:                                       64,
		`dynamo_membership_version`:                           1,
	} {
		if got, ok := metrics[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
}

func scrape(t *testing.T, u string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
				out[line[:i]] = v
			}
		}
	}
	return out
}

// The Grafana dashboard in deploy/ reads only metrics a node exports.
func TestDashboardReadsMetricsTheNodeExports(t *testing.T) {
	dash, err := os.ReadFile("../deploy/grafana/dynamo.json")
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	files, _ := filepath.Glob("metrics*.go")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	names := regexp.MustCompile(`dynamo_[a-z_]+`).FindAllString(string(dash), -1)
	if len(names) == 0 {
		t.Fatal("the dashboard reads no dynamo metric")
	}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
		if !strings.Contains(src.String(), `"`+base+`"`) {
			t.Errorf("the dashboard reads %s, which the node does not export", name)
		}
	}
}

// A node on the log store says what its segments hold.
func TestMetricsShowTheLogStoreOnDisk(t *testing.T) {
	ps, err := ports.Free("127.0.0.1", 2)
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.New(node.Config{ID: "n1", Listen: "127.0.0.1:" + strconv.Itoa(ps[0]), HTTP: "127.0.0.1:" + strconv.Itoa(ps[1]),
		Storage: "log", DataDir: t.TempDir(), Replicas: 1, ReadQuorum: 1, WriteQuorum: 1, LogLevel: "error"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	base := "http://" + n.HTTPAddr()
	req, _ := http.NewRequest(http.MethodPut, base+"/kv/k", strings.NewReader(strings.Repeat("v", 1000)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("put: %v %v", err, resp)
	}
	resp.Body.Close()
	m := scrape(t, base+"/metrics")
	if m["dynamo_store_segments"] < 1 || m["dynamo_store_live_bytes"] < 1000 || m["dynamo_store_disk_bytes"] < m["dynamo_store_live_bytes"] {
		t.Errorf("log store metrics: segments %v, disk bytes %v, live bytes %v; want a segment holding the 1000-byte value",
			m["dynamo_store_segments"], m["dynamo_store_disk_bytes"], m["dynamo_store_live_bytes"])
	}
	if _, ok := m["dynamo_store_merges_total"]; !ok {
		t.Error("no dynamo_store_merges_total")
	}
	if m["dynamo_store_appended_bytes_total"] < 1000 {
		t.Errorf("dynamo_store_appended_bytes_total %v after a 1000-byte write", m["dynamo_store_appended_bytes_total"])
	}
	if _, ok := m["dynamo_store_merge_copied_bytes_total"]; !ok {
		t.Error("no dynamo_store_merge_copied_bytes_total")
	}
}
