package steps

import (
	"bytes"
	"net/netip"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/sh"
)

// ens33Profile is the NIC's keyfile as RHEL 10's installer (and the lab's
// rhel10 flavour) leaves it.
const ens33Profile = `[connection]
id=ens33
uuid=0f9e2c55-30a8-4bd4-9a5e-4c3f1c1b2a11
type=ethernet
autoconnect-priority=-999
interface-name=ens33

[ethernet]

[ipv4]
address1=198.51.100.11/24
method=manual

[ipv6]
addr-gen-mode=eui64
method=ignore

[proxy]
`

const ens33Profile0600 = NMDir + "/ens33.nmconnection"

// nmFacts is an rhel10 host: NetworkManager running, ens33's keyfile
// active, no network-scripts, no ifup.
func nmFacts(name string) *Facts {
	f := okFacts(name)
	f.NetworkScripts = false
	f.Net = NetTools{Asked: true, NetworkManager: true, NMActive: map[string]string{"ens33": ens33Profile0600}}
	f.Files[ens33Profile0600] = &File{Data: []byte(ens33Profile), Mode: 0o600}
	return f
}

// netplanFacts is an ubuntu host: netplan rendering for systemd-networkd.
func netplanFacts(name string) *Facts {
	f := okFacts(name)
	f.NetworkScripts = false
	f.Net = NetTools{Netplan: true, NetplanDir: true, Asked: true, Networkd: true}
	f.Files[networkdFor("ens33")] = &File{Data: []byte("[Match]\nName=ens33\n"), Mode: 0o644}
	return f
}

func TestChooseBackend(t *testing.T) {
	rhel7 := okFacts("h")
	rhel7.Net = NetTools{Ifup: true}
	// RHEL 9 with the leftover directory but no ifup, NetworkManager running.
	rhel9 := nmFacts("h")
	rhel9.NetworkScripts = true
	bare := okFacts("h")
	bare.NetworkScripts = false
	bare.Net = NetTools{Asked: true}
	noNetworkd := netplanFacts("h")
	noNetworkd.Net.Networkd = false
	cases := []struct {
		name, config string
		f            *Facts
		want, why    string
	}{
		{"rhel7 auto", "auto", rhel7, "ifcfg", "auto: /etc/sysconfig/network-scripts and ifup are there"},
		{"rhel10 auto", "auto", nmFacts("h"), "networkmanager", "auto: NetworkManager is running"},
		{"rhel9 auto", "auto", rhel9, "networkmanager", "auto: NetworkManager is running"},
		{"ubuntu auto", "auto", netplanFacts("h"), "netplan", "auto: /etc/netplan and netplan are there, systemd-networkd is running"},
		{"nothing", "auto", bare, "", `no network configuration tool mvorch knows on h: looked for /etc/sysconfig/network-scripts with ifup (ifcfg), a running NetworkManager (keyfiles), and /etc/netplan with netplan and a running systemd-networkd (netplan); set network_config = "ifcfg", "networkmanager" or "netplan"`},
		{"forced ifcfg", "ifcfg", rhel7, "ifcfg", `network_config = "ifcfg"`},
		{"forced ifcfg without ifup", "ifcfg", rhel9, "", `network_config = "ifcfg" but h has no /etc/sysconfig/network-scripts with ifup`},
		{"forced networkmanager", "networkmanager", rhel9, "networkmanager", `network_config = "networkmanager"`},
		{"forced networkmanager, not running", "networkmanager", rhel7, "", `NetworkManager is not running on h`},
		{"forced netplan", "netplan", netplanFacts("h"), "netplan", `network_config = "netplan"`},
		{"forced netplan without networkd", "netplan", noNetworkd, "", `h lacks a running systemd-networkd`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ChooseBackend(&inventory.Host{Name: "h", NetworkConfig: c.config, Parent: "ens33"}, c.f)
			if got.Backend != c.want || !strings.Contains(got.Why, c.why) {
				t.Errorf("got %q (%s), want %q (%s)", got.Backend, got.Why, c.want, c.why)
			}
			if (got.Err != nil) != (c.want == "") {
				t.Errorf("err %v", got.Err)
			}
		})
	}
}

