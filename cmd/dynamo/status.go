package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/client"
)

// clusterRow is one node of `dynamo status`: what the node asked says of
// it (its state) and what the node says of itself.
type clusterRow struct {
	ID         string `json:"id"`
	Peer       string `json:"peer"`
	HTTP       string `json:"http,omitempty"`
	State      string `json:"state"` // as the node asked sees it: self, up, suspected
	Why        string `json:"why,omitempty"`
	Partitions int    `json:"partitions"` // owned, by the ring
	Vnodes     int    `json:"vnodes"`     // held: owned and on their way out
	Keys       int64  `json:"keys"`
	Bytes      int64  `json:"bytes"`
	Hints      int    `json:"hints"`
	Handoffs   int    `json:"handoffs"`
	Filling    int    `json:"filling"`
	Err        string `json:"error,omitempty"` // its own status could not be read
}

// clusterView is `dynamo status --output json`.
type clusterView struct {
	Cluster    string       `json:"cluster"`
	AskedNode  string       `json:"asked"`
	Membership uint64       `json:"membership_version"`
	Partitions int          `json:"partitions"`
	Replicas   int          `json:"replicas"`
	Nodes      []clusterRow `json:"nodes"`
	Left       []string     `json:"left,omitempty"`
	Problems   []string     `json:"problems,omitempty"`
}

// readCluster reads the status of the node asked, then of every member
// it lists, at once.
func readCluster(ctx context.Context, cfg client.Config, st api.Status) clusterView {
	v := clusterView{Cluster: st.Cluster, AskedNode: st.Node, Membership: st.Membership.Version,
		Partitions: st.Partitions, Replicas: st.Replicas, Problems: st.Problems}
	owned := map[string]int{}
	for _, p := range st.Ring {
		for _, id := range p.PreferenceList {
			owned[id]++
		}
	}
	for _, r := range st.Membership.Records {
		if r.Left != 0 {
			how := "left"
			if r.Removed {
				how = "removed"
			}
			v.Left = append(v.Left, fmt.Sprintf("%s (%s at version %d)", r.ID, how, r.Left))
		}
	}
	v.Nodes = make([]clusterRow, len(st.Members))
	var wg sync.WaitGroup
	for i, m := range st.Members {
		row := clusterRow{ID: m.ID, Peer: m.Addr, HTTP: m.HTTP, State: m.State, Why: m.Why, Partitions: owned[m.ID]}
		wg.Add(1)
		go func(i int, row clusterRow) {
			defer wg.Done()
			var own api.Status
			var err error
			if m := st.Members[i]; m.ID == st.Node {
				own = st
			} else if m.HTTP == "" {
				err = fmt.Errorf("its HTTP address is not known yet")
			} else {
				c := cfg
				c.Seeds = []string{"http://" + m.HTTP}
				c.Timeout = min(cfg.Timeout, 2*time.Second)
				own, err = client.ReadStatus(ctx, c)
			}
			if err != nil {
				row.Err = err.Error()
			} else {
				row.Vnodes, row.Keys, row.Bytes = len(own.Vnodes), own.Storage.Keys, own.Storage.Bytes
				row.Handoffs, row.Filling = len(own.Handoffs), own.Filling
				for _, h := range own.Hints {
					row.Hints += h.Held
				}
			}
			v.Nodes[i] = row
		}(i, row)
	}
	wg.Wait()
	return v
}

func printCluster(w io.Writer, v clusterView) {
	fmt.Fprintf(w, "cluster %s, membership version %d, Q=%d N=%d, as %s sees it\n\n", v.Cluster, v.Membership, v.Partitions, v.Replicas, v.AskedNode)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tPEER ADDR\tHTTP\tSTATE\tPARTITIONS\tKEYS\tBYTES\tHINTS\tHANDOFFS\tFILLING")
	for _, r := range v.Nodes {
		state := r.State
		if r.Why != "" {
			state += " (" + r.Why + ")"
		}
		if r.Err != "" {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t-\t-\t-\t-\t-\n", r.ID, r.Peer, orDash(r.HTTP), state, r.Partitions)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%d\t%d\t%d\n", r.ID, r.Peer, orDash(r.HTTP), state, r.Partitions,
			r.Keys, humanBytes(r.Bytes), r.Hints, r.Handoffs, r.Filling)
	}
	tw.Flush()
	for _, r := range v.Nodes {
		if r.Err != "" {
			fmt.Fprintf(w, "%s: no status: %s\n", r.ID, r.Err)
		}
	}
	if len(v.Left) > 0 {
		fmt.Fprintf(w, "no longer members: %s\n", strings.Join(v.Left, ", "))
	}
	if len(v.Problems) == 0 {
		fmt.Fprintln(w, "problems: none")
		return
	}
	fmt.Fprintln(w, "problems:")
	for _, p := range v.Problems {
		fmt.Fprintf(w, "  - %s\n", p)
	}
}

func humanBytes(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}
