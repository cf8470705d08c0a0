package netlab

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
)

// subnetTries bounds the search for a free /24; with 65 000 candidates and
// a handful in use, running out means something is wrong with the address
// listing rather than bad luck.
const subnetTries = 20

// inUse is a prefix the root namespace already has, as an address or as a
// route, with the interface it belongs to.
type inUse struct {
	prefix netip.Prefix
	dev    string
}

// usedPrefixes lists the IPv4 prefixes of every address and route (all
// tables) of the root namespace. The default route is left out: it covers
// everything and says nothing about which networks are taken.
func usedPrefixes(ipPath string) ([]inUse, error) {
	var used []inUse
	out, err := run("", ipPath, "-4", "-j", "addr", "show")
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	var links []struct {
		Ifname   string `json:"ifname"`
		AddrInfo []struct {
			Local     string `json:"local"`
			Prefixlen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil {
		return nil, fmt.Errorf("parse the output of ip -j addr show: %w", err)
	}
	for _, l := range links {
		for _, a := range l.AddrInfo {
			addr, err := netip.ParseAddr(a.Local)
			if err != nil {
				continue
			}
			if p, err := addr.Prefix(a.Prefixlen); err == nil {
				used = append(used, inUse{p, l.Ifname})
			}
		}
	}

	out, err = run("", ipPath, "-4", "-j", "route", "show", "table", "all")
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	var routes []struct {
		Dst string `json:"dst"`
		Dev string `json:"dev"`
	}
	if err := json.Unmarshal([]byte(out), &routes); err != nil {
		return nil, fmt.Errorf("parse the output of ip -j route show: %w", err)
	}
	for _, r := range routes {
		if r.Dst == "" || r.Dst == "default" {
			continue
		}
		dst := r.Dst
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if p, err := netip.ParsePrefix(dst); err == nil {
			used = append(used, inUse{p.Masked(), r.Dev})
		}
	}
	return used, nil
}

// overlaps reports the first prefix in used, not on interface except, that
// overlaps p.
func overlaps(p netip.Prefix, used []inUse, except string) (inUse, bool) {
	for _, u := range used {
		if u.dev != except && u.prefix.Overlaps(p) {
			return u, true
		}
	}
	return inUse{}, false
}

// claimSubnet gives the root veth the gateway address of a free /24 in
// 10.0.0.0/8. Candidates are random so that labs started at once rarely
// pick the same one, and each claim is checked again after the address is
// on: of two labs that took the same /24, the later check sees the other,
// so at least one of them backs off and tries another.
func (l *Lab) claimSubnet() error {
	for range subnetTries {
		used, err := usedPrefixes(l.tools.ip)
		if err != nil {
			return err
		}
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(1 + rand.IntN(254)), byte(rand.IntN(256)), 0}), 24)
		if _, taken := overlaps(p, used, ""); taken {
			continue
		}
		l.subnet = p
		gw := l.GatewayIP() + "/24"
		if _, err := run("", l.tools.ip, "addr", "add", gw, "dev", l.veth); err != nil {
			return fmt.Errorf("give the root veth %s the gateway address: %w", l.veth, err)
		}
		used, err = usedPrefixes(l.tools.ip)
		if err != nil {
			return err
		}
		if _, taken := overlaps(p, used, l.veth); !taken {
			return nil
		}
		if _, err := run("", l.tools.ip, "addr", "del", gw, "dev", l.veth); err != nil {
			return fmt.Errorf("drop the gateway address %s that another network took meanwhile: %w", gw, err)
		}
	}
	return fmt.Errorf("no free /24 in 10.0.0.0/8 after %d random tries; see ip -4 addr and ip -4 route show table all", subnetTries)
}

// hostAddr is the address of host i: .11, .12, ... so that the last
// digit reads as the host number for the first ten.
func (l *Lab) hostAddr(i int) netip.Addr {
	b := l.subnet.Addr().As4()
	b[3] = byte(11 + i)
	return netip.AddrFrom4(b)
}

func (l *Lab) gatewayAddr() netip.Addr {
	b := l.subnet.Addr().As4()
	b[3] = 1
	return netip.AddrFrom4(b)
}