// A host without any tool fails where it needs one, naming the way out.
func TestNoBackendIsAClearError(t *testing.T) {
	f := okFacts("docker02")
	f.NetworkScripts = false
	f.Net = NetTools{Asked: true}
	_, err := Build(articleInventory(t), map[string]*Facts{"docker01": okFacts("docker01"), "docker02": f})
	if err == nil || !strings.Contains(err.Error(), "docker02: promisc: no network configuration tool mvorch knows on docker02") {
		t.Fatalf("err %v", err)
	}
}

func okIfcfg(name string) *Facts {
	f := okFacts(name)
	f.Net = NetTools{Ifup: true}
	return f
}

// networkChanges are the changes of the steps that configure the network.
func networkChanges(p *Plan, host string) []*Change {
	var out []*Change
	for _, step := range []string{"promisc", "vlan-ifcfg", "host-access", "router"} {
		out = append(out, changesOf(p, host, step)...)
	}
	return out
}

func planText(chs []*Change) string {
	var b strings.Builder
	for _, ch := range chs {
		b.WriteString(ch.Step + " " + string(ch.Action) + " " + ch.Target + "  " + ch.Detail + "\n" + ch.Diff)
	}
	return b.String()
}

// An rhel10 host next to an rhel7 one: its VLANs are keyfiles (0600, a
// stable uuid, gateway, autoconnect), loaded and brought up by uuid; its
// promisc is accept-all-mac-addresses in ens33's own profile, shown as a
// diff; no ifcfg file and no unit is written there. Planned again on the
// outcome, nothing changes.
func TestNetworkManagerHostPlan(t *testing.T) {
	inv := hostAccessInventory(t)
	facts := map[string]*Facts{"docker01": okIfcfg("docker01"), "docker02": nmFacts("docker02")}
	p, err := Build(inv, facts)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Backends) != 2 || p.Backends[0].Backend != "ifcfg" || p.Backends[1].Backend != "networkmanager" {
		t.Fatalf("backends %+v", p.Backends)
	}
	chs := networkChanges(p, "docker02")
	text := planText(chs)
	for _, ch := range chs {
		for _, op := range ch.Do {
			if op.Kind == OpWrite && (strings.HasPrefix(op.Path, NetworkScripts) || strings.HasPrefix(op.Path, UnitDir)) {
				t.Errorf("rhel10 host gets %s", op.Path)
			}
			if op.Kind == OpWrite && strings.HasPrefix(op.Path, NMDir) && op.Mode != 0o600 {
				t.Errorf("%s mode %o", op.Path, op.Mode)
			}
		}
	}
	uuid := nmUUID("docker02", "ens33.10")
	containsAll(t, text,
		"promisc change promisc at boot: ens33  write, then nmcli connection load "+ens33Profile0600+"\n",
		"--- "+ens33Profile0600+"\n+++ "+ens33Profile0600+"\n",
		"@@ -8,2 +8,4 @@\n [ethernet]\n+"+nmPromiscMark+"\n+accept-all-mac-addresses=1\n \nvlan-ifcfg",
		"vlan-ifcfg add "+NMDir+"/ens33.10.nmconnection  write, then nmcli connection up uuid "+uuid+"\n",
		"+type=vlan\n+interface-name=ens33.10\n+autoconnect=true\n",
		"+[vlan]\n+id=10\n+parent=ens33\n",
		"+address1=192.168.10.11/24\n+gateway=192.168.10.2\n+method=manual\n",
		"+uuid="+uuid+"\n",
		"host-access add shim mv-ens33.10 on ens33.10 (172.16.10.251/32)  write, then nmcli connection up uuid "+nmUUID("docker02", "mvorch-shim-ens33.10")+"\n",
		"+type=macvlan\n+interface-name=mv-ens33.10\n",
		"+[macvlan]\n+mode=2\n+parent=ens33.10\n",
		"+address1=172.16.10.251/32\n+method=manual\n+never-default=true\n+route1=172.16.10.0/24\n+route1_options=src=172.16.10.251\n",
	)
	// The VLAN's change: load, up; undone by down, removal, load.
	vlan := changesOf(p, "docker02", "vlan-ifcfg")[0]
	if got := opsText(vlan.Do); got != "write "+NMDir+"/ens33.10.nmconnection\nexec nmcli connection load "+NMDir+"/ens33.10.nmconnection\nexec nmcli connection up uuid "+uuid+"\n" {
		t.Errorf("do:\n%s", got)
	}
	if got := opsText(vlan.Undo); got != "exec nmcli connection down uuid "+uuid+" >/dev/null 2>&1 || true\nexec ip link del dev ens33.10 2>/dev/null || true\nremove "+NMDir+"/ens33.10.nmconnection\nexec nmcli connection load "+NMDir+"/ens33.10.nmconnection\n" {
		t.Errorf("undo:\n%s", got)
	}
	// The parent's profile comes back byte for byte.
	promisc := changeTo(p, "docker02", "promisc", "promisc at boot: ens33")
	if promisc == nil || promisc.Undo[0].Kind != OpWrite || string(promisc.Undo[0].Data) != ens33Profile || promisc.Undo[0].Mode != 0o600 {
		t.Fatalf("promisc undo %+v", promisc)
	}
	// docker01 is the article's host as before.
	if got := changesOf(p, "docker01", "vlan-ifcfg")[0].Target; got != NetworkScripts+"/ifcfg-ens33.10" {
		t.Errorf("docker01's VLAN: %s", got)
	}
	// Planned again on what the run leaves: nothing (the facts are the
	// projected state now).
	replanNothing(t, inv, facts, "docker02")
	// The same bytes on every run.
	facts2 := map[string]*Facts{"docker01": okIfcfg("docker01"), "docker02": nmFacts("docker02")}
	p3, _ := Build(inv, facts2)
	if planText(networkChanges(p3, "docker02")) != text {
		t.Error("a second rendering differs")
	}
}

