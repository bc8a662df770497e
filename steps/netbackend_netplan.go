package steps

import (
	"fmt"
	"path"
	"strings"

	"github.com/mvorch/mvorch/runner/sh"
)

// netplanBackend is for hosts whose network netplan describes and
// systemd-networkd runs (Ubuntu Server). VLAN sub-interfaces are netplan
// files of their own in /etc/netplan (0600: netplan warns about files
// others may read), activated by `netplan generate` and `networkctl reload`
// (not `netplan apply`, which may take interfaces down and up), then waited
// for: networkd configures links asynchronously. netplan has no setting for
// promiscuous mode and no macvlan: promisc is a systemd-networkd drop-in
// (Promiscuous=yes) for the .network netplan generates for the NIC, and
// shims are mvorch's own units as on ifcfg hosts (networkd leaves links no
// .network of its matches alone, across reloads and restarts).
type netplanBackend struct {
	host  string
	facts *Facts
}

const (
	// NetplanDir holds netplan's configuration.
	NetplanDir = "/etc/netplan"
	// NetworkdDir is systemd-networkd's configuration in /etc (drop-ins).
	NetworkdDir = "/etc/systemd/network"
	// networkdRunDir is where netplan generates networkd's files.
	networkdRunDir = "/run/systemd/network"
	netplanPrefix  = "90-mvorch-"
	// networkdPromiscConf is mvorch's drop-in name in a NIC's .network.d.
	networkdPromiscConf = "mvorch-promisc.conf"
	// vlanMetric is the metric of a VLAN's default route: NetworkManager's
	// default for VLAN devices, behind the NIC's own (100 on NetworkManager,
	// 0 by networkd's default), so the host's own default route stays the
	// one in use. The article's ifcfg GATEWAY= is mirrored this way.
	vlanMetric = 400
	// vlanWait is how long activation waits for a VLAN's address.
	vlanWait = 20
)

func (netplanBackend) Name() string { return "netplan" }

// networkdDropInDir is the drop-in directory of the .network netplan
// generates for nic.
func networkdDropInDir(nic string) string {
	return NetworkdDir + "/10-netplan-" + nic + ".network.d"
}

// networkdFor is the .network netplan generated for nic, as the facts read it.
func networkdFor(nic string) string { return networkdRunDir + "/10-netplan-" + nic + ".network" }

func (b netplanBackend) VLAN(v VLANIface) (Rendered, error) {
	if b.facts.Files[networkdFor(v.Parent)] == nil {
		return Rendered{}, fmt.Errorf("%s is not in netplan's configuration on %s (no %s): a netplan VLAN's link must be defined in netplan; add %s under ethernets: in %s", v.Parent, b.host, networkdFor(v.Parent), v.Parent, NetplanDir)
	}
	file := NetplanDir + "/" + netplanPrefix + v.Name + ".yaml"
	data := fmt.Sprintf(`%s: VLAN %d on %s
network:
  version: 2
  vlans:
    %q:
      id: %d
      link: %q
      addresses:
        - %q
      routes:
        - to: default
          via: %q
          metric: %d
`, ManagedHeader, v.ID, v.Parent, v.Name, v.ID, v.Parent, v.Addr.String(), v.Gateway.String(), vlanMetric)
	return netplanRendered(file, data, v.Name, v.Addr.String()), nil
}

