package steps

import (
	"crypto/sha1"
	"fmt"
	"path"
	"strings"

	"github.com/mvorch/mvorch/runner/sh"
)

// nmBackend is for hosts whose network NetworkManager manages from keyfiles
// (RHEL 9 and 10, CentOS Stream 10: no ifcfg-rh plugin, no ifup there).
// VLAN sub-interfaces and shims are keyfiles of their own in
// system-connections, 0600 as NetworkManager requires (it ignores keyfiles
// others may read: they can hold secrets), with a uuid derived from the host
// and the interface so that a second run renders the same bytes; they are
// loaded with `nmcli connection load` and brought up by uuid. Promiscuous
// mode is accept-all-mac-addresses=1 in the [ethernet] section of the
// parent's own profile (its existing file, changed in place and shown as a
// diff); NetworkManager 1.42 cannot reapply that property to an active
// device, so the promisc step's ip(8) turns it on now, and the profile
// carries it from the next activation (boot) on. The parent's connection is
// never re-activated: mvorch may be talking through it.
type nmBackend struct {
	host  string
	facts *Facts
}

const (
	// NMDir holds NetworkManager's keyfiles.
	NMDir = "/etc/NetworkManager/system-connections"
	// nmPromiscMark precedes the key mvorch adds to a NIC's profile, so
	// that it can take it out again (promisc = false).
	nmPromiscMark = "# mvorch: promiscuous mode for macvlan children"
	nmPromiscKey  = "accept-all-mac-addresses"
	// NetworkManager's macvlan mode for "bridge" (NMSettingMacvlanMode).
	nmMacvlanBridge = 2
)

func (nmBackend) Name() string { return "networkmanager" }

// nmUUID is a stable uuid (version 5 layout, SHA-1 of host and name): the
// same profile renders to the same bytes on every run.
func nmUUID(host, name string) string {
	sum := sha1.Sum([]byte("mvorch:" + host + ":" + name))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

// nmRendered is a keyfile's rendering: loaded after it changes, brought up
// by uuid, taken down by uuid and its interface removed.
func nmRendered(file, data, uuid, iface string) Rendered {
	return Rendered{
		Files:  []RenderedFile{{Path: file, Data: []byte(data), Mode: 0o600}},
		Reload: []sh.Command{sh.New("nmcli", "connection", "load", file)},
		Start:  []sh.Command{sh.New("nmcli", "connection", "up", "uuid", uuid)},
		Stop: []sh.Command{
			sh.New("nmcli", "connection", "down", "uuid", uuid).Raw(">/dev/null 2>&1 || true"),
			sh.New("ip", "link", "del", "dev", iface).Raw("2>/dev/null || true"),
		},
	}
}

// VLAN is the keyfile of one VLAN sub-interface.
func (b nmBackend) VLAN(v VLANIface) (Rendered, error) {
	uuid := nmUUID(b.host, v.Name)
	data := fmt.Sprintf(`%s: VLAN %d on %s
[connection]
id=%s
uuid=%s
type=vlan
interface-name=%s
autoconnect=true

[vlan]
id=%d
parent=%s

[ipv4]
address1=%s
gateway=%s
method=manual

[ipv6]
method=ignore
`, ManagedHeader, v.ID, v.Parent, v.Name, uuid, v.Name, v.ID, v.Parent, v.Addr, v.Gateway)
	return nmRendered(NMDir+"/"+v.Name+".nmconnection", data, uuid, v.Name), nil
}

func (b nmBackend) Shim(s Shim) Rendered {
	id := unitPrefix + s.kind() + "-" + s.Parent
	uuid := nmUUID(b.host, id)
	var routes []string
	for i, r := range s.Routes {
		routes = append(routes, fmt.Sprintf("route%d=%s\nroute%d_options=src=%s", i+1, r, i+1, s.Addr))
	}
	data := fmt.Sprintf(`%s: %s, macvlan %s on %s
[connection]
id=%s
uuid=%s
type=macvlan
interface-name=%s
autoconnect=true

[macvlan]
mode=%d
parent=%s

[ipv4]
address1=%s/32
method=manual
never-default=true
%s

[ipv6]
method=ignore
`, ManagedHeader, s.Why, s.Name, s.Parent, id, uuid, s.Name, nmMacvlanBridge, s.Parent, s.Addr, strings.Join(routes, "\n"))
	return nmRendered(NMDir+"/"+id+".nmconnection", data, uuid, s.Name)
}

// Promisc adds accept-all-mac-addresses=1 to the parent's active profile.
func (b nmBackend) Promisc(nic string) (Rendered, error) {
	file, ok := b.facts.Net.NMActive[nic]
	if !ok {
		return Rendered{}, fmt.Errorf("NetworkManager has no active profile on %s on %s (nmcli connection show --active): mvorch keeps promiscuous mode in the NIC's profile; bring %s up with a profile, or set promisc = false", nic, b.host, nic)
	}
	if path.Dir(file) != NMDir || !strings.HasSuffix(file, ".nmconnection") {
		where := file
		if where == "" {
			where = "only in NetworkManager's memory"
		}
		return Rendered{}, fmt.Errorf("the profile of %s on %s is not a keyfile in %s (it is %s): mvorch changes keyfiles only; make it one (nmcli connection migrate, or nmcli connection modify on a profile kept in memory), or set promisc = false",
			nic, b.host, NMDir, where)
	}
	old := b.facts.Files[file]
	if old == nil {
		return Rendered{}, fmt.Errorf("the profile of %s on %s, %s, could not be read", nic, b.host, file)
	}
	r := nmRendered(file, string(withAcceptAll(old.Data)), "", nic)
	r.Start, r.Stop = nil, nil
	r.Edit = true
	return r, nil
}

// withAcceptAll is a keyfile with accept-all-mac-addresses=1 in its
// [ethernet] section, marked as mvorch's. A profile that has it on already
// stays as it is; another value of it is replaced.
func withAcceptAll(data []byte) []byte {
	lines := strings.SplitAfter(string(data), "\n")
	add := nmPromiscMark + "\n" + nmPromiscKey + "=1\n"
	section := ""
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "[") {
			if isEthernetSection(section) {
				// The section ends without the key: it goes at its end,
				// before the blank lines that part it from the next.
				j := i
				for j > 0 && strings.TrimSpace(lines[j-1]) == "" {
					j--
				}
				return []byte(strings.Join(lines[:j], "") + add + strings.Join(lines[j:], ""))
			}
			section = t
			continue
		}
		if isEthernetSection(section) {
			if k, v, ok := strings.Cut(t, "="); ok && strings.TrimSpace(k) == nmPromiscKey {
				if v := strings.TrimSpace(v); v == "1" || v == "true" {
					return data
				}
				return []byte(strings.Join(lines[:i], "") + add + strings.Join(lines[i+1:], ""))
			}
		}
	}
	text := string(data)
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	if isEthernetSection(section) {
		return []byte(text + add)
	}
	return []byte(text + "\n[ethernet]\n" + add)
}

