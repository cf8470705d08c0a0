package node

import (
	_ "embed"
	"net/http"
)

// statusPage is the page every node serves at GET /: the cluster as this
// node sees it, drawn in the browser from GET /status, which the page
// reads again every two seconds. It is one file with no outside assets,
// so it works where the node's port is all an operator can reach.
//
//go:embed statuspage.html
var statusPage []byte

func serveStatusPage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, r.Method+" is not supported on the status page: use GET")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// The page runs only its own inline script and reads only this node.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'")
	_, _ = w.Write(statusPage)
}
