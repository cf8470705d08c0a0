package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/dynamokv/dynamo/faults/history"
)

// Config is one run: a fresh cluster, one nemesis, the workload through
// three phases (calm, fault, healed), then convergence and the check.
type Config struct {
	Binary  string // the dynamo binary
	Nodes   int    // cluster size, 3 or more (N=3, R=W=2)
	Nemesis string // one of Nemeses

	Before, Fault, After time.Duration // phase lengths
	Workers              int           // concurrent clients, spread over the nodes
	SetKeys              int           // keys that read-modify-writes share
	Pace                 time.Duration // each worker's pause between operations
	MaxOps               int64         // bound on the run's operations
	Converge             time.Duration // bound on the wait for replicas to agree

	// NodeArgs are passed to every node; the defaults make failures show
	// quickly (a short request timeout).
	NodeArgs []string
	// Dir holds the nodes' data and logs; "" makes a temporary one, kept
	// only when the run fails or Keep is set.
	Dir  string
	Keep bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Defaults fills the zero fields of c.
func (c Config) Defaults() Config {
	if c.Nodes == 0 {
		c.Nodes = 3
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.Before, 3*time.Second)
	def(&c.Fault, 8*time.Second)
	def(&c.After, 4*time.Second)
	def(&c.Pace, 10*time.Millisecond)
	def(&c.Converge, 30*time.Second)
	if c.Workers == 0 {
		c.Workers = 2 * c.Nodes
	}
	if c.SetKeys == 0 {
		c.SetKeys = 8
	}
	if c.MaxOps == 0 {
		c.MaxOps = 100000
	}
	if c.NodeArgs == nil {
		c.NodeArgs = []string{"-n", "3", "-r", "2", "-w", "2", "--partitions", "32", "--timeout", "1s"}
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

// Result is what a run found.
type Result struct {
	Report history.Report
	Hosts  string // where the nodes ran
	// Skipped says why the nemesis could not run here; the report is then
	// empty.
	Skipped   string
	Converged time.Duration // time anti-entropy took after the heal until every partition's replicas had equal roots
	Dir       string        // kept data and logs, "" once removed
	// Logs holds the last lines of each node's log when the run failed.
	Logs map[string]string
	// Errors are the commonest errors of operations that did not succeed.
	Errors []string
	// Suspected is how long after the fault began node n1's failure
	// detector first suspected another node; 0 if it never did.
	Suspected time.Duration
}

// run is the state of one run, which the nemeses act on.
type run struct {
	cfg   Config
	c     *cluster
	links links
	w     *workload
}

func (r *run) victimIndex() int { return 1 % len(r.c.nodes) }
func (r *run) victim() *node    { return r.c.nodes[r.victimIndex()] }

// victims returns n victims spread over the nodes, never n1 (which the run
// watches): n2 and n4 of five, n2 and n3 of three.
func (r *run) victims(n int) []*node {
	step := max(1, (len(r.c.nodes)-1)/n)
	var out []*node
	for i := 0; i < n; i++ {
		out = append(out, r.c.nodes[1+i*step])
	}
	return out
}
func (r *run) snapshot() string { return filepath.Join(r.c.dir, "snapshot") }

// Run runs cfg. Everything it starts (processes, namespaces, links) is
// gone when it returns, also on error or cancellation.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	cfg = cfg.Defaults()
	nm, ok := nemeses[cfg.Nemesis]
	switch {
	case !ok:
		return res, fmt.Errorf("faults: unknown nemesis %q (known: %v)", cfg.Nemesis, Nemeses)
	case cfg.Nodes < 3:
		return res, fmt.Errorf("faults: %d nodes: want 3 or more (N=3)", cfg.Nodes)
	case cfg.Binary == "":
		return res, errors.New("faults: no dynamo binary given")
	}
	h, reason, err := newHosts(cfg.Nodes, fmt.Sprintf("f%d", cfg.Nodes))
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := h.close(); cerr != nil && err == nil {
			err = fmt.Errorf("faults: tear down hosts: %w", cerr)
		}
	}()
	res.Hosts = h.describe()
	if nm.network && h.links() == nil {
		res.Skipped = "needs network namespaces: " + reason
		res.Report.Nodes, res.Report.Nemesis = cfg.Nodes, nm.name
		return res, nil
	}
	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "dynamo-faults-"); err != nil {
			return res, err
		}
	}
	res.Dir = dir
	r := &run{cfg: cfg, links: h.links(), c: newCluster(h, cfg.Binary, dir, cfg.Nodes, cfg.NodeArgs)}
	defer func() {
		r.c.stopAll()
		if !res.Report.Pass() || err != nil {
			res.Logs = map[string]string{}
			for _, n := range r.c.nodes {
				res.Logs[n.id] = n.logTail(40)
			}
		}
		if cfg.Dir == "" && !cfg.Keep && err == nil && res.Report.Pass() {
			_ = os.RemoveAll(dir)
			res.Dir = ""
		}
	}()
	err = r.execute(ctx, nm, &res)
	return res, err
}

