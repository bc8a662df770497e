// Package router_test runs mvorch's [[router]] on a lab of three hosts: a
// docker host as the router between two macvlan networks, and a plain host
// (docker masked, no containers) as the router, each with a third network
// that no router joins.
package router_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// docker02 is an rhel10 host (NetworkManager keyfiles), the others rhel7
// (ifcfg files and units): a router is tested on each kind.
func TestMain(m *testing.M) {
	labtest.MainWith(m, labtest.Options{Hosts: 3, Flavors: []string{"rhel7", "rhel10", "rhel7"}})
}

// The lab's addresses (203.0.113.0/24, a documentation range), in /27s and
// /26s: VLAN 10's host addresses .0/27, VLAN 20's .32/27, VLAN 30's .64/27,
// mac_net30 .96/27 (no router), mac_net10 .128/26 and mac_net20 .192/26
// (routed, as in the lab's 4.2).
var containers = []struct{ name, host, net, ip string }{
	{"bbox10", "docker01", "mac_net10", "203.0.113.130"},
	{"bbox20", "docker01", "mac_net20", "203.0.113.194"},
	{"bbox30", "docker01", "mac_net30", "203.0.113.98"},
	{"bbox11", "docker02", "mac_net10", "203.0.113.131"},
	{"bbox21", "docker02", "mac_net20", "203.0.113.195"},
	{"bbox31", "docker02", "mac_net30", "203.0.113.99"},
}

// inventory writes the article's 4.2 plus mac_net30 on VLAN 30, for hosts
// (containers on docker01 and docker02 only), with a router on router
// between mac_net10 and mac_net20.
func inventory(t *testing.T, lab *labtest.Lab, router string, hosts ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "[ssh]\nuser = \"root\"\nidentity_file = %q\nknown_hosts = %q\n\n[defaults]\nparent = \"ens33\"\n",
		lab.Key(), lab.KnownHosts())
	for _, h := range hosts {
		fmt.Fprintf(&b, "\n[[host]]\nname = %q\naddress = %q\n", h, lab.Host(t, h).Addr)
	}
	for _, v := range []struct{ id, base int }{{10, 0}, {20, 32}, {30, 64}} {
		var addrs []string
		for i, h := range hosts {
			addrs = append(addrs, fmt.Sprintf("%s = \"203.0.113.%d/27\"", h, v.base+11+i))
		}
		fmt.Fprintf(&b, "\n[[vlan]]\nid = %d\ngateway = \"203.0.113.%d\"\nhosts = { %s }\n", v.id, v.base+1, strings.Join(addrs, ", "))
	}
	b.WriteString(`
[registry]
host = "docker01"

[[image]]
source = "busybox:latest"
tag = "busybox:v1"

[[network]]
name = "mac_net10"
subnet = "203.0.113.128/26"
gateway = "203.0.113.129"
vlan = 10

[[network]]
name = "mac_net20"
subnet = "203.0.113.192/26"
gateway = "203.0.113.193"
vlan = 20

[[network]]
name = "mac_net30"
subnet = "203.0.113.96/27"
gateway = "203.0.113.97"
vlan = 30
`)
	for _, c := range containers {
		fmt.Fprintf(&b, "\n[[container]]\nname = %q\nhost = %q\nnetwork = %q\nip = %q\nimage = \"busybox:v1\"\n", c.name, c.host, c.net, c.ip)
	}
	fmt.Fprintf(&b, "\n[[router]]\nhost = %q\nnetworks = [\"mac_net10\", \"mac_net20\"]\n", router)
	path := filepath.Join(t.TempDir(), "router.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type pair struct {
	From, To, FromHost, ToHost string
	Expect, Got                bool
	RoutedBy                   string `json:"routed_by"`
}

type verifyOut struct {
	OK       bool
	Pairs    []pair
	Problems []string
	Routers  []struct {
		Host     string
		Networks []string
	}
}

func verifyJSON(t *testing.T, lab *labtest.Lab, inv string) (verifyOut, labtest.Result) {
	t.Helper()
	var v verifyOut
	r := lab.RunMvorch(t, "verify", "--output", "json", inv)
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("verify json: %v\n%s\n%s", err, r.Stdout, r.Stderr)
	}
	return v, r
}

// settle waits until verify passes (see labtest.VerifyUntilOK) and returns
// its report.
func settle(t *testing.T, lab *labtest.Lab, inv, after string) verifyOut {
	t.Helper()
	var v verifyOut
	r := lab.VerifyUntilOK(t, inv, after, 90*time.Second)
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("verify json: %v\n%s", err, r.Stdout)
	}
	return v
}

