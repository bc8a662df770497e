// Package flavors_test checks the lab's host flavours themselves: that each
// kind of host runs its own real network tool (RHEL 7's network-scripts as the
// lab's stand-in, the real NetworkManager, the real netplan and
// systemd-networkd), that the others are absent, and that the one stand-in
// these flavours have (a macvlan for the 802.1Q device this kernel cannot make)
// behaves as the real tools would, across reboots.
package flavors_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/testbed/labtest"
)

func TestMain(m *testing.M) {
	labtest.MainWith(m, labtest.Options{Hosts: 3, Flavors: []string{"rhel7", "rhel10", "ubuntu"}})
}

// hostOf is the lab host of flavour f.
func hostOf(t *testing.T, lab *labtest.Lab, f string) string {
	t.Helper()
	for _, h := range lab.Hosts {
		if h.Flavor == f {
			return h.Name
		}
	}
	t.Fatalf("no %s host in the lab: %+v", f, lab.Hosts)
	return ""
}

// What each flavour has and has not, as seen from inside the host.
func TestLabFlavorsTools(t *testing.T) {
	lab := labtest.Get(t)
	probe := `systemctl is-active NetworkManager systemd-networkd network 2>/dev/null | paste -sd, -
command -v ifup >/dev/null && echo ifup || echo no-ifup
test -d /etc/sysconfig/network-scripts && echo network-scripts || echo no-network-scripts
test -d /etc/netplan && echo netplan-dir || echo no-netplan-dir
stat -c '%a %n' /etc/sysconfig/network-scripts/ifcfg-ens33 /etc/NetworkManager/system-connections/*.nmconnection /etc/netplan/*.yaml 2>/dev/null
ip -o -4 addr show ens33 | awk '{print $4}'
ps -p 1 -o comm=`
	want := map[string][]string{
		"rhel7": {"inactive,inactive,active", "ifup", "network-scripts", "no-netplan-dir",
			"644 /etc/sysconfig/network-scripts/ifcfg-ens33"},
		"rhel10": {"active,inactive,inactive", "no-ifup", "no-network-scripts", "no-netplan-dir",
			"600 /etc/NetworkManager/system-connections/ens33.nmconnection"},
		"ubuntu": {"inactive,active,inactive", "no-ifup", "no-network-scripts", "netplan-dir",
			"600 /etc/netplan/01-mvlab.yaml"},
	}
	for _, h := range lab.Hosts {
		out := lab.MustExec(t, h.Name, probe)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		w := append(append([]string{}, want[h.Flavor]...), h.Addr+"/24", "systemd")
		if strings.Join(lines, "\n") != strings.Join(w, "\n") {
			t.Errorf("%s (%s):\n got: %q\nwant: %q", h.Name, h.Flavor, lines, w)
		}
	}
	// The tools answer for real: NetworkManager has ens33 connected with the
	// host's profile, systemd-networkd has it configured from netplan's file.
	nm := hostOf(t, lab, "rhel10")
	if got := lab.MustExec(t, nm, "nmcli -t -f DEVICE,STATE,CONNECTION device | grep '^ens33:'"); strings.TrimSpace(got) != "ens33:connected:ens33" {
		t.Errorf("%s: nmcli device: %q, want ens33 connected with profile ens33", nm, got)
	}
	np := hostOf(t, lab, "ubuntu")
	got := lab.MustExec(t, np, "networkctl status ens33 --no-pager | grep -E 'Network File|State'")
	if !strings.Contains(got, "/run/systemd/network/10-netplan-ens33.network") || !strings.Contains(got, "routable (configured)") {
		t.Errorf("%s: networkctl status ens33:\n%s\nwant netplan's file and routable (configured)", np, got)
	}
}

// A VLAN profile or netplan VLAN comes up (as the lab's macvlan stand-in), with
// its address, through the host's own commands; it comes back by itself after
// a clean reboot and after a power cut; taking it down removes it.
func TestLabFlavorsVLANStandIn(t *testing.T) {
	lab := labtest.Get(t)
	cases := []struct {
		flavor, addr, write, up, down, cleanup string
	}{{
		flavor: "rhel10", addr: "203.0.113.12/26",
		write: `umask 077; cat > /etc/NetworkManager/system-connections/ens33.30.nmconnection <<'EOF'
[connection]
id=ens33.30
uuid=0d1c7c2e-6a4b-4f59-8f3e-3b0e9e1f3a30
type=vlan
interface-name=ens33.30

[vlan]
id=30
parent=ens33

[ipv4]
address1=203.0.113.12/26
method=manual

[ipv6]
method=disabled
EOF
nmcli connection load /etc/NetworkManager/system-connections/ens33.30.nmconnection`,
		up:      "nmcli connection up ens33.30",
		down:    "nmcli connection down ens33.30",
		cleanup: "nmcli connection down ens33.30; rm -f /etc/NetworkManager/system-connections/ens33.30.nmconnection; nmcli connection reload",
	}, {
		flavor: "ubuntu", addr: "203.0.113.13/26",
		write: `umask 077; cat > /etc/netplan/60-labtest.yaml <<'EOF'
network:
  version: 2
  vlans:
    ens33.30:
      id: 30
      link: ens33
      addresses: [203.0.113.13/26]
EOF
netplan generate`,
		up:      "networkctl reload",
		down:    "rm /etc/netplan/60-labtest.yaml && netplan generate && networkctl reload && ip link del ens33.30",
		cleanup: "rm -f /etc/netplan/60-labtest.yaml; netplan generate; networkctl reload; ip link del ens33.30",
	}}
	for _, c := range cases {
		t.Run(c.flavor, func(t *testing.T) {
			host := hostOf(t, lab, c.flavor)
			t.Cleanup(func() { lab.Exec(t, host, c.cleanup) })
			addr := func() string {
				return strings.TrimSpace(lab.MustExec(t, host, "ip -o -4 addr show dev ens33.30 2>/dev/null | awk '{print $4}'"))
			}
			lab.MustExec(t, host, c.write)
			lab.MustExec(t, host, c.up)
			if got := addr(); got != c.addr {
				t.Fatalf("after %q: ens33.30 has %q, want %s", c.up, got, c.addr)
			}
			for _, hard := range []bool{false, true} {
				lab.Reboot(t, host, hard)
				if got := addr(); got != c.addr {
					t.Errorf("after a reboot (hard=%v): ens33.30 has %q, want %s", hard, got, c.addr)
				}
				if got := lab.MustExec(t, host, "ip -o -4 addr show ens33 | awk '{print $4}'"); strings.TrimSpace(got) != lab.Host(t, host).Addr+"/24" {
					t.Errorf("after a reboot (hard=%v): ens33 has %q", hard, got)
				}
			}
			lab.MustExec(t, host, c.down)
			if r := lab.Exec(t, host, "ip link show ens33.30"); r.Code == 0 {
				t.Errorf("after %q: ens33.30 still exists", c.down)
			}
		})
	}
}

