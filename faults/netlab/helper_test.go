package netlab

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// requireTools skips the test where a lab cannot be built.
func requireTools(t *testing.T) tools {
	t.Helper()
	tl, err := findTools()
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// newTestLab builds a lab that is closed, and checked to be gone, when the
// test ends, whether it passed or not.
func newTestLab(t *testing.T, name string, hosts int) *Lab {
	t.Helper()
	requireTools(t)
	l, err := New(Config{Name: name, Hosts: hosts})
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		assertGone(t, l)
	})
	return l
}

func cmdOut(t *testing.T, prog string, args ...string) string {
	t.Helper()
	out, err := run("", prog, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func namespaces(t *testing.T, ipPath string) []string {
	t.Helper()
	var names []string
	for line := range strings.Lines(cmdOut(t, ipPath, "netns", "list")) {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

type link struct {
	Ifname  string `json:"ifname"`
	Ifalias string `json:"ifalias"`
}

func listLinks(t *testing.T, ipPath string) []link {
	t.Helper()
	var ls []link
	if err := json.Unmarshal([]byte(cmdOut(t, ipPath, "-j", "link", "show")), &ls); err != nil {
		t.Fatal(err)
	}
	return ls
}

// links lists the interface names of the root namespace.
func links(t *testing.T, ipPath string) []string {
	t.Helper()
	var names []string
	for _, l := range listLinks(t, ipPath) {
		names = append(names, l.Ifname)
	}
	return names
}

// rootVeths maps lab ids to the root veths that carry them as alias.
func rootVeths(t *testing.T, ipPath string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range listLinks(t, ipPath) {
		if strings.HasPrefix(l.Ifalias, namePrefix) {
			m[l.Ifalias] = l.Ifname
		}
	}
	return m
}

// assertGone checks that no namespace, root veth or gateway address of
// the lab is left.
func assertGone(t *testing.T, l *Lab) {
	t.Helper()
	for _, ns := range namespaces(t, l.tools.ip) {
		if strings.HasPrefix(ns, l.id+"-") {
			t.Errorf("namespace %s still listed by ip netns list after Close", ns)
		}
	}
	if slices.Contains(links(t, l.tools.ip), l.veth) {
		t.Errorf("root veth %s still listed by ip link after Close", l.veth)
	}
	if l.subnet.IsValid() && strings.Contains(cmdOut(t, l.tools.ip, "-4", "addr", "show"), " "+l.GatewayIP()+"/") {
		t.Errorf("gateway address %s still on the root namespace after Close", l.GatewayIP())
	}
}