// checkPairs: every pair between mac_net10 and mac_net20 is expected to
// answer through router and did; every pair with mac_net30 (no router) is
// expected not to and did not; verify names the router.
func checkPairs(t *testing.T, v verifyOut, router string) {
	t.Helper()
	netOf := map[string]string{}
	for _, c := range containers {
		netOf[c.name] = c.net
	}
	routed := 0
	for _, p := range v.Pairs {
		a, b := netOf[p.From], netOf[p.To]
		switch {
		case a == b:
			if !p.Expect || !p.Got || p.RoutedBy != "" {
				t.Errorf("same network: %+v", p)
			}
		case a == "mac_net30" || b == "mac_net30":
			if p.Expect || p.Got || p.RoutedBy != "" {
				t.Errorf("mac_net30 has no router, so it must stay unreachable: %+v", p)
			}
		default:
			routed++
			if !p.Expect || !p.Got || p.RoutedBy != router {
				t.Errorf("routed through %s: %+v", router, p)
			}
		}
	}
	if routed != 8 || len(v.Pairs) != 30 {
		t.Errorf("%d routed pairs of %d, want 8 of 30: %+v", routed, len(v.Pairs), v.Pairs)
	}
	if len(v.Routers) != 1 || v.Routers[0].Host != router {
		t.Errorf("verify's routers: %+v", v.Routers)
	}
}

// checkPings pings from inside bbox10 (docker01): bbox21 on docker02 and
// bbox20 on docker01 answer through the router, bbox30 on mac_net30 does not.
func checkPings(t *testing.T, lab *labtest.Lab) {
	t.Helper()
	for _, c := range []struct {
		to, ip string
		answer bool
	}{{"bbox21", "203.0.113.195", true}, {"bbox20", "203.0.113.194", true}, {"bbox30", "203.0.113.98", false}} {
		r := lab.Exec(t, "docker01", "docker exec bbox10 ping -c1 -W2 "+c.ip)
		if (r.Code == 0) != c.answer {
			t.Errorf("bbox10 -> %s (%s): exit %d, want an answer: %v\n%s", c.to, c.ip, r.Code, c.answer, r.Stdout)
		}
	}
}

// checkRouterHost: what mvorch wrote on the router is there and running:
// the gateway shims, forwarding on, the chain jumped to from jump.
func checkRouterHost(t *testing.T, lab *labtest.Lab, host, jump string) {
	t.Helper()
	out := lab.MustExec(t, host, `cat /proc/sys/net/ipv4/ip_forward; cat /etc/sysctl.d/90-mvorch-forward.conf;
ip -o -4 addr show dev mv-ens33.10; ip -o -4 addr show dev mv-ens33.20; iptables -w -S`)
	for _, want := range []string{"net.ipv4.ip_forward = 1", "203.0.113.129/32", "203.0.113.193/32",
		"-A " + jump + " -j MVORCH-ROUTER", "-A MVORCH-ROUTER -s 203.0.113.128/26 -d 203.0.113.192/26 -j ACCEPT",
		"-A MVORCH-ROUTER -s 203.0.113.192/26 -d 203.0.113.128/26 -j ACCEPT"} {
		if !strings.Contains(out, want) {
			t.Errorf("%s lacks %q:\n%s", host, want, out)
		}
	}
	if !strings.HasPrefix(out, "1\n") {
		t.Errorf("%s: ip_forward is not 1:\n%s", host, out)
	}
}

// planNothing: once set up, and after reboots, a plan has nothing to do.
func planNothing(t *testing.T, lab *labtest.Lab, inv, after string) {
	t.Helper()
	if r := lab.RunMvorch(t, "plan", "--detailed-exitcode", inv); r.Code != 0 {
		t.Errorf("plan after %s: exit %d\n%s\n%s", after, r.Code, r.Stdout, r.Stderr)
	}
}

// A router on a host that runs containers, between mac_net10 and
// mac_net20: containers of the two networks reach each other on both hosts,
// mac_net30 stays apart, and so they stay after `systemctl restart docker`
// on the router, a stop and start of docker, and after it reboots cleanly
// and loses power, without mvorch. rollback --all restores every host's
// snapshot, forwarding and firewall included. The router is docker02, an
// rhel10 host (its gateways are NetworkManager macvlan profiles), then
// docker01, an rhel7 host (units).
func TestLabRouterOnDockerHost(t *testing.T) {
	for _, router := range []string{"docker02", "docker01"} {
		t.Run(router+"-"+labtest.Get(t).Host(t, router).Flavor, func(t *testing.T) { routerOnDockerHost(t, router) })
	}
}

