package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// reader reads acknowledged blind writes at R=2 throughout a run, each
// through the live nodes in turn until one answers: every one must be
// found with its value.
type reader struct {
	w                      *workload
	reads, missing, failed int
	errors                 []string
}

func (rd *reader) run(ctx context.Context) {
	for i := 0; ctx.Err() == nil; i++ {
		if op, ok := rd.w.ackedWrite(i * 7919); ok {
			rd.read(op.Key, op.Element, i)
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (rd *reader) read(key, elem string, turn int) {
	live := rd.w.liveNodes()
	var errs []string
	for try := range live {
		n := live[(turn+try)%len(live)]
		elems, _, _, err := rd.w.read(n, key, 2)
		if err != nil {
			errs = append(errs, rd.w.ids[n]+": "+err.Error())
			continue
		}
		rd.reads++
		if !slices.Contains(elems, elem) {
			rd.missing++
			rd.note(fmt.Sprintf("%s through %s: %v, want %s", key, rd.w.ids[n], elems, elem))
		}
		return
	}
	rd.reads++
	rd.failed++
	rd.note(key + ": " + strings.Join(errs, "; "))
}

func (rd *reader) note(s string) {
	if len(rd.errors) < 5 {
		rd.errors = append(rd.errors, s)
	}
}

func (r *run) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := r.w.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v)
}

// postOK posts to u and wants 200.
func (r *run) postOK(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := r.w.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s %s", u, resp.Status, errorText(body))
	}
	return nil
}

// runWithContext runs cmd, killed when ctx ends, and returns its output.
func runWithContext(ctx context.Context, cmd *exec.Cmd) (string, error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return out.String(), ctx.Err()
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
