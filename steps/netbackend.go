package steps

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/sh"
)

// What must exist on a host's network, and persist across reboots, is said
// once by the steps (a NIC in promiscuous mode, a macvlan shim with an
// address and routes); how it is written down and brought up is the host's
// network backend: one file per backend, netbackend_<name>.go. A backend
// renders; planPersisted (persist.go) turns a rendering into a change whose
// plan shows the files as diffs and whose undo puts everything back.

// Shim is a macvlan interface of the host itself, in bridge mode on Parent,
// holding Addr as a /32, with a route to each of Routes through it: the
// host's own door onto a macvlan segment (a macvlan child cannot talk to its
// parent, so the host needs a child of its own). Router and host access
// both use it.
type Shim struct {
	// Kind names its unit: "shim" (host access, the default) or "router".
	Kind   string
	Name   string // interface name, at most 15 characters
	Parent string
	Addr   netip.Addr
	Routes []netip.Prefix
	// Why says what it is for, in a few words ("host access to mac_net10").
	Why string
}

func (s Shim) kind() string {
	if s.Kind == "" {
		return "shim"
	}
	return s.Kind
}

// Rendered is what a backend makes of one thing that must exist.
type Rendered struct {
	// Files are written whole (each starts with ManagedHeader).
	Files []RenderedFile
	// Enable are symlinks that make the host apply Files at boot.
	Enable []Symlink
	// Reload runs after Files change, before Start.
	Reload []sh.Command
	// Start brings the thing about now, from Files; Stop undoes Start and
	// is safe to repeat (the thing already gone is fine).
	Start, Stop []sh.Command
	// Says is what Reload and Start do, in words, for the plan ("": the
	// Start commands as they are).
	Says string
	// Edit: Files are the host's own (a NIC's NetworkManager profile) and
	// only changed by mvorch: taking the thing away writes them as given
	// here, it never removes them.
	Edit bool
}

// RenderedFile is one file of a rendering.
type RenderedFile struct {
	Path string
	Data []byte
	Mode uint32
}

// Symlink is Path pointing at Target.
type Symlink struct{ Path, Target string }

// NetBackend renders what must exist on a host into its own configuration.
type NetBackend interface {
	Name() string
	// Promisc keeps nic in promiscuous mode from boot on. It fails where
	// the host's configuration cannot say so (a NIC without a profile).
	Promisc(nic string) (Rendered, error)
	// Shim makes s and keeps it across reboots.
	Shim(s Shim) Rendered
	// Found is what mvorch rendered on the host earlier for things of kind
	// ("promisc", or a shim's kind), keyed by the NIC or shim parent it is for, as
	// the facts show it: what a plan removes when the inventory no longer
	// asks for it.
	Found(f *Facts, kind string) map[string]Rendered
}

// VLANRenderer is a backend that renders VLAN sub-interfaces itself. The
// ifcfg backend does not: its VLANs are the article's own ifcfg files and
// ifup, planned as the article does them (vlan_ifcfg.go).
type VLANRenderer interface {
	// VLAN makes v with its address and gateway, up at boot. Its Stop
	// removes the interface.
	VLAN(v VLANIface) (Rendered, error)
}

// VLANIface is one VLAN sub-interface of a host.
type VLANIface struct {
	Name    string // ens33.10
	ID      int
	Parent  string
	Addr    netip.Prefix
	Gateway netip.Addr
}

// BackendChoice is the network backend a host got, and why; Err is set
// when none fits (Backend is then "").
type BackendChoice struct {
	Host    string `json:"host"`
	Backend string `json:"backend,omitempty"`
	Why     string `json:"why"`
	Err     error  `json:"-"`
}

// ChooseBackend picks a host's backend from its facts. "auto" keeps the
// article's ifcfg files wherever network-scripts and ifup are there, then
// takes the tool that manages the host's network: a running NetworkManager,
// else netplan rendering for systemd-networkd. A backend named in the
// inventory is taken as it is, if its tool is there.
func ChooseBackend(h *inventory.Host, f *Facts) BackendChoice {
	ch := BackendChoice{Host: h.Name}
	n := f.Net
	ifcfg := f.NetworkScripts && n.Ifup
	netplan := n.NetplanDir && n.Netplan && n.Networkd
	fail := func(format string, a ...any) BackendChoice {
		ch.Err = fmt.Errorf(format, a...)
		ch.Why = ch.Err.Error()
		return ch
	}
	switch h.NetworkConfig {
	case "ifcfg":
		if !ifcfg {
			return fail("network_config = \"ifcfg\" but %s has no %s with ifup (network-scripts): set network_config = \"auto\" or the tool the host uses", h.Name, NetworkScripts)
		}
		ch.Backend, ch.Why = "ifcfg", "network_config = \"ifcfg\""
	case "networkmanager":
		if !n.NetworkManager {
			return fail("network_config = \"networkmanager\" but NetworkManager is not running on %s (systemctl is-active NetworkManager): start it, or set network_config = \"auto\"", h.Name)
		}
		ch.Backend, ch.Why = "networkmanager", "network_config = \"networkmanager\""
	case "netplan":
		if !netplan {
			return fail("network_config = \"netplan\" but %s lacks %s: mvorch's netplan backend needs %s, the netplan command and systemd-networkd running as its renderer; set network_config = \"auto\" or the tool the host uses",
				h.Name, netplanMissing(n), NetplanDir)
		}
		ch.Backend, ch.Why = "netplan", "network_config = \"netplan\""
	default:
		switch {
		case ifcfg:
			ch.Backend, ch.Why = "ifcfg", "auto: "+NetworkScripts+" and ifup are there"
		case n.NetworkManager:
			ch.Backend, ch.Why = "networkmanager", "auto: NetworkManager is running (no network-scripts with ifup)"
		case netplan:
			ch.Backend, ch.Why = "netplan", "auto: "+NetplanDir+" and netplan are there, systemd-networkd is running (no network-scripts with ifup, no NetworkManager)"
		default:
			return fail("no network configuration tool mvorch knows on %s: looked for %s with ifup (ifcfg), a running NetworkManager (keyfiles), and %s with netplan and a running systemd-networkd (netplan); set network_config = \"ifcfg\", \"networkmanager\" or \"netplan\" for this host if one of them is what it uses",
				h.Name, NetworkScripts, NetplanDir)
		}
	}
	return ch
}

func netplanMissing(n NetTools) string {
	var miss []string
	if !n.NetplanDir {
		miss = append(miss, NetplanDir)
	}
	if !n.Netplan {
		miss = append(miss, "the netplan command")
	}
	if !n.Networkd {
		miss = append(miss, "a running systemd-networkd")
	}
	return joinAnd(miss)
}

func joinAnd(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// backend is the network backend of the context's host (ChooseBackend).
func (c *Context) backend() (NetBackend, error) {
	ch := ChooseBackend(c.Host, c.Facts)
	if ch.Err != nil {
		return nil, ch.Err
	}
	switch ch.Backend {
	case "networkmanager":
		return nmBackend{host: c.Host.Name, facts: c.Facts}, nil
	case "netplan":
		return netplanBackend{host: c.Host.Name, facts: c.Facts}, nil
	}
	return ifcfgBackend{}, nil
}
