package netlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ErrUnsupported is wrapped by the errors of New and CleanStale when the
// machine cannot host a lab (not root, a command or a kernel feature
// missing). errors.Is also matches it with errors.ErrUnsupported.
var ErrUnsupported error = unsupported{}

type unsupported struct{}

func (unsupported) Error() string        { return "netlab: not supported on this machine" }
func (unsupported) Is(target error) bool { return target == errors.ErrUnsupported }

// cmdTimeout bounds every command the lab runs, so a wedged ip or nft
// cannot hang a test run.
const cmdTimeout = 15 * time.Second

// tools holds the resolved paths of the commands the lab drives.
type tools struct {
	ip, nft string
}

// findTools checks for root and the two commands. The sbin directories are
// tried as well because they are often missing from PATH.
func findTools() (tools, error) {
	if uid := os.Geteuid(); uid != 0 {
		return tools{}, fmt.Errorf("%w: needs root to create network namespaces (running as uid %d)", ErrUnsupported, uid)
	}
	var t tools
	var missing []string
	for _, c := range []struct {
		name string
		dst  *string
	}{{"ip", &t.ip}, {"nft", &t.nft}} {
		p, err := lookPath(c.name)
		if err != nil {
			missing = append(missing, c.name)
			continue
		}
		*c.dst = p
	}
	if len(missing) > 0 {
		return tools{}, fmt.Errorf("%w: command %s not found in PATH, /usr/sbin or /sbin (install iproute2 and nftables)",
			ErrUnsupported, strings.Join(missing, " and "))
	}
	return t, nil
}

func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := dir + "/" + name
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// cmdError is a failed command with what it printed, so an operator sees
// the kernel's complaint and not just an exit status.
type cmdError struct {
	args []string
	out  string
	err  error
}

func (e *cmdError) Error() string {
	msg := fmt.Sprintf("%s: %v", strings.Join(e.args, " "), e.err)
	if out := strings.TrimSpace(e.out); out != "" {
		msg += ": " + out
	}
	return msg
}

func (e *cmdError) Unwrap() error { return e.err }

// run runs prog without a shell, feeding it stdin when not empty, and
// returns its combined output.
func run(stdin, prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("no answer after %v: %w", cmdTimeout, ctx.Err())
	}
	if err != nil {
		return out.String(), &cmdError{args: append([]string{prog}, args...), out: out.String(), err: err}
	}
	return out.String(), nil
}

// outputHas reports whether err is a failed command whose output contains
// one of the markers.
func outputHas(err error, markers ...string) bool {
	var ce *cmdError
	if !errors.As(err, &ce) {
		return false
	}
	for _, m := range markers {
		if strings.Contains(ce.out, m) {
			return true
		}
	}
	return false
}

// isGone reports whether a delete failed only because the object was
// already gone, which teardown treats as done.
func isGone(err error) bool {
	return outputHas(err, "No such file or directory", "Cannot find device", "does not exist")
}

// unsupportedIf marks err as ErrUnsupported when its output shows that the
// machine lacks a privilege or a kernel feature, with a hint at which.
func unsupportedIf(err error, hint string, markers ...string) error {
	if err != nil && outputHas(err, markers...) {
		return fmt.Errorf("%w: %s: %w", ErrUnsupported, hint, err)
	}
	return err
}