// A VLAN whose keyfile is there but whose interface is not (NetworkManager
// gave up on it) is brought up again, and nothing else.
func TestNetworkManagerVLANStartAgain(t *testing.T) {
	inv := articleInventory(t)
	facts := map[string]*Facts{"docker01": okIfcfg("docker01"), "docker02": nmFacts("docker02")}
	if _, err := Build(inv, facts); err != nil {
		t.Fatal(err)
	}
	delete(facts["docker02"].Links, "ens33.20")
	p, err := Build(inv, facts)
	if err != nil {
		t.Fatal(err)
	}
	chs := changesOf(p, "docker02", "vlan-ifcfg")
	if len(chs) != 1 || chs[0].Action != ActionChange || opsText(chs[0].Do) != "exec nmcli connection up uuid "+nmUUID("docker02", "ens33.20")+"\n" {
		t.Fatalf("%s", planText(chs))
	}
}

// A VLAN no longer in the inventory: down, keyfile removed, NetworkManager
// told; the undo puts it back. promisc = false takes mvorch's key out of the
// NIC's profile again, leaving the rest of it as it was.
func TestNetworkManagerRemovals(t *testing.T) {
	inv := articleInventory(t)
	facts := map[string]*Facts{"docker01": okIfcfg("docker01"), "docker02": nmFacts("docker02")}
	if _, err := Build(inv, facts); err != nil {
		t.Fatal(err)
	}
	inv.VLANs = inv.VLANs[:1]
	inv.Networks = inv.Networks[:1]
	inv.Containers = nil
	inv.Hosts[1].Promisc = false
	p, err := Build(inv, facts)
	if err != nil {
		t.Fatal(err)
	}
	text := planText(networkChanges(p, "docker02"))
	containsAll(t, text,
		"promisc change promisc at boot: ens33  write, then nmcli connection load "+ens33Profile0600+" (mvorch's setting taken out: no longer in the inventory)\n",
		"-"+nmPromiscMark+"\n-accept-all-mac-addresses=1\n",
		"vlan-ifcfg remove "+NMDir+"/ens33.20.nmconnection  nmcli connection down uuid "+nmUUID("docker02", "ens33.20"),
	)
	if got := string(facts["docker02"].Files[ens33Profile0600].Data); got != ens33Profile {
		t.Errorf("profile after removal:\n%s", got)
	}
}

