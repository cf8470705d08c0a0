package faults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/faults/history"
)

// The membership run: under the workload and a reader, three nodes grow
// to five by two joins, shrink to four by a leave, and to three when a
// node killed with kill -9 is removed. Before the load, two nodes that
// disagree with the cluster (another Q, another cluster name) try to join
// and must be refused, changing nothing.

// MembershipResult is what a membership run found.
type MembershipResult struct {
	Result
	// Steps are the membership changes, each with the time from the
	// command to every node settled (same membership, no handoff left,
	// nothing being filled).
	Steps []Step
	// Refused are the errors the joins that must fail got; empty when
	// one was let in.
	Refused []string
	// Reads are the reader's reads of acknowledged writes at R=2; Missing
	// found the key without its value, ReadFailed got no answer from any
	// node; ReadErrors quotes a few.
	Reads, Missing, ReadFailed int
	ReadErrors                 []string
	// TreeBuilds is the Merkle trees the final members built from stored
	// keys (0: every tree moved with its keys).
	TreeBuilds uint64
	Problems   []string // what else went wrong; empty on a pass
}

// Step is one membership change.
type Step struct {
	Name    string
	Settled time.Duration
}

// Pass reports whether the run kept every promise.
func (m MembershipResult) Pass() bool {
	return m.Report.Pass() && m.Missing == 0 && m.ReadFailed == 0 && m.TreeBuilds == 0 && len(m.Problems) == 0
}

// RunMembership runs the membership changes; cfg's Nemesis and Nodes are
// ignored (five hosts, three nodes to start).
func RunMembership(ctx context.Context, cfg Config) (res MembershipResult, err error) {
	cfg.Nodes, cfg.Nemesis = 5, "membership"
	cfg = cfg.Defaults()
	if cfg.Binary == "" {
		return res, errors.New("faults: no dynamo binary given")
	}
	h, _, err := newHosts(cfg.Nodes, "m5")
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := h.close(); cerr != nil && err == nil {
			err = fmt.Errorf("faults: tear down hosts: %w", cerr)
		}
	}()
	res.Hosts = h.describe()
	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "dynamo-membership-"); err != nil {
			return res, err
		}
	}
	res.Dir = dir
	r := &run{cfg: cfg, links: h.links(), c: newCluster(h, cfg.Binary, dir, cfg.Nodes, cfg.NodeArgs)}
	r.c.initial = 3
	defer func() {
		r.c.stopAll()
		if !res.Pass() || err != nil {
			res.Logs = map[string]string{}
			for _, n := range r.c.nodes {
				res.Logs[n.id] = n.logTail(40)
			}
		}
		if cfg.Dir == "" && !cfg.Keep && err == nil && res.Pass() {
			_ = os.RemoveAll(dir)
			res.Dir = ""
		}
	}()
	err = r.changeMembership(ctx, &res)
	return res, err
}

func (r *run) changeMembership(ctx context.Context, res *MembershipResult) error {
	cfg := r.cfg
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Log, format+"\n", args...) }
	var urls, ids []string
	for i, n := range r.c.nodes {
		urls, ids = append(urls, r.c.httpURL(i)), append(ids, n.id)
	}
	r.w = newWorkload(urls, ids, cfg.SetKeys, cfg.Pace, cfg.MaxOps)
	defer r.w.close()
	r.w.setLive([]int{0, 1, 2})
	for _, n := range r.c.nodes[:3] {
		if err := r.c.start(n); err != nil {
			return err
		}
	}
	if err := r.ready(ctx); err != nil {
		return err
	}
	logf("3 nodes of 5 hosts on %s: join, join, leave, kill -9 and remove, under load", res.Hosts)

	refused, err := r.badJoins(ctx)
	if err != nil {
		return err
	}
	res.Refused = refused

	wctx, stopLoad := context.WithCancel(ctx)
	loadDone, readDone := make(chan struct{}), make(chan struct{})
	r.w.start = time.Now()
	go func() { r.w.run(wctx, cfg.Workers); close(loadDone) }()
	rd := &reader{w: r.w}
	go func() { rd.run(wctx); close(readDone) }()
	defer func() { stopLoad(); <-loadDone; <-readDone }()

	phases := phaseLog{since: r.w.since}
	mark := phases.mark
	sleep := func(d time.Duration) error { return sleepCtx(ctx, d) }
	step := func(name string, change func() error) error {
		mark(name)
		start := time.Now()
		if err := change(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := r.settle(ctx, cfg.Converge); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		took := time.Since(start)
		res.Steps = append(res.Steps, Step{Name: name, Settled: took})
		logf("  %s: settled in %v", name, took.Round(time.Millisecond))
		return sleep(cfg.Fault / 2)
	}

	mark("3 nodes")
	if err := sleep(cfg.Before); err != nil {
		return err
	}
	for _, i := range []int{3, 4} {
		if err := step("join "+r.c.nodes[i].id, func() error { return r.join(ctx, i) }); err != nil {
			return err
		}
	}
	if err := step("leave n3", func() error { return r.leave(ctx, 2) }); err != nil {
		return err
	}
	if err := step("kill -9 n2, remove", func() error { return r.killAndRemove(ctx, 1) }); err != nil {
		return err
	}
	mark("3 nodes again")
	if err := sleep(cfg.After); err != nil {
		return err
	}
	stopLoad()
	<-loadDone
	<-readDone
	phases.end(r.w.since())
	res.Reads, res.Missing, res.ReadFailed, res.ReadErrors = rd.reads, rd.missing, rd.failed, rd.errors

	ops := r.w.history()
	keys := keysOf(ops, cfg.SetKeys)
	logf("  %d operations, %d reads of acknowledged writes; converging %d keys", len(ops), rd.reads, len(keys))
	differing, took, err := r.converge(ctx, keys, cfg.Converge)
	if err != nil {
		return err
	}
	res.Converged = took
	res.Errors = topErrors(ops, 6)
	finals := r.finalReads(keys)
	res.Report = history.Check(history.Input{Ops: ops, Phases: phases.list, Finals: finals, DifferingKeys: differing,
		Nodes: cfg.Nodes, Nemesis: "membership", Label: "3→5→3 nodes, membership"})
	for _, i := range r.w.liveNodes() {
		st, err := r.status(ctx, i)
		if err != nil {
			return err
		}
		res.TreeBuilds += st.TreeBuilds
	}
	if len(res.Refused) != 2 {
		res.Problems = append(res.Problems, fmt.Sprintf("a join that must fail was let in (%d refused of 2)", len(res.Refused)))
	}
	return nil
}