// netplanRendered is one VLAN's netplan file: generated and reloaded after
// it changes, then waited for until the interface has its address (a
// reload once more first, where it has not: the "start again" of a VLAN
// whose file is there but whose interface is not).
func netplanRendered(file, data, iface, addr string) Rendered {
	has := sh.New("ip", "-o", "-4", "addr", "show", "dev", iface).Raw("2>/dev/null | grep -qF").Arg(" " + addr + " ").String()
	wait := fmt.Sprintf("%s || networkctl reload; i=0; until %s; do if [ $i -ge %d ]; then echo %s >&2; exit 1; fi; i=$((i+1)); sleep 0.1; done",
		has, has, vlanWait*10, sh.Quote(fmt.Sprintf("%s did not get %s from systemd-networkd within %d s (see networkctl status %s)", iface, addr, vlanWait, iface)))
	return Rendered{
		Files:  []RenderedFile{{Path: file, Data: []byte(data), Mode: 0o600}},
		Reload: []sh.Command{sh.New("netplan", "generate"), sh.New("networkctl", "reload")},
		Start:  []sh.Command{sh.New("sh", "-c", wait)},
		Stop:   []sh.Command{sh.New("ip", "link", "del", "dev", iface).Raw("2>/dev/null || true")},
		Says:   fmt.Sprintf("netplan generate, networkctl reload, wait up to %d s for %s to have %s", vlanWait, iface, addr),
	}
}

func (b netplanBackend) Promisc(nic string) (Rendered, error) {
	if b.facts.Files[networkdFor(nic)] == nil {
		return Rendered{}, fmt.Errorf("%s is not in netplan's configuration on %s (no %s): mvorch keeps promiscuous mode in a drop-in for the .network netplan generates for it; add %s to %s, or set promisc = false", nic, b.host, networkdFor(nic), nic, NetplanDir)
	}
	return networkdPromisc(nic, fmt.Sprintf(`%s: promiscuous mode on %s (netplan has no setting for it)
[Link]
Promiscuous=yes

# systemd-networkd drops a link's static addresses and adds them again when
# it reconfigures the link (a reload after its .network changed: netplan adds
# VLAN= lines for each VLAN); with this it keeps them, and the host's
# connections through %s go on undisturbed.
[Network]
KeepConfiguration=static
`, ManagedHeader, nic, nic)), nil
}

// networkdPromisc is the drop-in: networkd reloads it when it is written.
// Taking it away reloads nothing: networkd would reconfigure the NIC without
// KeepConfiguration= and so drop its addresses for a moment; it reads the
// files again at its next reload or boot (the promisc step's undo has turned
// the flag off already).
func networkdPromisc(nic, data string) Rendered {
	return Rendered{
		Files: []RenderedFile{{Path: networkdDropInDir(nic) + "/" + networkdPromiscConf, Data: []byte(data), Mode: 0o644}},
		Start: []sh.Command{sh.New("networkctl", "reload")},
	}
}

func (b netplanBackend) Shim(s Shim) Rendered {
	return shimUnit(s, "netplan", "systemd-networkd.service")
}

// Found reads back mvorch's VLAN files ("vlan", keyed by interface), its
// promisc drop-ins (keyed by NIC) and its shim units.
func (b netplanBackend) Found(f *Facts, kind string) map[string]Rendered {
	switch kind {
	case "vlan":
		out := map[string]Rendered{}
		for p, file := range f.Files {
			base, ok := strings.CutPrefix(p, NetplanDir+"/"+netplanPrefix)
			if !ok || !strings.HasSuffix(base, ".yaml") || !isManaged(file.Data) {
				continue
			}
			iface := strings.TrimSuffix(base, ".yaml")
			r := netplanRendered(p, string(file.Data), iface, netplanAddr(file.Data))
			r.Files[0].Mode = file.Mode
			out[iface] = r
		}
		return out
	case "promisc":
		out := map[string]Rendered{}
		for p, file := range f.Files {
			dir, base := path.Split(p)
			nic, ok := strings.CutPrefix(path.Clean(dir), NetworkdDir+"/10-netplan-")
			if !ok || base != networkdPromiscConf || !isManaged(file.Data) {
				continue
			}
			nic, ok = strings.CutSuffix(nic, ".network.d")
			if ok {
				out[nic] = networkdPromisc(nic, string(file.Data))
			}
		}
		return out
	}
	return foundUnits(f, kind)
}

// netplanAddr is the one address of a VLAN file mvorch wrote.
func netplanAddr(data []byte) string {
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "addresses:" && i+1 < len(lines) {
			return strings.Trim(strings.TrimPrefix(strings.TrimSpace(lines[i+1]), "- "), `"`)
		}
	}
	return ""
}
