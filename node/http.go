package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/version"
)

// httpAPI serves the client API of package api on one node. Handlers run
// on net/http's goroutines, outside the actors: waiting there for a
// coordinator's answer blocks no actor.
type httpAPI struct {
	n *Node
}

func (h *httpAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(api.KeyPrefix, h.kv)
	mux.HandleFunc("/status", h.status)
	mux.HandleFunc(api.LocalPrefix, h.local)
	mux.HandleFunc(api.RepairPath, h.repair)
	mux.HandleFunc(api.RootsPath, h.roots)
	mux.HandleFunc(api.LeavePath, h.leave(false))
	mux.HandleFunc(api.RemovePath, h.leave(true))
	mux.Handle("/metrics", h.n.metrics.handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			serveStatusPage(w, r)
			return
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such path %s: the API is /kv/{key} and /status; / is the status page", r.URL.Path))
	})
	return mux
}

func (h *httpAPI) kv(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, api.KeyPrefix)
	if key == "" {
		writeError(w, http.StatusBadRequest, "empty key: use /kv/{key}")
		return
	}
	// Key size and cluster agreement are the coordinator's to check, for
	// HTTP and native clients alike.
	w.Header().Set(api.RingHeader, strconv.FormatUint(h.n.ringView.Version(), 10))
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.get(w, r, []byte(key))
	case http.MethodPut, http.MethodPost:
		h.put(w, r, []byte(key), false)
	case http.MethodDelete:
		h.put(w, r, []byte(key), true)
	default:
		w.Header().Set("Allow", "GET, PUT, DELETE")
		writeError(w, http.StatusMethodNotAllowed, r.Method+" is not supported on keys: use GET, PUT or DELETE")
	}
}

func (h *httpAPI) put(w http.ResponseWriter, r *http.Request, key []byte, del bool) {
	wq, err := quorumParam(r, "w", h.n.cfg.Replicas)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	pw, err := quorumParam(r, "pw", h.n.cfg.Replicas)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, also, err := version.DecodeContext(r.Header.Get(api.ContextHeader))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("header %s: %v", api.ContextHeader, err))
		return
	}
	if del && len(ctx) == 0 && len(also) == 0 {
		writeError(w, http.StatusBadRequest, "delete needs the context of a read: send it in "+api.ContextHeader)
		return
	}
	var value []byte
	if !del {
		value, err = io.ReadAll(http.MaxBytesReader(w, r.Body, int64(h.n.cfg.MaxValueSize)))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("value is over the limit of %d bytes", h.n.cfg.MaxValueSize))
			return
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("read value: %v", err))
			return
		}
	}
	msg := &messages.ClientPut{Key: key, Value: value, Context: ctx, Also: also, Delete: del, W: wq, PW: pw}
	res, err := h.n.request(key, msg)
	if err != nil {
		// The coordinator, or the node it forwarded to, may have stored it.
		writeUnknown(w, http.StatusGatewayTimeout, "outcome unknown, the write may have been applied: "+err.Error())
		return
	}
	reply, ok := res.(*messages.ClientPutReply)
	if !ok {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("coordinator answered %T", res))
		return
	}
	if reply.Status != messages.StatusOK {
		if reply.Unknown {
			writeUnknown(w, reply.Status, reply.Err)
		} else {
			writeError(w, reply.Status, reply.Err)
		}
		return
	}
	w.Header().Set(api.ContextHeader, version.EncodeContext(reply.Context, reply.Also))
	if del {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (h *httpAPI) get(w http.ResponseWriter, r *http.Request, key []byte) {
	rq, err := quorumParam(r, "r", h.n.cfg.Replicas)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	pr, err := quorumParam(r, "pr", h.n.cfg.Replicas)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := h.n.request(key, &messages.ClientGet{Key: key, R: rq, PR: pr})
	if err != nil {
		writeError(w, http.StatusGatewayTimeout, err.Error())
		return
	}
	reply, ok := res.(*messages.ClientGetReply)
	if !ok {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("coordinator answered %T", res))
		return
	}
	ctx := version.EncodeContext(reply.Context, reply.Also)
	if ctx != "" {
		// A 404 still carries the tombstones' context, so a client can
		// write over a delete without losing causality.
		w.Header().Set(api.ContextHeader, ctx)
	}
	switch {
	case reply.Status == messages.StatusNotFound:
		writeError(w, http.StatusNotFound, "key not found")
	case reply.Status != messages.StatusOK:
		writeError(w, reply.Status, reply.Err)
	case len(reply.Values) == 1 && !wantsJSON(r):
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(reply.Values[0])
	default:
		code := http.StatusOK
		if len(reply.Values) > 1 {
			code = http.StatusMultipleChoices
		}
		writeJSON(w, code, api.Siblings{Context: ctx, Siblings: reply.Values})
	}
}

func (h *httpAPI) status(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "use GET /status")
		return
	}
	writeJSON(w, http.StatusOK, h.n.Status())
}

// request sends msg to one of the node's coordinators and waits for the
// answer. The wait outlasts the coordinator's own timeout (which answers
// 503), so a 504 here means the coordinator, or the node it forwarded to,
// never answered.
func (n *Node) request(key []byte, msg any) (any, error) {
	pid := n.coordinators[actors.CoordinatorFor(key, len(n.coordinators))]
	wait := 2*n.cfg.RequestTimeout + 500*time.Millisecond
	res, err := call(n.engine, pid, msg, wait)
	if err != nil {
		return nil, fmt.Errorf("no answer from the coordinator within %v", wait)
	}
	return res, nil
}

func quorumParam(r *http.Request, name string, replicas int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > replicas {
		return 0, fmt.Errorf("?%s=%s: want a number from 1 to N=%d", name, s, replicas)
	}
	return v, nil
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	if code < 400 || code > 599 {
		code = http.StatusInternalServerError
	}
	writeJSON(w, code, api.Error{Error: msg})
}

// writeUnknown answers a write that failed but may have been stored.
func writeUnknown(w http.ResponseWriter, code int, msg string) {
	if code < 400 || code > 599 {
		code = http.StatusInternalServerError
	}
	w.Header().Set(api.OutcomeHeader, api.OutcomeUnknown)
	writeJSON(w, code, api.Error{Error: msg, Outcome: api.OutcomeUnknown})
}
