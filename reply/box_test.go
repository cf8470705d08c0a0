package reply_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/reply"
)

// replyBoxChildEnv makes the test binary print the name of its first reply
// box and exit, as a freshly started process would name it.
const replyBoxChildEnv = "DYNAMO_TEST_REPLY_BOX_CHILD"

func TestReplyBoxChild(t *testing.T) {
	if os.Getenv(replyBoxChildEnv) == "" {
		t.Skip("run by TestReplyBoxNamesDifferAcrossRestarts")
	}
	e, err := actor.NewEngine(actor.NewEngineConfig())
	if err != nil {
		t.Fatal(err)
	}
	box := reply.New(e)
	defer box.Close()
	fmt.Printf("box=%s\n", box.PID().ID)
}

// A reply in flight to a box of a process that has since restarted at the
// same address must find no box: were boxes named by a counter alone, the
// restarted process's first request would wait under the same name and
// take the stale reply for its own.
func TestReplyBoxNamesDifferAcrossRestarts(t *testing.T) {
	names := map[string]bool{}
	for i := 0; i < 3; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReplyBoxChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), replyBoxChildEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child process: %v\n%s", err, out)
		}
		_, after, ok := strings.Cut(string(out), "box=")
		if !ok {
			t.Fatalf("child printed no box name:\n%s", out)
		}
		name := strings.Fields(after)[0]
		if names[name] {
			t.Fatalf("two starts named their first reply box %s", name)
		}
		names[name] = true
	}
}