func (r *run) execute(ctx context.Context, nm nemesis, res *Result) error {
	cfg := r.cfg
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Log, format+"\n", args...) }
	for _, n := range r.c.nodes {
		if err := r.c.start(n); err != nil {
			return err
		}
	}
	var urls, ids []string
	for i, n := range r.c.nodes {
		urls, ids = append(urls, r.c.httpURL(i)), append(ids, n.id)
	}
	r.w = newWorkload(urls, ids, cfg.SetKeys, cfg.Pace, cfg.MaxOps)
	defer r.w.close()
	readyCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := r.c.waitReady(readyCtx, r.w.hc, r.w.liveNodes())
	cancel()
	if err != nil {
		return err
	}
	logf("%d nodes on %s, nemesis %s: %s", cfg.Nodes, res.Hosts, nm.name, nm.does)

	wctx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	r.w.start = time.Now()
	go func() { r.w.run(wctx, cfg.Workers); close(loadDone) }()
	defer func() { stopLoad(); <-loadDone }()

	phases := phaseLog{since: r.w.since}
	mark := phases.mark
	sleep := func(d time.Duration) error { return sleepCtx(ctx, d) }
	mark("before")
	if nm.prepare != nil {
		if err := sleep(cfg.Before / 2); err != nil {
			return err
		}
		if err := nm.prepare(r); err != nil {
			return fmt.Errorf("prepare %s: %w", nm.name, err)
		}
		if err := sleep(cfg.Before / 2); err != nil {
			return err
		}
	} else if err := sleep(cfg.Before); err != nil {
		return err
	}
	mark("fault")
	faultStart := time.Now()
	if err := nm.start(r); err != nil {
		return fmt.Errorf("start %s: %w", nm.name, err)
	}
	watchCtx, stopWatch := context.WithTimeout(ctx, cfg.Fault)
	defer stopWatch()
	suspected := make(chan time.Duration, 1)
	go func() { suspected <- r.watchSuspicion(watchCtx, faultStart) }()
	logf("  fault on at %v", r.w.since().Round(time.Millisecond))
	if err := sleep(cfg.Fault); err != nil {
		return err
	}
	stopWatch()
	res.Suspected = <-suspected
	mark("healed")
	if err := nm.heal(r); err != nil {
		return fmt.Errorf("heal %s: %w", nm.name, err)
	}
	logf("  healed at %v", r.w.since().Round(time.Millisecond))
	if err := sleep(cfg.After); err != nil {
		return err
	}
	stopLoad()
	<-loadDone
	phases.end(r.w.since())

	// Whatever the nemesis did, every node and link is back before the
	// final reads.
	if r.links != nil {
		if err := r.links.Heal(); err != nil {
			return err
		}
	}
	if err := r.c.restore(); err != nil {
		return err
	}
	readyCtx, cancel = context.WithTimeout(ctx, 30*time.Second)
	err = r.c.waitReady(readyCtx, r.w.hc, r.w.liveNodes())
	cancel()
	if err != nil {
		return fmt.Errorf("after the heal: %w", err)
	}
	ops := r.w.history()
	keys := keysOf(ops, cfg.SetKeys)
	logf("  %d operations; converging %d keys", len(ops), len(keys))
	differing, took, err := r.converge(ctx, keys, cfg.Converge)
	if err != nil {
		return err
	}
	res.Converged = took
	res.Errors = topErrors(ops, 6)
	finals := r.finalReads(keys)
	res.Report = history.Check(history.Input{Ops: ops, Phases: phases.list, Finals: finals, DifferingKeys: differing,
		Nodes: cfg.Nodes, Nemesis: nm.name, Label: fmt.Sprintf("%d nodes, %s", cfg.Nodes, nm.name)})
	logf("  converged in %v, %d keys still differ", took.Round(time.Millisecond), differing)
	return nil
}

// watchSuspicion polls n1's status until its detector suspects another
// node, and returns how long after start that was; 0 if ctx ends first.
func (r *run) watchSuspicion(ctx context.Context, start time.Time) time.Duration {
	for ctx.Err() == nil {
		if suspectsAny(ctx, r.w.hc, r.c.httpURL(0)) {
			return time.Since(start)
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	return 0
}

// keysOf lists every key the run touched: the set keys and every blind
// key attempted, whatever the outcome.
func keysOf(ops []history.Op, setKeys int) []string {
	var keys []string
	for i := 0; i < setKeys; i++ {
		keys = append(keys, setKey(i))
	}
	for _, op := range ops {
		if op.Kind == history.Write {
			keys = append(keys, op.Key)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}
