package main

import (
	"strings"
	"testing"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// Hosts in odd states: each gives a clear error (or a conflict shown in the
// plan) before anything changes, and the host is unchanged afterwards.
func TestLabBadHostStates(t *testing.T) {
	lab := labtest.Get(t)
	base := lab.Inventory()
	cases := []struct {
		name, host, setup, cleanup string
		repl                       []string // inventory replacements
		planFails                  bool     // plan exits 1 (else: plan shows a conflict, run refuses)
		want                       []string
	}{
		{name: "parent NIC missing", repl: []string{`parent = "ens33"`, `parent = "eth7"`}, planFails: true,
			want: []string{"parent NIC eth7 is missing on docker01 (interfaces: ens33)", `set parent = "..."`}},
		{name: "docker not running", host: "docker02", setup: "systemctl stop docker", cleanup: "systemctl start docker", planFails: true,
			want: []string{"docker is not running on docker02", "systemctl start docker"}},
		// dockerd runs (systemd: active) but its API cannot be reached: an
		// error that says so, not a plan made as if docker were stopped.
		{name: "docker running but its socket gone", host: "docker02", setup: "mv /var/run/docker.sock /var/run/docker.sock.away",
			cleanup: "mv /var/run/docker.sock.away /var/run/docker.sock", planFails: true,
			want: []string{"docker02: facts: docker.service is active but dockerd does not answer on /var/run/docker.sock", "check it with docker info"}},
		{name: "no network-scripts", host: "docker02", setup: "mv /etc/sysconfig/network-scripts /etc/sysconfig/ns.moved",
			cleanup: "mv /etc/sysconfig/ns.moved /etc/sysconfig/network-scripts", planFails: true,
			want: []string{"docker02: promisc: no network configuration tool mvorch knows on docker02: looked for /etc/sysconfig/network-scripts with ifup (ifcfg)"}},
		{name: "8021q unavailable", host: "docker01", setup: "echo 8021q > /etc/mvlab/unavailable-modules",
			cleanup: ": > /etc/mvlab/unavailable-modules", planFails: true,
			want: []string{"8021q is not available on docker01 (modinfo 8021q fails)"}},
		{name: "registry port taken", host: "docker01", setup: "docker run -d --name squatter -p 5000:5000 busybox:latest sleep 1000",
			cleanup: "docker rm -f squatter", planFails: true,
			want: []string{"registry port 5000 is already published on docker01 by container squatter"}},
		{name: "interface not made by mvorch", host: "docker02", setup: "ip link add link ens33 name ens33.20 type macvlan mode bridge",
			cleanup: "ip link del ens33.20",
			want:    []string{"conflict: interface ens33.20 exists on docker02 but mvorch did not make it"}},
		{name: "network with other settings", host: "docker01",
			setup:   "docker network create -d macvlan --subnet 203.0.113.0/28 --gateway 203.0.113.1 -o parent=ens33 mac_net10",
			cleanup: "docker network rm mac_net10",
			want:    []string{"-/+ network mac_net10", "conflict: network mac_net10 exists on docker01 with other settings and mvorch did not make it"}},
	}
	pristine := lab.Snapshots(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv := base
			if len(c.repl) > 0 {
				inv = labtest.Variant(t, base, c.repl...)
			}
			if c.setup != "" {
				lab.MustExec(t, c.host, c.setup)
			}
			t.Cleanup(func() {
				if c.cleanup != "" {
					lab.MustExec(t, c.host, c.cleanup)
				}
				labtest.SameSnapshots(t, "after cleanup", pristine, lab.Snapshots(t))
			})
			before := lab.Snapshots(t)
			plan := lab.RunMvorch(t, "plan", "--no-color", inv)
			out := plan.Stdout + plan.Stderr
			if c.planFails && plan.Code != 1 || !c.planFails && plan.Code != 0 {
				t.Errorf("plan: exit %d\n%s", plan.Code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("plan output lacks %q:\n%s", w, out)
				}
			}
			if r := lab.RunMvorch(t, "run", inv); r.Code != 1 {
				t.Errorf("run: exit %d, want 1\n%s%s", r.Code, r.Stdout, r.Stderr)
			}
			labtest.SameSnapshots(t, "after the refused run", before, lab.Snapshots(t))
		})
	}
}