func routerOnDockerHost(t *testing.T, router string) {
	lab := labtest.Get(t)
	inv := inventory(t, lab, router, "docker01", "docker02")
	before := lab.Snapshots(t)
	rolledBack := false
	t.Cleanup(func() {
		if !rolledBack {
			lab.RunMvorch(t, "rollback", "--all", "--yes", inv)
		}
	})

	lab.MustMvorch(t, "run", inv)
	v, _ := verifyJSON(t, lab, inv)
	checkPairs(t, v, router)
	checkPings(t, lab)
	checkRouterHost(t, lab, router, "DOCKER-USER")
	text := lab.MustMvorch(t, "verify", inv).Stdout
	for _, want := range []string{"rt: reachable through a router", "routed: " + router + " forwards between mac_net10, mac_net20", "bbox10  .       rt"} {
		if !strings.Contains(text, want) {
			t.Errorf("verify's text lacks %q:\n%s", want, text)
		}
	}
	planNothing(t, lab, inv, "the run")

	// A restart restarts the firewall unit (PartOf=docker.service); a stop
	// stops it, and the start after brings it back (docker.service.wants).
	for _, cmd := range []string{"systemctl restart docker", "systemctl stop docker docker.socket; systemctl reset-failed docker; systemctl start docker"} {
		lab.MustExec(t, router, "systemctl reset-failed docker; "+cmd)
		checkPairs(t, settle(t, lab, inv, cmd), router)
		checkRouterHost(t, lab, router, "DOCKER-USER")
	}

	for _, hard := range []bool{false, true} {
		lab.Reboot(t, router, hard)
		what := fmt.Sprintf("a reboot of %s (power cut: %v)", router, hard)
		checkPairs(t, settle(t, lab, inv, what), router)
		checkRouterHost(t, lab, router, "DOCKER-USER")
		checkPings(t, lab)
		planNothing(t, lab, inv, what)
	}

	lab.MustMvorch(t, "rollback", "--all", "--yes", inv)
	rolledBack = true
	labtest.SameSnapshots(t, "after rollback --all", before, lab.Snapshots(t))
}

// makePlain masks docker on host and reboots it: a plain Linux host, with
// no docker, FORWARD's policy ACCEPT and forwarding off. The cleanup gives
// it docker back.
func makePlain(t *testing.T, lab *labtest.Lab, host string) {
	t.Helper()
	t.Cleanup(func() {
		lab.MustExec(t, host, "systemctl unmask docker.service docker.socket && systemctl start docker")
	})
	lab.MustExec(t, host, "systemctl mask --now docker.service docker.socket >/dev/null 2>&1")
	lab.Reboot(t, host, false)
	if out := lab.MustExec(t, host, "cat /proc/sys/net/ipv4/ip_forward; iptables -w -S FORWARD"); out != "0\n-P FORWARD ACCEPT\n" {
		t.Fatalf("%s is not plain after masking docker and a reboot:\n%s", host, out)
	}
}

// docker03 as a plain router: no docker, no containers. mvorch leaves
// docker alone there, makes the gateways, turns forwarding on and jumps to
// the chain from FORWARD (where a plain host forwards everything, so the
// chain drops what is not between the routed subnets: mac_net30 stays
// apart). It all comes back after a power cut and a clean reboot, and
// rollback --all puts forwarding back off and FORWARD as it was.
func TestLabRouterOnPlainHost(t *testing.T) {
	lab := labtest.Get(t)
	makePlain(t, lab, "docker03")
	inv := inventory(t, lab, "docker03", "docker01", "docker02", "docker03")
	before := lab.Snapshots(t)
	rolledBack := false
	t.Cleanup(func() {
		if !rolledBack {
			lab.RunMvorch(t, "rollback", "--all", "--yes", inv)
		}
	})

	r := lab.MustMvorch(t, "run", "--output", "json", inv)
	var run struct {
		Changes []struct{ Step, Host string }
	}
	if err := json.Unmarshal([]byte(r.Stdout), &run); err != nil {
		t.Fatal(err)
	}
	for _, ch := range run.Changes {
		if ch.Host == "docker03" && (ch.Step == "registry-trust" || ch.Step == "docker-restart" || ch.Step == "networks") {
			t.Errorf("a docker change on the plain host: %+v", ch)
		}
	}
	v, _ := verifyJSON(t, lab, inv)
	checkPairs(t, v, "docker03")
	checkPings(t, lab)
	checkRouterHost(t, lab, "docker03", "FORWARD")
	if out := lab.MustExec(t, "docker03", "iptables -w -S FORWARD; systemctl is-active docker || true"); !strings.Contains(out, "-P FORWARD ACCEPT") || !strings.Contains(out, "inactive") {
		t.Errorf("docker03 must stay without docker:\n%s", out)
	}

	for _, hard := range []bool{true, false} {
		lab.Reboot(t, "docker03", hard)
		what := fmt.Sprintf("a reboot of docker03 (power cut: %v)", hard)
		checkPairs(t, settle(t, lab, inv, what), "docker03")
		checkRouterHost(t, lab, "docker03", "FORWARD")
		planNothing(t, lab, inv, what)
	}

	lab.MustMvorch(t, "rollback", "--all", "--yes", inv)
	rolledBack = true
	labtest.SameSnapshots(t, "after rollback --all", before, lab.Snapshots(t))
}
