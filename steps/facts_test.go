package steps

import (
	"strings"
	"testing"
)

func factsOutput(sections ...string) []byte {
	return []byte(strings.Join(append(sections, marker+"end@@"), "\n") + "\n")
}

// docker prints a --format template even when the daemon is down: an empty
// version is not a running docker.
func TestParseFactsDockerDown(t *testing.T) {
	for _, c := range []struct {
		line   string
		active bool
	}{{"server=20.10.24", true}, {"server=", false}} {
		f, err := ParseFacts("h", factsOutput(marker+"docker@@", "installed", c.line))
		if err != nil {
			t.Fatal(err)
		}
		if f.Docker.Active != c.active || !f.Docker.Installed {
			t.Errorf("%q: active=%v installed=%v", c.line, f.Docker.Active, f.Docker.Installed)
		}
	}
}

func TestParseFactsLinksAndFiles(t *testing.T) {
	out := factsOutput(
		marker+"links@@",
		`2: ens33@if4: <BROADCAST,MULTICAST,PROMISC,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\    link/ether 66:a1 brd ff:ff promiscuity 1 veth addrgenmode eui64`,
		`5: ens33.10@ens33: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\    link/ether b2:d9 brd ff:ff promiscuity 0 \    macvlan mode bridge addrgenmode eui64`,
		marker+"addrs@@",
		`5: ens33.10    inet 203.0.113.11/26 scope global ens33.10\       valid_lft forever preferred_lft forever`,
		marker+"file@@ 644 /etc/modules-load.d/8021q.conf",
		"ODAyMXEK",
		marker+"journal@@", "",
	)
	f, err := ParseFacts("h", out)
	if err != nil {
		t.Fatal(err)
	}
	if l := f.Links["ens33"]; l == nil || !l.Promisc || !l.Up {
		t.Errorf("ens33: %+v", l)
	}
	if l := f.Links["ens33.10"]; l == nil || l.Parent != "ens33" || l.Kind != "macvlan" || len(l.Addrs) != 1 || l.Addrs[0] != "203.0.113.11/26" {
		t.Errorf("ens33.10: %+v", l)
	}
	if file := f.Files["/etc/modules-load.d/8021q.conf"]; file == nil || string(file.Data) != "8021q\n" || file.Mode != 0o644 {
		t.Errorf("file: %+v", file)
	}
}

func TestParseFactsNeedsEndMarker(t *testing.T) {
	if _, err := ParseFacts("h", []byte(marker+"hostname@@\nh\n")); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("facts cut short: %v", err)
	}
}
