// Package flavors_test runs mvorch on a lab whose hosts are of the three
// kinds mvorch knows how to configure: docker01 an rhel7 host (ifcfg files,
// network-scripts), docker02 an rhel10 host (NetworkManager keyfiles, no
// network-scripts, no ifup) and docker03 an ubuntu host (netplan rendering
// for systemd-networkd): one inventory, a mixed fleet, each host configured
// with its own tool.
package flavors_test

import (
	"bufio"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mvorch/mvorch/testbed/labtest"
)

func TestMain(m *testing.M) {
	labtest.MainWith(m, labtest.Options{Hosts: 3, Flavors: []string{"rhel7", "rhel10", "ubuntu"}})
}

// ifindexes are the interface indexes of a host's links: an interface taken
// down and made again gets a new one.
func ifindexes(t *testing.T, lab *labtest.Lab, host string) string {
	t.Helper()
	return lab.MustExec(t, host, "ip -o link | awk '{print $1, $2}' | grep -v veth | sort")
}

// The article's 4.2 on the three kinds of host at once. plan says which
// backend each host got and shows the keyfiles and netplan files as diffs,
// and writes no ifcfg file where there are no network-scripts; run builds
// it and containers reach each other across the kinds; a second run
// changes and restarts nothing; clean reboots and power cuts keep it
// working without mvorch; rollback --all puts every host back.
func TestLabFlavorsArticle42(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory()
	before := lab.Snapshots(t)

	p := lab.PlanJSON(t, inv)
	backends := map[string]string{}
	for _, b := range p.NetworkConfig {
		backends[b.Host] = b.Backend + ": " + b.Why
	}
	for host, want := range map[string]string{
		"docker01": "ifcfg: auto: /etc/sysconfig/network-scripts and ifup are there",
		"docker02": "networkmanager: auto: NetworkManager is running",
		"docker03": "netplan: auto: /etc/netplan and netplan are there, systemd-networkd is running",
	} {
		if !strings.HasPrefix(backends[host], want) {
			t.Errorf("%s: network_config %q, want %q...", host, backends[host], want)
		}
	}
	diffs := map[string]string{}
	for _, ch := range p.Changes {
		diffs[ch.Host] += ch.Diff
		if ch.Host != "docker01" && strings.Contains(ch.Target+ch.Diff, "network-scripts") {
			t.Errorf("%s: an ifcfg change on a host without network-scripts: %+v", ch.Host, ch)
		}
	}
	for host, wants := range map[string][]string{
		"docker02": {
			"+++ /etc/NetworkManager/system-connections/ens33.10.nmconnection",
			"+type=vlan\n+interface-name=ens33.10\n",
			"+address1=203.0.113.12/26\n+gateway=203.0.113.1\n+method=manual\n",
			"--- /etc/NetworkManager/system-connections/ens33.nmconnection\n+++ /etc/NetworkManager/system-connections/ens33.nmconnection\n",
			"+accept-all-mac-addresses=1\n",
		},
		"docker03": {
			"+++ /etc/netplan/90-mvorch-ens33.20.yaml",
			"+  vlans:\n+    \"ens33.20\":\n+      id: 20\n+      link: \"ens33\"\n+      addresses:\n+        - \"203.0.113.77/26\"\n",
			"+++ /etc/systemd/network/10-netplan-ens33.network.d/mvorch-promisc.conf",
			"+Promiscuous=yes\n",
		},
	} {
		for _, want := range wants {
			if !strings.Contains(diffs[host], want) {
				t.Errorf("%s: plan lacks %q:\n%s", host, want, diffs[host])
			}
		}
	}
	labtest.SameSnapshots(t, "after plan", before, lab.Snapshots(t))
	t.Cleanup(func() { lab.Reset(t, inv, before) })

	out := lab.MustRunJSON(t, inv)
	if out.Summary.Failed != 0 || !out.Verify.OK || len(out.Verify.Pairs) != 30 {
		t.Fatalf("run: %+v", out)
	}
	// Containers on each kind of host reach those of the same VLAN on the
	// others (verify checked every pair; one by hand, rhel7 -> rhel10).
	if r := lab.Exec(t, "docker01", "docker exec bbox10 ping -c1 -W2 203.0.113.131"); r.Code != 0 {
		t.Errorf("bbox10 (rhel7) -> bbox11 (rhel10): %+v", r)
	}
	for host, files := range map[string]string{
		"docker02": "/etc/NetworkManager/system-connections/ens33.10.nmconnection /etc/NetworkManager/system-connections/ens33.20.nmconnection /etc/NetworkManager/system-connections/ens33.nmconnection",
		"docker03": "/etc/netplan/90-mvorch-ens33.10.yaml /etc/netplan/90-mvorch-ens33.20.yaml",
	} {
		if got := strings.Fields(lab.MustExec(t, host, "stat -c %a "+files)); strings.Join(got, " ") != strings.TrimSpace(strings.Repeat("600 ", len(got))) || len(got) == 0 {
			t.Errorf("%s: modes %v, want 600 (NetworkManager and netplan refuse files others may read)", host, got)
		}
		if r := lab.Exec(t, host, "ls /etc/sysconfig/network-scripts"); r.Code == 0 {
			t.Errorf("%s: /etc/sysconfig/network-scripts was made", host)
		}
	}
	// NetworkManager has the VLAN profiles loaded; networkd was given the VLANs.
	if got := lab.MustExec(t, "docker02", "nmcli -g connection.type,vlan.id,ipv4.addresses connection show uuid \"$(sed -n 's/^uuid=//p' /etc/NetworkManager/system-connections/ens33.20.nmconnection)\""); got != "vlan\n20\n203.0.113.76/26\n" {
		t.Errorf("docker02: NetworkManager's profile of ens33.20: %q", got)
	}
	if got := lab.MustExec(t, "docker03", "grep -h ^VLAN= /run/systemd/network/10-netplan-ens33.network"); got != "VLAN=ens33.10\nVLAN=ens33.20\n" {
		t.Errorf("docker03: networkd's ens33: %q", got)
	}

	idx, pids := map[string]string{}, map[string]string{}
	for _, h := range lab.Hosts {
		idx[h.Name], pids[h.Name] = ifindexes(t, lab, h.Name), lab.DockerdPID(t, h.Name)
	}
	again := lab.MustRunJSON(t, inv)
	if again.Summary.Added+again.Summary.Changed+again.Summary.Removed != 0 || !again.Verify.OK {
		t.Errorf("second run changed something: %+v", again)
	}
	for _, h := range lab.Hosts {
		if got := ifindexes(t, lab, h.Name); got != idx[h.Name] {
			t.Errorf("%s: the second run made interfaces again:\n%s\nwas\n%s", h.Name, got, idx[h.Name])
		}
		if pid := lab.DockerdPID(t, h.Name); pid != pids[h.Name] {
			t.Errorf("%s: the second run restarted docker", h.Name)
		}
	}

	// Reboots, without mvorch: promisc, VLANs and containers come back from
	// each host's own configuration.
	lab.Reboot(t, "docker02", false)
	lab.Reboot(t, "docker03", true)
	lab.VerifyUntilOK(t, inv, "rebooting docker02 (clean) and docker03 (power cut)", 90*time.Second)
	lab.Reboot(t, "docker02", true)
	lab.Reboot(t, "docker03", false)
	lab.VerifyUntilOK(t, inv, "rebooting docker02 (power cut) and docker03 (clean)", 90*time.Second)
	for _, h := range []string{"docker02", "docker03"} {
		if got := lab.MustExec(t, h, "ip -o link show ens33"); !strings.Contains(got, "PROMISC") {
			t.Errorf("%s: ens33 not promiscuous after reboots: %s", h, got)
		}
	}
	if r := lab.RunMvorch(t, "plan", "--detailed-exitcode", inv); r.Code != 0 {
		t.Errorf("plan after the reboots: exit %d\n%s", r.Code, r.Stdout)
	}
}