func TestNetworkManagerPromiscNeedsAKeyfile(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(f *Facts)
		want   string
	}{
		{"no active profile", func(f *Facts) { delete(f.Net.NMActive, "ens33") },
			"NetworkManager has no active profile on ens33 on docker02"},
		{"in memory", func(f *Facts) { f.Net.NMActive["ens33"] = "" },
			"the profile of ens33 on docker02 is not a keyfile in " + NMDir + " (it is only in NetworkManager's memory)"},
		{"ifcfg-rh", func(f *Facts) { f.Net.NMActive["ens33"] = NetworkScripts + "/ifcfg-ens33" },
			"(it is " + NetworkScripts + "/ifcfg-ens33): mvorch changes keyfiles only; make it one (nmcli connection migrate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := nmFacts("docker02")
			c.break_(f)
			_, err := Build(articleInventory(t), map[string]*Facts{"docker01": okIfcfg("docker01"), "docker02": f})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestWithAcceptAll(t *testing.T) {
	add := nmPromiscMark + "\naccept-all-mac-addresses=1\n"
	cases := []struct{ name, in, want string }{
		{"empty section", "[connection]\nid=a\n\n[ethernet]\n\n[ipv4]\nmethod=auto\n", "[connection]\nid=a\n\n[ethernet]\n" + add + "\n[ipv4]\nmethod=auto\n"},
		{"section with keys", "[ethernet]\nmtu=9000\n\n[ipv4]\n", "[ethernet]\nmtu=9000\n" + add + "\n[ipv4]\n"},
		{"old name, last section", "[connection]\nid=a\n[802-3-ethernet]\nmtu=1500", "[connection]\nid=a\n[802-3-ethernet]\nmtu=1500\n" + add},
		{"no section", "[connection]\nid=a\n", "[connection]\nid=a\n\n[ethernet]\n" + add},
		{"off", "[ethernet]\naccept-all-mac-addresses=0\nmtu=1\n", "[ethernet]\n" + add + "mtu=1\n"},
		{"on already", "[ethernet]\naccept-all-mac-addresses=1\n", "[ethernet]\naccept-all-mac-addresses=1\n"},
		{"other section's key", "[vlan]\naccept-all-mac-addresses=0\n[ethernet]\n", "[vlan]\naccept-all-mac-addresses=0\n[ethernet]\n" + add},
	}
	for _, c := range cases {
		got := string(withAcceptAll([]byte(c.in)))
		if got != c.want {
			t.Errorf("%s:\n%q\nwant\n%q", c.name, got, c.want)
		}
		if c.name != "on already" && c.name != "off" {
			if back, ok := withoutAcceptAll([]byte(got)); !ok || !bytes.Equal(back, []byte(c.in)) && !strings.HasPrefix(c.name, "old name") && c.name != "no section" {
				t.Errorf("%s: taken out again: %q", c.name, back)
			}
		}
	}
}

// The keyfiles mvorch writes are ones NetworkManager's own parser reads as
// meant (nmcli 1.42 parses a keyfile offline, without NetworkManager).
func TestKeyfilesParse(t *testing.T) {
	nmcli, err := osexec.LookPath("nmcli")
	if err != nil {
		t.Skip("no nmcli here to parse keyfiles with")
	}
	b := nmBackend{host: "docker02"}
	vlan, _ := b.VLAN(VLANIface{Name: "ens33.10", ID: 10, Parent: "ens33", Addr: netip.MustParsePrefix("192.168.10.11/24"), Gateway: netip.MustParseAddr("192.168.10.2")})
	shim := b.Shim(Shim{Name: "mv-ens33.10", Parent: "ens33.10", Addr: netip.MustParseAddr("172.16.10.251"), Routes: []netip.Prefix{netip.MustParsePrefix("172.16.10.0/24")}, Why: "host access"})
	// nmcli prints the profile as it parsed it, written back from its
	// settings: each line below is a property it read as meant.
	for _, c := range []struct {
		data []byte
		want []string
	}{
		{vlan.Files[0].Data, []string{"id=ens33.10\n", "type=vlan\ninterface-name=ens33.10\n", "[vlan]\nflags=1\nid=10\nparent=ens33\n",
			"address1=192.168.10.11/24,192.168.10.2\nmethod=manual\n", "[ipv6]\nmethod=ignore\n"}},
		{shim.Files[0].Data, []string{"type=macvlan\ninterface-name=mv-ens33.10\n", "[macvlan]\nmode=2\nparent=ens33.10\n",
			"address1=172.16.10.251/32\nmethod=manual\nnever-default=true\nroute1=172.16.10.0/24\nroute1_options=src=172.16.10.251\n"}},
		{withAcceptAll([]byte(ens33Profile)), []string{"[ethernet]\naccept-all-mac-addresses=1\n", "address1=198.51.100.11/24\n"}},
	} {
		cmd := osexec.Command(nmcli, "--offline", "connection", "modify", "connection.zone", "")
		cmd.Stdin = bytes.NewReader(c.data)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("nmcli: %v: %s\n%s", err, out, c.data)
		}
		for _, w := range c.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("nmcli reads\n%s\nwithout %q", out, w)
			}
		}
	}
}

