package steps

import (
	"os"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/inventory"
)

// hostAccessInventory is the article's 4.2 with host access on mac_net10.
func hostAccessInventory(t *testing.T) *inventory.Inventory {
	t.Helper()
	data, err := os.ReadFile("../inventory.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), "vlan = 10                  #", `host_access = { docker01 = "172.16.10.250", docker02 = "172.16.10.251" }
vlan = 10 #`, 1)
	inv, err := inventory.Parse("inv.toml", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func changesOf(p *Plan, host, step string) []*Change {
	var out []*Change
	for _, ch := range p.Changes {
		if ch.Host == host && ch.Step == step {
			out = append(out, ch)
		}
	}
	return out
}

func opsText(ops []Op) string {
	var b strings.Builder
	for _, op := range ops {
		b.WriteString(string(op.Kind) + " " + op.Cmd + op.Path + "\n")
	}
	return b.String()
}

// A shim is one change: its unit as a diff, written, enabled, started; the
// undo stops it and removes the symlink and the unit. The network carries
// every host's shim address as an aux address.
func TestHostAccessPlan(t *testing.T) {
	inv := hostAccessInventory(t)
	p, err := Build(inv, map[string]*Facts{"docker01": okFacts("docker01"), "docker02": okFacts("docker02")})
	if err != nil {
		t.Fatal(err)
	}
	shims := changesOf(p, "docker01", "host-access")
	if len(shims) != 1 || shims[0].Target != "shim mv-ens33.10 on ens33.10 (172.16.10.250/32)" || shims[0].Action != ActionAdd {
		t.Fatalf("host-access changes on docker01: %+v", shims)
	}
	ch := shims[0]
	for _, want := range []string{
		"+++ " + UnitDir + "/mvorch-shim-ens33.10.service",
		"+ExecStart=/sbin/ip link add mv-ens33.10 link ens33.10 type macvlan mode bridge",
		"+ExecStart=/sbin/ip addr add 172.16.10.250/32 dev mv-ens33.10",
		"+ExecStart=/sbin/ip route add 172.16.10.0/24 dev mv-ens33.10 src 172.16.10.250",
		"+ExecStop=-/sbin/ip link del dev mv-ens33.10",
		"+WantedBy=multi-user.target",
	} {
		if !strings.Contains(ch.Diff, want) {
			t.Errorf("shim diff lacks %q:\n%s", want, ch.Diff)
		}
	}
	wantDo := "write " + UnitDir + "/mvorch-shim-ens33.10.service\n" +
		"exec ln -sfn -- " + UnitDir + "/mvorch-shim-ens33.10.service " + WantsDir + "/mvorch-shim-ens33.10.service\n" +
		"exec systemctl daemon-reload\n" +
		"exec systemctl restart mvorch-shim-ens33.10.service\n"
	if got := opsText(ch.Do); got != wantDo {
		t.Errorf("do:\n%s\nwant:\n%s", got, wantDo)
	}
	wantUndo := "exec systemctl stop mvorch-shim-ens33.10.service 2>/dev/null || true\n" +
		"exec ip link del dev mv-ens33.10 2>/dev/null || true\n" +
		"exec rm -f -- " + WantsDir + "/mvorch-shim-ens33.10.service\n" +
		"remove " + UnitDir + "/mvorch-shim-ens33.10.service\n" +
		"exec systemctl daemon-reload\n"
	if got := opsText(ch.Undo); got != wantUndo {
		t.Errorf("undo:\n%s\nwant:\n%s", got, wantUndo)
	}
	for _, host := range []string{"docker01", "docker02"} {
		for _, n := range changesOf(p, host, "networks") {
			if n.Target == "network mac_net10" && !strings.Contains(n.Do[0].Cmd, "--aux-address docker01=172.16.10.250 --aux-address docker02=172.16.10.251") {
				t.Errorf("%s: mac_net10 made without the shim addresses as aux addresses: %s", host, n.Do[0].Cmd)
			}
		}
	}
	if len(changesOf(p, "docker01", "promisc")) != 2 {
		t.Errorf("promisc: %+v", changesOf(p, "docker01", "promisc"))
	}
}

// A network made before host access was added has no aux addresses: it is
// made again, and the plan names the containers that go with it.
func TestHostAccessRecreatesNetworkForAux(t *testing.T) {
	inv := hostAccessInventory(t)
	facts := map[string]*Facts{}
	for _, h := range []string{"docker01", "docker02"} {
		f := okFacts(h)
		f.Docker.Networks["mac_net10"] = &DockerNetwork{Name: "mac_net10", Driver: "macvlan", Subnet: "172.16.10.0/24", Gateway: "172.16.10.1",
			Parent: "ens33.10", Managed: true, Containers: []string{"bbox10"}}
		f.Docker.Containers["bbox10"] = &DockerContainer{Name: "bbox10", Running: true, Managed: true, Networks: map[string]string{"mac_net10": "172.16.10.10"}}
		facts[h] = f
	}
	p, err := Build(inv, facts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range changesOf(p, "docker01", "networks") {
		got = append(got, string(ch.Action)+" "+ch.Target+": "+ch.Detail)
	}
	text := strings.Join(got, "\n")
	if !strings.Contains(text, "remove container bbox10") || !strings.Contains(text, "replace network mac_net10") ||
		!strings.Contains(text, "aux docker01=172.16.10.250,docker02=172.16.10.251") {
		t.Errorf("networks on docker01:\n%s", text)
	}
}

// Once made, a shim is left alone; a shim the kernel shows on the lower
// device of a macvlan parent (the lab's VLAN stand-in) is on its parent;
// one missing from a parent that is a real VLAN is started again.
func TestHostAccessSteadyState(t *testing.T) {
	inv := hostAccessInventory(t)
	facts := runningOnStandIn(t, inv, okFacts)
	f := facts["docker01"]
	f.Links["ens33.10"].Kind = "vlan"
	f.Links["mv-ens33.10"].Parent = "ens33" // as the facts would show it again
	p, err := Build(inv, facts)
	if err != nil {
		t.Fatal(err)
	}
	chs := changesOf(p, "docker01", "host-access")
	if len(chs) != 1 || chs[0].Action != ActionChange || opsText(chs[0].Do) != "exec systemctl restart mvorch-shim-ens33.10.service\n" {
		t.Errorf("a shim on the wrong parent: %+v", chs)
	}
}

// The same on a NetworkManager host: a shim that runs on the lab's VLAN
// stand-in (a macvlan, so the shim hangs off the NIC) is not started again.
// The VLAN step must leave the facts of a VLAN that is up as they are.
func TestHostAccessSteadyStateNetworkManager(t *testing.T) {
	runningOnStandIn(t, hostAccessInventory(t), nmFacts)
}

// runningOnStandIn plans inv on hosts made by facts of, takes the facts to
// what the run leaves (a shim running on docker01's VLAN stand-in, so it
// hangs off the NIC), checks that a second plan does not start the shim
// again, and returns those facts.
func runningOnStandIn(t *testing.T, inv *inventory.Inventory, of func(string) *Facts) map[string]*Facts {
	t.Helper()
	facts := map[string]*Facts{"docker01": of("docker01"), "docker02": of("docker02")}
	if _, err := Build(inv, facts); err != nil {
		t.Fatal(err)
	}
	f := facts["docker01"]
	f.Links["ens33.10"].Kind = "macvlan"
	f.Links["mv-ens33.10"].Parent = "ens33"
	p, err := Build(inv, facts)
	if err != nil {
		t.Fatal(err)
	}
	if chs := changesOf(p, "docker01", "host-access"); len(chs) != 0 {
		t.Errorf("a running shim planned again: %+v", chs[0])
	}
	return facts
}