// pinger pings addr every 50 ms from the controller until stop is called,
// and then says how many of its pings went unanswered.
func pinger(t *testing.T, addr string) (stop func() (sent, lost int)) {
	t.Helper()
	cmd := exec.Command("ping", "-n", "-i", "0.05", "-W", "1", addr)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	done := make(chan [2]int)
	go func() {
		var tx, rx int
		sc := bufio.NewScanner(stdout)
		stat := regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`)
		for sc.Scan() {
			if m := stat.FindStringSubmatch(sc.Text()); m != nil {
				fmt.Sscan(m[1], &tx)
				fmt.Sscan(m[2], &rx)
			}
		}
		done <- [2]int{tx, rx}
	}()
	return func() (int, int) {
		cmd.Process.Signal(syscall.SIGINT)
		r := <-done
		cmd.Wait()
		return r[0], r[0] - r[1]
	}
}

// watchAddr holds an ssh session to host that checks every 5 ms that ens33
// has addr; stop ends it and returns what it saw missing (and whether the
// session broke).
func watchAddr(t *testing.T, lab *labtest.Lab, host, addr string) (stop func() string) {
	t.Helper()
	script := fmt.Sprintf("while [ ! -e /tmp/mvorch-watch-stop ]; do ip -o -4 addr show dev ens33 | grep -q ' %s/' || echo \"missing at $(date +%%T.%%N)\"; sleep 0.005; done; echo watched", addr)
	lab.MustExec(t, host, "rm -f /tmp/mvorch-watch-stop")
	cmd := exec.Command("ssh", append(lab.SSHArgs(addr), script)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		lab.Exec(t, host, "touch /tmp/mvorch-watch-stop; sleep 0.1; rm -f /tmp/mvorch-watch-stop")
	})
	time.Sleep(500 * time.Millisecond)
	return func() string {
		lab.MustExec(t, host, "touch /tmp/mvorch-watch-stop")
		err := cmd.Wait()
		lab.MustExec(t, host, "rm -f /tmp/mvorch-watch-stop")
		s := out.String()
		if err != nil || !strings.HasSuffix(s, "watched\n") {
			s += fmt.Sprintf("(the ssh session ended: %v)", err)
		}
		return strings.TrimSuffix(s, "watched\n")
	}
}

// The connection mvorch uses is never disturbed: while a run changes ens33's
// own NetworkManager profile (accept-all-mac-addresses) and the .network
// networkd runs it with (VLAN=, the promisc drop-in), and while rollback
// puts them back, ens33 keeps its address (watched from inside through an
// ssh session that must not break) and answers every ping.
func TestLabFlavorsParentUndisturbed(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory()
	before := lab.Snapshots(t)
	t.Cleanup(func() { lab.Reset(t, inv, before) })
	watch := func(what string, do func()) {
		t.Helper()
		var stops []func() string
		var pings []func() (int, int)
		hosts := []string{"docker02", "docker03"}
		for _, h := range hosts {
			addr := lab.Host(t, h).Addr
			stops = append(stops, watchAddr(t, lab, h, addr))
			pings = append(pings, pinger(t, addr))
		}
		do()
		time.Sleep(time.Second) // what networkd and NetworkManager do after the commands return
		for i, h := range hosts {
			if seen := stops[i](); seen != "" {
				t.Errorf("%s: during %s ens33 lost its address:\n%s", h, what, seen)
			}
			sent, lost := pings[i]()
			t.Logf("%s: during %s: %d pings, %d lost", h, what, sent, lost)
			if sent < 20 || lost > 0 {
				t.Errorf("%s: during %s %d of %d pings were lost", h, what, lost, sent)
			}
		}
	}
	watch("run", func() { lab.MustRunJSON(t, "--no-verify", inv) })
	watch("rollback --all", func() { lab.MustMvorch(t, "rollback", "--all", "--yes", inv) })
}

// Host access on each kind of host, on the article's 4.1 (one macvlan
// network on the NIC itself): a keyfile type=macvlan on rhel10, mvorch's
// unit beside systemd-networkd on ubuntu. The host and its containers reach
// each other; networkd leaves the unit's shim alone across a reload and a
// restart; reboots keep it; rollback --all removes it all.
func TestLabFlavorsHostAccess(t *testing.T) {
	lab := labtest.Get(t)
	inv := labtest.Variant(t, lab.Inventory41(), "gateway = \"203.0.113.129\"\n",
		"gateway = \"203.0.113.129\"\nhost_access = { docker01 = \"203.0.113.180\", docker02 = \"203.0.113.181\", docker03 = \"203.0.113.182\" }\n")
	before := lab.Snapshots(t)
	t.Cleanup(func() { lab.Reset(t, inv, before) })
	p := lab.PlanJSON(t, inv)
	var targets []string
	for _, ch := range p.Changes {
		if ch.Step == "host-access" {
			targets = append(targets, ch.Host+" "+firstLine(ch.Diff, "+++ "))
		}
	}
	if want := []string{
		"docker01 +++ /etc/systemd/system/mvorch-shim-ens33.service",
		"docker02 +++ /etc/NetworkManager/system-connections/mvorch-shim-ens33.nmconnection",
		"docker03 +++ /etc/systemd/system/mvorch-shim-ens33.service",
	}; strings.Join(targets, "\n") != strings.Join(want, "\n") {
		t.Errorf("host-access files:\n%s\nwant\n%s", strings.Join(targets, "\n"), strings.Join(want, "\n"))
	}
	out := lab.MustRunJSON(t, inv)
	if !out.Verify.OK {
		t.Fatalf("run: %+v", out)
	}
	if got := lab.MustExec(t, "docker02", "nmcli -g GENERAL.CONNECTION,GENERAL.STATE device show mv-ens33"); got != "mvorch-shim-ens33\n100 (connected)\n" {
		t.Errorf("docker02: NetworkManager's mv-ens33: %q", got)
	}
	hostPing := func(after string) {
		t.Helper()
		for host, c := range map[string]string{"docker01": "203.0.113.139", "docker02": "203.0.113.149", "docker03": "203.0.113.159"} {
			if r := lab.Exec(t, host, "ping -c1 -W2 "+c); r.Code != 0 {
				t.Errorf("%s: the host does not reach its container %s %s: %s", host, c, after, r.Stdout)
			}
		}
	}
	hostPing("after run")
	lab.MustExec(t, "docker03", "networkctl reload && sleep 1 && systemctl restart systemd-networkd && sleep 2")
	if got := lab.MustExec(t, "docker03", "ip -o -4 addr show dev mv-ens33; ip -o -4 route show dev mv-ens33"); !strings.Contains(got, "203.0.113.182/32") || !strings.Contains(got, "203.0.113.128/26 scope link src 203.0.113.182") {
		t.Errorf("docker03: the shim after networkctl reload and a restart of systemd-networkd:\n%s", got)
	}
	if r := lab.RunMvorch(t, "plan", "--detailed-exitcode", inv); r.Code != 0 {
		t.Errorf("plan after run (and networkd's reload and restart): exit %d\n%s", r.Code, r.Stdout)
	}
	lab.Reboot(t, "docker02", true)
	lab.Reboot(t, "docker03", false)
	lab.VerifyUntilOK(t, inv, "rebooting docker02 and docker03", 90*time.Second)
	hostPing("after reboots")
}

func firstLine(diff, prefix string) string {
	for _, l := range strings.Split(diff, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// A router on the rhel10 host, planned from its real facts: its gateway
// interfaces are keyfiles type=macvlan on the VLANs, beside the firewall
// and forwarding files every kind of host gets. (Running it needs a lab
// whose 802.1Q stand-in can be a macvlan's parent for NetworkManager: the
// stand-in is itself a macvlan, the kernel hangs a macvlan made on it off
// ens33, and NetworkManager then refuses the profile, "Failed to find a
// compatible device for this connection". Host access on the NIC itself
// runs for real in TestLabFlavorsHostAccess.)
func TestLabFlavorsRouterPlanOnRHEL10(t *testing.T) {
	lab := labtest.Get(t)
	inv := labtest.Variant(t, lab.Inventory(), "[[container]]\nname = \"bbox10\"",
		"[[router]]\nhost = \"docker02\"\nnetworks = [\"mac_net10\", \"mac_net20\"]\n\n[[container]]\nname = \"bbox10\"")
	p := lab.PlanJSON(t, inv)
	var diff string
	for _, ch := range p.Changes {
		if ch.Host == "docker02" && ch.Step == "router" {
			diff += ch.Diff
		}
	}
	for _, want := range []string{
		"+++ /etc/NetworkManager/system-connections/mvorch-router-ens33.10.nmconnection",
		"+type=macvlan\n+interface-name=mv-ens33.10\n",
		"+[macvlan]\n+mode=2\n+parent=ens33.20\n",
		"+address1=203.0.113.129/32\n",
		"+route1=203.0.113.192/26\n+route1_options=src=203.0.113.193\n",
		"+++ /etc/sysctl.d/90-mvorch-forward.conf",
		"+++ /etc/systemd/system/mvorch-forward.service",
	} {
		if !strings.Contains(diff, want) {
			t.Errorf("docker02's router plan lacks %q:\n%s", want, diff)
		}
	}
}

// A backend named in the inventory is taken as it is where its tool is, and
// is a clear error on the hosts without it, found from their real facts.
func TestLabFlavorsForcedBackend(t *testing.T) {
	lab := labtest.Get(t)
	inv := labtest.Variant(t, lab.Inventory(), "promisc = true\n", "promisc = true\nnetwork_config = \"netplan\"\n")
	r := lab.RunMvorch(t, "plan", inv)
	if r.Code != 1 {
		t.Fatalf("plan with netplan forced on every host: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{
		`docker01: promisc: network_config = "netplan" but docker01 lacks /etc/netplan`,
		`docker02: promisc: network_config = "netplan" but docker02 lacks /etc/netplan`,
	} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("plan's errors lack %q:\n%s", want, r.Stderr)
		}
	}
	if strings.Contains(r.Stderr, "docker03") {
		t.Errorf("docker03 (ubuntu) failed with netplan forced:\n%s", r.Stderr)
	}
	// Per host: docker02 as the NetworkManager host it is, the rest auto.
	inv = labtest.Variant(t, lab.Inventory(), "address = \"198.51.100.12\"\n", "address = \"198.51.100.12\"\nnetwork_config = \"networkmanager\"\n")
	for _, b := range lab.PlanJSON(t, inv).NetworkConfig {
		if b.Host == "docker02" && (b.Backend != "networkmanager" || b.Why != `network_config = "networkmanager"`) {
			t.Errorf("docker02: %+v", b)
		}
	}
}
