package main

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"
)

const sectionTitle = "Side by side with olric"

// figures are the medians over rounds of one workload of one store.
type figures struct {
	opsPerSec, p50, p99, p999, serverUs, clientUs, others float64
	errors                                                int64
	n                                                     int
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return d.Seconds() * 1000 }

func summarize(rows []measured) figures {
	var ops, p50, p99, p999, srv, cli, oth []float64
	var f figures
	for _, r := range rows {
		ops = append(ops, r.res.OpsPerSec)
		p50 = append(p50, ms(r.res.All.P50))
		p99 = append(p99, ms(r.res.All.P99))
		p999 = append(p999, ms(r.res.All.P999))
		srv = append(srv, r.serverUs)
		cli = append(cli, r.clientUs)
		oth = append(oth, r.others)
		f.errors += r.res.All.Errors
	}
	f.opsPerSec, f.p50, f.p99, f.p999 = median(ops), median(p50), median(p99), median(p999)
	f.serverUs, f.clientUs, f.others, f.n = median(srv), median(cli), median(oth), len(rows)
	return f
}

// report is the markdown table: one row per value size and workload, the
// two stores side by side.
func report(o options, rows []measured) string {
	type key struct {
		value int
		name  string
	}
	var keys []key
	groups := map[key]map[string][]measured{}
	for _, r := range rows {
		k := key{r.value, r.res.Name()}
		if groups[k] == nil {
			groups[k] = map[string][]measured{}
			keys = append(keys, k)
		}
		groups[k][r.store] = append(groups[k][r.store], r)
	}
	var b strings.Builder
	b.WriteString("| value | workload | dynamo ops/s | olric ops/s | ratio | dynamo p50 / p99 / p99.9 ms | olric p50 / p99 / p99.9 ms | server CPU µs/op (dynamo, olric) | client CPU µs/op (dynamo, olric) |\n")
	b.WriteString("|---:|---|---:|---:|---:|---|---|---|---|\n")
	for _, k := range keys {
		d, ol := summarize(groups[k]["dynamo"]), summarize(groups[k]["olric"])
		ratio := "–"
		if ol.opsPerSec > 0 && d.n > 0 {
			ratio = fmt.Sprintf("%.2fx", d.opsPerSec/ol.opsPerSec)
		}
		fmt.Fprintf(&b, "| %d B | %s | %.0f | %.0f | %s | %.2f / %.2f / %.2f | %.2f / %.2f / %.2f | %.1f, %.1f | %.1f, %.1f |\n",
			k.value, k.name, d.opsPerSec, ol.opsPerSec, ratio, d.p50, d.p99, d.p999, ol.p50, ol.p99, ol.p999,
			d.serverUs, ol.serverUs, d.clientUs, ol.clientUs)
	}
	var others []float64
	for _, r := range rows {
		others = append(others, r.others)
	}
	fmt.Fprintf(&b, "\nOther load on the machine meanwhile (median): %.2f cores.\n", median(others))
	return b.String()
}

func section(o options, table string) string {
	var names []string
	for _, w := range o.workloads {
		names = append(names, strings.ToUpper(w.Name))
	}
	var dists []string
	for _, d := range o.dists {
		dists = append(dists, string(d))
	}
	return fmt.Sprintf(`Three node processes of this store (%s storage, N=3, R=W=2, siblings
and read repair on, the Go client in native mode) against three olric v0.7.4
members (3 copies, read and write quorum 2, synchronous replication, its
cluster client), both driven by the same YCSB load generator (bench/ycsb) with
%d clients, one request each in flight, %d records of 16-byte keys; workloads
%s after a load, %s keys. The stores alternate round by round (%d rounds each,
a fresh cluster every round); figures are medians over rounds. Server CPU is
the user+system time of the three server processes over the measured window
divided by the operations; client CPU is that of the load generator.
%s of warm-up, then %s measured per workload.

Measured %s on %d cores, %s, clients and servers on the same cores:

`+"```sh\nmake bench   # or: cd bench/olric && go run ./cmd/sidebyside -bin ../../bin/dynamo -readme -readme-file ../README.md\n```"+`

%s`, o.storage, o.cfg.Clients, o.cfg.Records, strings.Join(names, ", "), strings.Join(dists, " and "), o.rounds,
		o.warmup, o.cfg.Duration, time.Now().Format("2006-01-02"), runtime.NumCPU(), runtime.Version(), table)
}