// NetworkManager's macvlan profiles are the real thing (no stand-in): the
// interface, its address and its route come from NetworkManager itself.
func TestLabFlavorsNetworkManagerMacvlanIsReal(t *testing.T) {
	lab := labtest.Get(t)
	host := hostOf(t, lab, "rhel10")
	t.Cleanup(func() { lab.Exec(t, host, "nmcli connection delete labtest-mv; ip link del labtest-mv") })
	lab.MustExec(t, host, `nmcli connection add type macvlan con-name labtest-mv ifname labtest-mv dev ens33 mode bridge \
ipv4.method manual ipv4.addresses 203.0.113.200/32 ipv4.routes "203.0.113.128/26 src=203.0.113.200" ipv6.method disabled >/dev/null &&
nmcli connection up labtest-mv >/dev/null`)
	out := lab.MustExec(t, host, "ip -d -o link show labtest-mv; ip -o -4 addr show labtest-mv; ip route show dev labtest-mv")
	for _, want := range []string{"macvlan mode bridge", "203.0.113.200/32", "203.0.113.128/26 proto static scope link src 203.0.113.200"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	if p := strings.TrimSpace(lab.MustExec(t, host, "command -v nmcli")); p != "/etc/mvlab/bin/nmcli" {
		t.Errorf("nmcli is %s; the lab's wrapper (which passes all but vlan up/down to the real one) is expected first on PATH", p)
	}
	if got := lab.MustExec(t, host, "journalctl -u NetworkManager --no-pager | grep -c 'labtest-mv.*Activation: successful' || true"); strings.TrimSpace(got) == "0" {
		t.Errorf("NetworkManager's journal has no successful activation of labtest-mv")
	}
}

// testbed/lab refuses flavours it does not know, before making anything.
func TestLabFlavorsUnknownIsRefused(t *testing.T) {
	lab := labtest.Get(t)
	for _, arg := range []string{"centos", "rhel7,,ubuntu", ""} {
		out, code := labtest.CombinedOutput(t, exec.Command(lab.Script(), "up", "1", "--flavor", arg))
		if code == 0 || !strings.Contains(out, "--flavor") || strings.Contains(out, "already up") {
			t.Errorf("up --flavor %q: exit %d, output %q; want a refusal naming --flavor, before anything else is checked", arg, code, out)
		}
	}
}

// On rhel10, a macvlan profile whose parent is a VLAN (a router's gateway on
// a VLAN) cannot be activated by NetworkManager on the lab's stand-in, as it
// could on a real 802.1Q device: the lab's nmcli makes it, with its addresses
// and routes, and brings it back at boot after the VLAN; down removes it.
func TestLabFlavorsMacvlanOnVLANStandIn(t *testing.T) {
	lab := labtest.Get(t)
	host := hostOf(t, lab, "rhel10")
	t.Cleanup(func() {
		lab.Exec(t, host, "nmcli connection delete labtest-gw labtest-v40; ip link del labtest-gw; ip link del ens33.40")
	})
	lab.MustExec(t, host, `nmcli connection add type vlan con-name labtest-v40 ifname ens33.40 dev ens33 id 40 \
ipv4.method manual ipv4.addresses 203.0.113.44/27 ipv6.method disabled >/dev/null &&
nmcli connection up labtest-v40 >/dev/null &&
nmcli connection add type macvlan con-name labtest-gw ifname labtest-gw dev ens33.40 mode bridge \
ipv4.method manual ipv4.addresses 203.0.113.33/32 ipv4.routes "203.0.113.32/27 src=203.0.113.33, 203.0.113.200/29 203.0.113.34 50" ipv6.method disabled >/dev/null &&
nmcli connection up labtest-gw`)
	check := func(when string) {
		out := lab.MustExec(t, host, "ip -o -4 addr show labtest-gw; ip route show dev labtest-gw")
		for _, want := range []string{"203.0.113.33/32", "203.0.113.32/27 scope link src 203.0.113.33", "203.0.113.200/29 via 203.0.113.34 metric 50"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: want %q in:\n%s", when, want, out)
			}
		}
	}
	check("after nmcli connection up")
	lab.Reboot(t, host, true)
	check("after a power cut")
	lab.MustExec(t, host, "nmcli connection down labtest-gw")
	if r := lab.Exec(t, host, "ip link show labtest-gw"); r.Code == 0 {
		t.Errorf("labtest-gw still exists after nmcli connection down")
	}
}
