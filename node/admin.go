package node

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anthdm/hollywood/actor"

	"github.com/cespare/xxhash/v2"
	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/version"
)

// local answers GET /admin/local/{key}: this node's own copy of a key, as
// its vnode holds it, without asking any other replica. Operators and the
// fault suite use it to see whether replicas agree.
func (h *httpAPI) local(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "use GET "+api.LocalPrefix+"{key}")
		return
	}
	key := strings.TrimPrefix(r.URL.Path, api.LocalPrefix)
	if key == "" {
		writeError(w, http.StatusBadRequest, "empty key: use "+api.LocalPrefix+"{key}")
		return
	}
	n := h.n
	p := n.Ring().PartitionOf([]byte(key))
	if !slices.Contains(n.partView.Held(), uint32(p)) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("node %s holds no replica of partition %d (its replicas: %s)",
			n.cfg.ID, p, strings.Join(n.Ring().PreferenceList(p), ", ")))
		return
	}
	res, err := call(n.engine, actors.VnodePID(n.Address(), uint32(p)),
		&messages.ReplicaGet{ReqID: 1, Partition: uint32(p), Key: []byte(key)}, n.cfg.RequestTimeout)
	if err != nil {
		writeError(w, http.StatusGatewayTimeout, fmt.Sprintf("vnode %d did not answer within %v", p, n.cfg.RequestTimeout))
		return
	}
	reply, ok := res.(*messages.ReplicaGetReply)
	if !ok {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("vnode answered %T", res))
		return
	}
	if reply.Err != "" {
		writeError(w, http.StatusInternalServerError, reply.Err)
		return
	}
	writeJSON(w, http.StatusOK, localCopy(n.cfg.ID, p, reply.Versions))
}

func localCopy(node string, p int, s version.Siblings) api.LocalCopy {
	out := api.LocalCopy{Node: node, Partition: p, Versions: []api.LocalVersion{}}
	for _, v := range s {
		out.Versions = append(out.Versions, api.LocalVersion{
			Dot: v.Dot.String(), Context: v.Context.String(), Deleted: v.Deleted, Value: v.Value,
		})
	}
	// Sets are kept in canonical order, so equal sets encode alike.
	if raw, err := s.MarshalBinary(); err == nil && len(s) > 0 {
		out.Digest = strconv.FormatUint(xxhash.Sum64(raw), 16)
	}
	return out
}

// repair answers POST /admin/repair[?partition=P]: anti-entropy now, with
// every other replica that is up, and what it found.
func (h *httpAPI) repair(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "use POST "+api.RepairPath+"[?partition=P]")
		return
	}
	n := h.n
	p := -1
	if s := r.URL.Query().Get("partition"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || v >= n.cfg.Partitions {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("?partition=%s: want a number from 0 to %d", s, n.cfg.Partitions-1))
			return
		}
		if !slices.Contains(n.partView.Held(), uint32(v)) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("node %s holds no replica of partition %d (its replicas: %s)",
				n.cfg.ID, v, strings.Join(n.Ring().PreferenceList(v), ", ")))
			return
		}
		p = v
	}
	const wait = 5 * time.Minute
	res, err := call(n.engine, actor.NewPID(n.Address(), actors.SyncerKind+"/"+actors.SyncerID), &actors.RepairRequest{Partition: p}, wait)
	if err != nil {
		writeError(w, http.StatusGatewayTimeout, fmt.Sprintf("the repair did not end within %v; /status shows each partition's last exchange", wait))
		return
	}
	out := api.Repair{Exchanges: []api.Exchange{}}
	for _, rec := range res.(*actors.RepairResult).Exchanges {
		out.Exchanges = append(out.Exchanges, exchangeJSON(rec))
	}
	writeJSON(w, http.StatusOK, out)
}

// roots answers GET /admin/roots: each local partition's Merkle root.
func (h *httpAPI) roots(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "use GET "+api.RootsPath)
		return
	}
	n := h.n
	out := api.Roots{Node: n.cfg.ID, Roots: map[uint32]string{}}
	for _, p := range n.partView.Held() {
		res, err := call(n.engine, actors.VnodePID(n.Address(), p), &messages.TreeRequest{ReqID: 1, Partition: p}, n.cfg.RequestTimeout)
		reply, ok := res.(*messages.TreeReply)
		if err != nil || !ok || reply.Err != "" || len(reply.Hashes) != 1 {
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("partition %d's tree did not answer", p))
			return
		}
		out.Roots[p] = strconv.FormatUint(uint64(reply.Hashes[0]), 16)
	}
	writeJSON(w, http.StatusOK, out)
}
