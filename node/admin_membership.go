package node

import (
	"fmt"
	"net/http"
	"time"

	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/membership"
	"github.com/dynamokv/dynamo/messages"
)

// leave answers POST /admin/leave?node=ID and, with remove, POST
// /admin/remove?node=ID: the change goes to this node's membership actor,
// which persists it and gossips it on.
func (h *httpAPI) leave(remove bool) http.HandlerFunc {
	path := api.LeavePath
	if remove {
		path = api.RemovePath
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "use POST "+path+"?node=ID")
			return
		}
		n := h.n
		id := r.URL.Query().Get("node")
		if id == "" {
			writeError(w, http.StatusBadRequest, "?node=ID is required: the member that "+map[bool]string{false: "leaves", true: "is removed"}[remove])
			return
		}
		if remove && (id == n.cfg.ID || !n.peers.Suspected(id)) {
			if rec, ok := n.view.State().Record(id); ok && rec.Member() {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("%s is up as far as %s can tell: remove is for a node gone for good, "+
					"whose partitions are rebuilt from the other replicas; use leave to have it hand them over, or stop it first", id, n.cfg.ID))
				return
			}
		}
		const wait = 5 * time.Second
		res, err := call(n.engine, actors.MembershipPID(n.Address()), &messages.LeaveRequest{ID: id, Remove: remove}, wait)
		if err != nil {
			writeError(w, http.StatusGatewayTimeout, fmt.Sprintf("the membership actor did not answer within %v: "+
				"the change may or may not have been made; /status shows the membership", wait))
			return
		}
		reply, ok := res.(*messages.LeaveReply)
		if !ok {
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("the membership actor answered %T", res))
			return
		}
		if reply.Err != "" {
			writeError(w, http.StatusBadRequest, reply.Err)
			return
		}
		writeJSON(w, http.StatusOK, membershipJSON(reply.State))
	}
}

func membershipJSON(s membership.State) api.Membership {
	out := api.Membership{Version: s.Version, Records: []api.MemberRecord{}}
	for _, r := range s.Records {
		out.Records = append(out.Records, api.MemberRecord{ID: r.ID, Addr: r.Addr, HTTP: r.HTTP,
			Joined: r.Joined, Left: r.Left, Removed: r.Removed})
	}
	return out
}
