package steps

import (
	"net/netip"

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
	// Promisc keeps nic in promiscuous mode from boot on.
	Promisc(nic string) Rendered
	// Shim makes s and keeps it across reboots.
	Shim(s Shim) Rendered
	// Found is what mvorch rendered on the host earlier for things of kind
	// ("promisc", or a shim's kind), keyed by the NIC or shim parent it is for, as
	// the facts show it: what a plan removes when the inventory no longer
	// asks for it.
	Found(f *Facts, kind string) map[string]Rendered
}

// backend is the network backend of the context's host. RHEL 7's ifcfg
// files with systemd units are the one there is today; NetworkManager
// keyfiles and netplan will be chosen here by network_config.
func (c *Context) backend() NetBackend { return ifcfgBackend{} }