// An ubuntu host: VLANs are netplan files (0600), generated and reloaded
// into systemd-networkd, then waited for; promisc is a drop-in for the
// .network netplan generates for ens33 (its new directory removed again by
// the undo); shims are units as on ifcfg hosts, ordered after networkd.
func TestNetplanHostPlan(t *testing.T) {
	inv := hostAccessInventory(t)
	facts := map[string]*Facts{"docker01": okIfcfg("docker01"), "docker02": netplanFacts("docker02")}
	p, err := Build(inv, facts)
	if err != nil {
		t.Fatal(err)
	}
	chs := networkChanges(p, "docker02")
	text := planText(chs)
	dropIn := "/etc/systemd/network/10-netplan-ens33.network.d/mvorch-promisc.conf"
	containsAll(t, text,
		"promisc add promisc at boot: ens33  write, then networkctl reload\n",
		"+++ "+dropIn+"\n",
		"+[Link]\n+Promiscuous=yes\n",
		"+[Network]\n+KeepConfiguration=static\n",
		"vlan-ifcfg add /etc/netplan/90-mvorch-ens33.10.yaml  write, then netplan generate, networkctl reload, wait up to 20 s for ens33.10 to have 192.168.10.11/24\n",
		"+network:\n+  version: 2\n+  vlans:\n+    \"ens33.10\":\n+      id: 10\n+      link: \"ens33\"\n+      addresses:\n+        - \"192.168.10.11/24\"\n+      routes:\n+        - to: default\n+          via: \"192.168.10.2\"\n+          metric: 400\n",
		"+# Managed by mvorch: host access to mac_net10, macvlan mv-ens33.10 on ens33.10 (netplan cannot describe macvlan)\n",
		"+After=network-pre.target systemd-networkd.service\n",
	)
	vlan := changesOf(p, "docker02", "vlan-ifcfg")[0]
	if vlan.Do[0].Mode != 0o600 || opsText(vlan.Do[1:3]) != "exec netplan generate\nexec networkctl reload\n" || !strings.Contains(vlan.Do[3].Cmd, "did not get 192.168.10.11/24 from systemd-networkd within 20 s") {
		t.Errorf("do:\n%s", opsText(vlan.Do))
	}
	promisc := changeTo(p, "docker02", "promisc", "promisc at boot: ens33")
	if got := opsText(promisc.Undo); got != "remove "+dropIn+"\nexec test '!' -d /etc/systemd/network/10-netplan-ens33.network.d || rmdir --ignore-fail-on-non-empty -- /etc/systemd/network/10-netplan-ens33.network.d\n" {
		t.Errorf("promisc undo:\n%s", got)
	}
	replanNothing(t, inv, facts, "docker02")
}

// netplan's VLANs need their link in netplan: a parent it does not know is
// a clear error.
func TestNetplanParentNotInNetplan(t *testing.T) {
	f := netplanFacts("docker02")
	delete(f.Files, networkdFor("ens33"))
	_, err := Build(articleInventory(t), map[string]*Facts{"docker01": okIfcfg("docker01"), "docker02": f})
	if err == nil || !strings.Contains(err.Error(), "ens33 is not in netplan's configuration on docker02 (no /run/systemd/network/10-netplan-ens33.network)") {
		t.Fatalf("err %v", err)
	}
}

func TestParseNetTools(t *testing.T) {
	out := factsOutput("", marker+"netcfg@@", "netplan-dir", "units active inactive", "nmactive ens33:"+ens33Profile0600, "nmactive lo:")
	f, err := ParseFacts("h", out)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Net.NetplanDir || f.Net.Netplan || f.Net.Ifup || !f.Net.Asked || !f.Net.NetworkManager || f.Net.Networkd || f.Net.NMActive["ens33"] != ens33Profile0600 || len(f.Net.NMActive) != 2 {
		t.Errorf("%+v", f.Net)
	}
}