func isEthernetSection(s string) bool { return s == "[ethernet]" || s == "[802-3-ethernet]" }

// withoutAcceptAll takes mvorch's marked key out of a keyfile again.
func withoutAcceptAll(data []byte) ([]byte, bool) {
	mark := nmPromiscMark + "\n" + nmPromiscKey + "=1\n"
	i := strings.Index(string(data), mark)
	if i < 0 {
		return data, false
	}
	return []byte(string(data[:i]) + string(data[i+len(mark):])), true
}

// Found reads mvorch's keyfiles of kind back from the facts: VLANs ("vlan",
// keyed by interface), shims (keyed by parent), and, for "promisc", the
// NIC profiles mvorch marked, rendered without the mark (Edit).
func (b nmBackend) Found(f *Facts, kind string) map[string]Rendered {
	out := map[string]Rendered{}
	for p, file := range f.Files {
		dir, base := path.Split(p)
		if path.Clean(dir) != NMDir || !strings.HasSuffix(base, ".nmconnection") {
			continue
		}
		name := strings.TrimSuffix(base, ".nmconnection")
		if kind == "promisc" {
			if data, ok := withoutAcceptAll(file.Data); ok {
				if nic := profileDevice(f, p, file.Data); nic != "" {
					out[nic] = Rendered{Files: []RenderedFile{{Path: p, Data: data, Mode: file.Mode}},
						Reload: []sh.Command{sh.New("nmcli", "connection", "load", p)}, Edit: true}
				}
			}
			continue
		}
		wantType := "macvlan"
		if kind == "vlan" {
			wantType = "vlan"
		}
		if !isManaged(file.Data) || keyfileValue(file.Data, "type") != wantType {
			continue
		}
		key := name
		if kind != "vlan" {
			var ok bool
			if key, ok = strings.CutPrefix(name, unitPrefix+kind+"-"); !ok {
				continue
			}
		}
		r := nmRendered(p, string(file.Data), keyfileValue(file.Data, "uuid"), keyfileValue(file.Data, "interface-name"))
		r.Files[0].Mode = file.Mode
		out[key] = r
	}
	return out
}

// profileDevice is the device a NIC profile is for: the one it is active on,
// else its interface-name.
func profileDevice(f *Facts, file string, data []byte) string {
	for dev, p := range f.Net.NMActive {
		if p == file {
			return dev
		}
	}
	return keyfileValue(data, "interface-name")
}

// keyfileValue is the first value of key in a keyfile, any section.
func keyfileValue(data []byte, key string) string {
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