// ready waits until the live nodes see each other.
func (r *run) ready(ctx context.Context) error {
	readyCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return r.c.waitReady(readyCtx, r.w.hc, r.w.liveNodes())
}

func (r *run) status(ctx context.Context, i int) (api.Status, error) {
	var st api.Status
	err := r.getJSON(ctx, r.c.httpURL(i)+"/status", &st)
	return st, err
}

// settle waits until every live node holds the same membership, has no
// handoff left and nothing being filled, and the nodes that left hold no
// partition.
func (r *run) settle(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		why := r.unsettled(ctx)
		if why == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not settled within %v: %s", limit, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (r *run) unsettled(ctx context.Context) string {
	version := uint64(0)
	for _, i := range r.w.liveNodes() {
		st, err := r.status(ctx, i)
		switch {
		case err != nil:
			return err.Error()
		case version != 0 && st.Membership.Version != version:
			return fmt.Sprintf("%s is on membership version %d, another on %d", st.Node, st.Membership.Version, version)
		case len(st.Handoffs) > 0:
			return fmt.Sprintf("%s hands %d partitions over", st.Node, len(st.Handoffs))
		case st.Filling > 0:
			return fmt.Sprintf("%s is filling %d partitions", st.Node, st.Filling)
		case len(st.Members) != len(r.w.liveNodes()):
			return fmt.Sprintf("%s lists %d members", st.Node, len(st.Members))
		}
		version = st.Membership.Version
	}
	return ""
}

// join starts node i, which joins through n1, and has clients use it.
func (r *run) join(ctx context.Context, i int) error {
	if err := r.c.start(r.c.nodes[i]); err != nil {
		return err
	}
	nodes := append(slices.Clone(r.w.liveNodes()), i)
	readyCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := r.c.waitReady(readyCtx, r.w.hc, nodes); err != nil {
		return err
	}
	r.w.setLive(nodes) // clients use it once it serves
	return nil
}

// leave has node i leave (through n1), waits until it holds nothing and
// stops it. Clients stop using it at once, as an operator would move them.
func (r *run) leave(ctx context.Context, i int) error {
	r.w.setLive(slices.DeleteFunc(slices.Clone(r.w.liveNodes()), func(j int) bool { return j == i }))
	if err := r.postOK(ctx, r.c.httpURL(0)+api.LeavePath+"?node="+r.c.nodes[i].id); err != nil {
		return err
	}
	deadline := time.Now().Add(r.cfg.Converge)
	for {
		st, err := r.status(ctx, i)
		if err == nil && len(st.Vnodes) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s still holds partitions after %v (%v)", r.c.nodes[i].id, r.cfg.Converge, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	r.c.terminate(r.c.nodes[i])
	return nil
}

// killAndRemove kills node i with kill -9 and, once n1 suspects it,
// removes it.
func (r *run) killAndRemove(ctx context.Context, i int) error {
	r.w.setLive(slices.DeleteFunc(slices.Clone(r.w.liveNodes()), func(j int) bool { return j == i }))
	r.c.kill(r.c.nodes[i])
	deadline := time.Now().Add(10 * time.Second)
	for !suspectsAny(ctx, r.w.hc, r.c.httpURL(0)) {
		if time.Now().After(deadline) {
			return fmt.Errorf("n1 does not suspect %s 10s after kill -9", r.c.nodes[i].id)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return r.postOK(ctx, r.c.httpURL(0)+api.RemovePath+"?node="+r.c.nodes[i].id)
}

// badJoins starts two nodes that must be refused, one with another Q and
// one with another cluster name, on the host of a node yet to join; each
// must exit with an error saying why, and the membership stay as it was.
func (r *run) badJoins(ctx context.Context) ([]string, error) {
	before, err := r.status(ctx, 0)
	if err != nil {
		return nil, err
	}
	var refused []string
	for _, bad := range [][]string{{"--partitions", "64"}, {"--cluster", "other"}} {
		args := []string{"node", "--id", "intruder", "--listen", r.c.peerAddr(4),
			"--data", filepath.Join(r.c.dir, "intruder-"+bad[0][2:]), "--join", r.c.peerAddr(0),
			"--join-timeout", "3s", "--log-format", "json"}
		args = append(append(args, r.cfg.NodeArgs...), bad...)
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		cmd := r.c.hosts.command(4, r.c.binary, args...)
		out, err := runWithContext(cctx, cmd)
		cancel()
		if err == nil {
			return refused, fmt.Errorf("a node with %v joined", bad)
		}
		refused = append(refused, lastLine(out))
	}
	after, err := r.status(ctx, 0)
	if err != nil {
		return nil, err
	}
	if after.Membership.Version != before.Membership.Version {
		return refused, fmt.Errorf("the refused joins changed the membership from version %d to %d",
			before.Membership.Version, after.Membership.Version)
	}
	return refused, nil
}