// containsAll fails the test for each of wants that text lacks.
func containsAll(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
}

// changeTo is host's change of step to target, or nil.
func changeTo(p *Plan, host, step, target string) *Change {
	for _, ch := range changesOf(p, host, step) {
		if ch.Target == target {
			return ch
		}
	}
	return nil
}

// replanNothing plans again on the facts a plan left (the projected state)
// and fails the test for any network change on host.
func replanNothing(t *testing.T, inv *inventory.Inventory, facts map[string]*Facts, host string) {
	t.Helper()
	p, err := Build(inv, facts)
	if err != nil {
		t.Fatal(err)
	}
	if chs := networkChanges(p, host); len(chs) != 0 {
		t.Errorf("second plan:\n%s", planText(chs))
	}
}

// The facts script's part that finds the tools, run by sh with stand-ins
// for systemctl and nmcli on PATH: a host whose network-scripts and ifup
// decide it (or one forced to ifcfg) asks no service; others ask systemctl,
// and nmcli where NetworkManager runs, and $nmp names the parent's profile.
func TestNetToolsScript(t *testing.T) {
	bin := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("systemctl", "echo asked >>"+filepath.Join(bin, "log")+"\necho active; echo inactive\n")
	write("nmcli", "printf 'ens33:/etc/NetworkManager/system-connections/ens 33.nmconnection\\nlo:\\n'\n")
	cases := []struct {
		config string
		ifup   bool
		asked  bool
	}{
		{"auto", true, false}, {"ifcfg", false, false}, {"auto", false, true}, {"networkmanager", true, true},
	}
	for _, c := range cases {
		os.Remove(filepath.Join(bin, "log"))
		if c.ifup {
			write("ifup", "")
		} else {
			os.Remove(filepath.Join(bin, "ifup"))
		}
		h := &inventory.Host{Name: "h", Parent: "ens33", NetworkConfig: c.config}
		// The directory test is the host's own: stand in for it with one that
		// always exists, or never does.
		script := strings.ReplaceAll(netToolsCmd(h), sh.Quote(NetworkScripts), map[bool]string{true: bin, false: "/nonexistent"}[c.ifup])
		cmd := osexec.Command("sh", "-c", script+"\necho \"nmp=$nmp\"")
		cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.config, err, out)
		}
		_, statErr := os.Stat(filepath.Join(bin, "log"))
		if asked := statErr == nil; asked != c.asked {
			t.Errorf("%s (ifup %v): systemctl asked %v\n%s", c.config, c.ifup, asked, out)
		}
		var f Facts
		f.parseNetTools(strings.Split(string(out), "\n"))
		if f.Net.Ifup != c.ifup || f.Net.Asked != c.asked || f.Net.NetworkManager != c.asked || f.Net.Networkd {
			t.Errorf("%s: %+v\n%s", c.config, f.Net, out)
		}
		if c.asked && (!strings.Contains(string(out), "nmp=/etc/NetworkManager/system-connections/ens 33.nmconnection\n") || f.Net.NMActive["ens33"] != "/etc/NetworkManager/system-connections/ens 33.nmconnection") {
			t.Errorf("%s: the parent's profile not found:\n%s", c.config, out)
		}
	}
}

// A plan prints the change to a NIC's profile, not the secrets beside it.
func TestNetworkManagerPromiscDiffHidesSecrets(t *testing.T) {
	f := nmFacts("docker02")
	f.Files[ens33Profile0600].Data = []byte(strings.Replace(ens33Profile, "[ethernet]\n\n", "[ethernet]\n\n[802-1x]\npassword=hunter2\neap=peap;\n\n", 1))
	p, err := Build(articleInventory(t), map[string]*Facts{"docker01": okIfcfg("docker01"), "docker02": f})
	if err != nil {
		t.Fatal(err)
	}
	text := planText(networkChanges(p, "docker02"))
	if strings.Contains(text, "hunter2") || !strings.Contains(text, "+accept-all-mac-addresses=1\n") {
		t.Errorf("plan:\n%s", text)
	}
}
