package steps

import (
	"strings"
	"testing"

	"github.com/mvorch/mvorch/inventory"
)

// routerInventory: docker01 runs bbox10 and bbox20, docker03 runs nothing;
// router is the [[router]] host between mac_net10 and mac_net20 ("" for none).
func routerInventory(t *testing.T, router string) *inventory.Inventory {
	t.Helper()
	src := `
[[host]]
name = "docker01"
address = "192.168.1.11"

[[host]]
name = "docker03"
address = "192.168.1.14"

[[vlan]]
id = 10
gateway = "192.168.10.2"
hosts = { docker01 = "192.168.10.10/24", docker03 = "192.168.10.12/24" }

[[vlan]]
id = 20
gateway = "192.168.20.2"
hosts = { docker01 = "192.168.20.20/24", docker03 = "192.168.20.22/24" }

[[network]]
name = "mac_net10"
subnet = "172.16.10.0/24"
gateway = "172.16.10.1"
vlan = 10

[[network]]
name = "mac_net20"
subnet = "172.16.20.0/24"
gateway = "172.16.20.1"
vlan = 20

[[container]]
name = "bbox10"
host = "docker01"
network = "mac_net10"
ip = "172.16.10.10"
image = "busybox:latest"

[[container]]
name = "bbox20"
host = "docker01"
network = "mac_net20"
ip = "172.16.20.20"
image = "busybox:latest"
`
	if router != "" {
		src += "\n[[router]]\nhost = \"" + router + "\"\nnetworks = [\"mac_net10\", \"mac_net20\"]\n"
	}
	inv, err := inventory.Parse("inv.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// routerFacts: ens33 up; docker running (with the article's unit) or not
// at all; iptables installed; forwarding as docker leaves it, or off.
func routerFacts(name string, docker bool) *Facts {
	f := okFacts(name)
	f.IPTables = true
	f.IPForward = "1"
	f.FilterRules = []string{"-P FORWARD DROP"}
	if !docker {
		f.Docker = Docker{Installed: false, Networks: map[string]*DockerNetwork{}, Containers: map[string]*DockerContainer{}, Images: map[string]string{}}
		f.IPForward = "0"
		f.FilterRules = []string{"-P FORWARD ACCEPT"}
	}
	return f
}

func planRouter(t *testing.T, inv *inventory.Inventory, f1, f3 *Facts) []*Change {
	t.Helper()
	p, err := Build(inv, map[string]*Facts{"docker01": f1, "docker03": f3})
	if err != nil {
		t.Fatal(err)
	}
	return changesOf(p, "docker03", "router")
}

func wantIn(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// On a docker host: a gateway shim per network, forwarding's file (docker
// has it on already), and the firewall unit jumped to from DOCKER-USER,
// wanted by docker.service (its .wants directory made, and removed by the
// undo); the undo stops the unit and tears the chain down.
func TestRouterPlanOnDockerHost(t *testing.T) {
	chs := planRouter(t, routerInventory(t, "docker03"), routerFacts("docker01", true), routerFacts("docker03", true))
	var targets []string
	for _, ch := range chs {
		targets = append(targets, ch.Target)
	}
	if got := strings.Join(targets, "|"); got != "shim mv-ens33.10 on ens33.10 (172.16.10.1/32)|shim mv-ens33.20 on ens33.20 (172.16.20.1/32)|IPv4 forwarding|firewall: MVORCH-ROUTER" {
		t.Fatalf("router changes: %s", got)
	}
	wantIn(t, "the gateway shim", chs[0].Diff, "+++ "+UnitDir+"/mvorch-router-ens33.10.service",
		"ExecStart=/sbin/ip addr add 172.16.10.1/32 dev mv-ens33.10", "ExecStart=/sbin/ip route add 172.16.10.0/24 dev mv-ens33.10 src 172.16.10.1")
	if opsText(chs[2].Do) != "write /etc/sysctl.d/90-mvorch-forward.conf\nexec sysctl -q -w net.ipv4.ip_forward=1\n" {
		t.Errorf("forwarding on a docker host: %s", opsText(chs[2].Do))
	}
	if !strings.Contains(opsText(chs[2].Undo), "sysctl -q -w net.ipv4.ip_forward=1") {
		t.Errorf("forwarding's undo must put back 1: %s", opsText(chs[2].Undo))
	}
	fw := chs[3]
	wantIn(t, "the firewall unit", fw.Diff, "After=docker.service", "PartOf=docker.service", "WantedBy=docker.service",
		"ExecStart=/sbin/iptables -w -A MVORCH-ROUTER -s 172.16.10.0/24 -d 172.16.20.0/24 -j ACCEPT",
		"ExecStart=/sbin/iptables -w -A MVORCH-ROUTER -s 172.16.20.0/24 -d 172.16.10.0/24 -j ACCEPT",
		"ExecStart=/sbin/iptables -w -A MVORCH-ROUTER -d 172.16.20.0/24 -j DROP",
		"ExecStart=/sbin/iptables -w -I DOCKER-USER -j MVORCH-ROUTER", "ExecStart=/sbin/iptables -w -P FORWARD DROP",
		"ExecStop=-/sbin/iptables -w -X MVORCH-ROUTER")
	wantIn(t, "the firewall's do", opsText(fw.Do), "exec mkdir -p -- "+DockerWantsDir,
		"exec ln -sfn -- "+ForwardUnit+" "+DockerWantsDir+"/mvorch-forward.service", "exec systemctl restart mvorch-forward.service")
	wantIn(t, "the firewall's undo", opsText(fw.Undo), "exec systemctl stop mvorch-forward.service",
		"exec /sbin/iptables -w -D DOCKER-USER -j MVORCH-ROUTER 2>/dev/null || true", "exec /sbin/iptables -w -X MVORCH-ROUTER",
		"rmdir --ignore-fail-on-non-empty -- "+DockerWantsDir, "remove "+ForwardUnit)
}

// On a plain host (no docker, no containers): no docker step touches it,
// forwarding is turned on (undo: off again), and the chain is jumped to
// from FORWARD by a unit of multi-user.target.
func TestRouterPlanOnPlainHost(t *testing.T) {
	inv := routerInventory(t, "docker03")
	f3 := routerFacts("docker03", false)
	p, err := Build(inv, map[string]*Facts{"docker01": routerFacts("docker01", true), "docker03": f3})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range p.Changes {
		if ch.Host == "docker03" && (ch.Step == "registry-trust" || ch.Step == "networks" || ch.Step == "docker-restart") {
			t.Errorf("a docker change on a host without docker: %+v", ch)
		}
	}
	chs := changesOf(p, "docker03", "router")
	if len(chs) != 4 {
		t.Fatalf("router changes: %+v", chs)
	}
	wantIn(t, "forwarding", opsText(chs[2].Do), "exec sysctl -q -w net.ipv4.ip_forward=1")
	wantIn(t, "forwarding's undo", opsText(chs[2].Undo), "exec sysctl -q -w net.ipv4.ip_forward=0", "remove /etc/sysctl.d/90-mvorch-forward.conf")
	wantIn(t, "the firewall unit", chs[3].Diff, "-I FORWARD -j MVORCH-ROUTER", "WantedBy=multi-user.target", "Before=network.target")
	if strings.Contains(chs[3].Diff, "docker.service") || strings.Contains(chs[3].Diff, "-P FORWARD") {
		t.Errorf("the plain host's unit names docker:\n%s", chs[3].Diff)
	}
	wantIn(t, "the firewall's do", opsText(chs[3].Do), "exec ln -sfn -- "+ForwardUnit+" "+WantsDir+"/mvorch-forward.service")

	f3.IPTables = false
	if _, err := Build(inv, map[string]*Facts{"docker01": routerFacts("docker01", true), "docker03": f3}); err == nil || !strings.Contains(err.Error(), "needs iptables") {
		t.Errorf("a router without iptables: %v", err)
	}
}

// Once made, nothing is planned while the chain is as the unit makes it; a
// chain gone (flushed by hand) is started again; a host that no longer
// routes has it all removed.
func TestRouterSteadyStateAndRemoval(t *testing.T) {
	inv := routerInventory(t, "docker03")
	f1, f3 := routerFacts("docker01", true), routerFacts("docker03", true)
	if _, err := Build(inv, map[string]*Facts{"docker01": f1, "docker03": f3}); err != nil {
		t.Fatal(err)
	}
	// Build updated the facts with what it planned, as a run would leave them.
	f3.Links["mv-ens33.10"].Parent, f3.Links["mv-ens33.20"].Parent = "ens33.10", "ens33.20"
	pairs := routedPairs(inv, "docker03")
	f3.FilterRules = append([]string{"-P FORWARD DROP", "-A DOCKER-USER -j " + RouterChain}, chainRules(pairs)...)
	if chs := planRouter(t, inv, f1, f3); len(chs) != 0 {
		t.Errorf("a running router planned again: %+v", chs[0])
	}
	f3.FilterRules = f3.FilterRules[:1]
	chs := planRouter(t, inv, f1, f3)
	if len(chs) != 1 || chs[0].Action != ActionChange || opsText(chs[0].Do) != "exec systemctl restart mvorch-forward.service\n" {
		t.Errorf("a flushed chain: %+v", chs)
	}

	chs = planRouter(t, routerInventory(t, ""), f1, f3)
	var targets []string
	for _, ch := range chs {
		if ch.Action != ActionRemove {
			t.Errorf("not a removal: %+v", ch)
		}
		targets = append(targets, ch.Target)
	}
	if got := strings.Join(targets, "|"); got != "router on ens33.10|router on ens33.20|IPv4 forwarding|firewall: MVORCH-ROUTER" {
		t.Errorf("removals: %s", got)
	}
	if len(chs) == 4 && opsText(chs[2].Do) != "remove /etc/sysctl.d/90-mvorch-forward.conf\n" {
		t.Errorf("docker runs, so forwarding stays on: %s", opsText(chs[2].Do))
	}
}
