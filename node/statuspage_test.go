package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/internal/ports"
	"github.com/dynamokv/dynamo/node"
)

// chromium finds a headless-capable Chromium or Chrome, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func startCluster(t *testing.T, ids ...string) []*node.Node {
	t.Helper()
	ps, err := ports.Free("127.0.0.1", 2*len(ids))
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for i, id := range ids {
		members = append(members, id+"=127.0.0.1:"+strconv.Itoa(ps[2*i]))
	}
	replicas := min(3, len(ids))
	var out []*node.Node
	for i, id := range ids {
		n, err := node.New(node.Config{ID: id, Listen: "127.0.0.1:" + strconv.Itoa(ps[2*i]),
			HTTP: "127.0.0.1:" + strconv.Itoa(ps[2*i+1]), Members: members, Storage: "memory", LogLevel: "error",
			Replicas: replicas, ReadQuorum: min(2, replicas), WriteQuorum: min(2, replicas)}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Stop)
		out = append(out, n)
	}
	return out
}

// The page every node serves at / draws the ring and the members from the
// node's live status, and follows it as it changes: a member that stops
// turns suspected on the open page.
func TestStatusPageDrawsTheLiveCluster(t *testing.T) {
	exe := chromium()
	if exe == "" {
		t.Skip("status page test skipped: no Chromium found (apt-get install chromium)")
	}
	nodes := startCluster(t, "n1", "n2", "n3")
	base := "http://" + nodes[0].HTTPAddr()
	// Some traffic for the requests table, once the nodes have met.
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < 20; {
		req, _ := http.NewRequest(http.MethodPut, base+"/kv/page-"+strconv.Itoa(i), strings.NewReader("v"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			i++
		} else if time.Now().After(deadline) {
			t.Fatalf("put: %s", resp.Status)
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 1000), chromedp.Flag("disable-gpu", true))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTime()

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatalf("open the status page: %v", err)
	}
	// The page draws what the node sees, and follows it: the nodes started
	// one after another, so n1 may suspect the others for a moment.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("#ring path.partition").length === 64 &&
		Array.from(document.querySelectorAll("#members tr.member"), r => r.dataset.id + "=" + r.dataset.state).join() === "n1=self,n2=up,n3=up"`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		rows, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#members tr.member"), r => r.innerText)`))
		t.Fatalf("the page never drew 64 partitions and the 3 members up: %v (rows %q)", err, rows)
	}

	// The ring's colours are the owners of the node's own ring.
	st := nodes[0].Status()
	var wantOwners []string
	for _, p := range st.Ring {
		wantOwners = append(wantOwners, p.PreferenceList[0])
	}
	owners, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#ring path.partition"), p => p.dataset.owner)`))
	if err != nil {
		t.Fatal(err)
	}
	members, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#members tr.member"), r => r.dataset.id + "=" + r.dataset.state)`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(owners, wantOwners) {
		t.Errorf("ring owners drawn %v, want %v", owners, wantOwners)
	}
	if want := []string{"n1=self", "n2=up", "n3=up"}; !slices.Equal(members, want) {
		t.Errorf("members drawn %v, want %v", members, want)
	}

	// What the screen shows: every owner's colour is painted.
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveShot(t, "status-page.png", shot)
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	for id, c := range map[string]color.RGBA{"n1": {0x2e, 0x86, 0xc1, 0xff}, "n2": {0x28, 0xb4, 0x63, 0xff}, "n3": {0xf3, 0x9c, 0x12, 0xff}} {
		if px := countColour(img, c); px < 500 {
			t.Errorf("the screenshot has %d pixels of %s's colour: its partitions were not drawn", px, id)
		}
	}

	// A member that stops turns suspected on the open page, with no reload.
	nodes[2].Stop()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#members tr.member[data-id="n3"]').dataset.state === "suspected"`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		rows, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#members tr.member"), r => r.innerText)`))
		t.Fatalf("n3 stopped, but the page never showed it suspected: %v (rows %q)", err, rows)
	}
	if shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		t.Fatal(err)
	}
	saveShot(t, "status-page-n3-down.png", shot)
}

// saveShot keeps a screenshot in the test's temporary directory, or in
// $STATUS_PAGE_SHOTS when set, to be looked at.
func saveShot(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := os.Getenv("STATUS_PAGE_SHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", p, len(png))
}

func countColour(img image.Image, want color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == want.R && uint8(g>>8) == want.G && uint8(bl>>8) == want.B {
				n++
			}
		}
	}
	return n
}

// GET / is the status page, self-contained: no script, style or image
// from anywhere but the page itself.
func TestStatusPageIsOneSelfContainedPage(t *testing.T) {
	nodes := startCluster(t, "n1")
	resp, err := http.Get("http://" + nodes[0].HTTPAddr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / answered %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	for _, outside := range []string{"src=\"http", "href=\"http", "@import", "url(http", "<link"} {
		if bytes.Contains(body, []byte(outside)) {
			t.Errorf("the page loads an outside asset: it contains %q", outside)
		}
	}
	resp, err = http.Get("http://" + nodes[0].HTTPAddr() + "/nothing-here")
	if err != nil {
		t.Fatal(err)
	}
	var e api.Error
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || e.Error == "" {
		t.Errorf("GET /nothing-here answered %s %q, want 404 with a reason", resp.Status, e.Error)
	}
}
