// Package graph draws the network an inventory describes: hosts with their
// parent NIC and VLAN sub-interfaces, the macvlan networks as segments
// across the hosts they are on, the containers with their addresses, the
// registry and the hosts that trust it, and, when given one, the result of
// verify on top (what answered, what should have and did not, what should
// not have and did).
//
// It is pure: no hosts, no network. Build turns a validated inventory (and
// optionally verify's report, runner.VerifyReport, live or read back from
// its JSON) into a Topology, and one renderer per format (dot.go, mermaid.go,
// svg.go) writes that Topology. Everything is in inventory order, so the
// same inventory always gives the same bytes.
package graph

import (
	"fmt"
	"io"
	"net/netip"
	"path/filepath"

	"github.com/mvorch/mvorch/inventory"
)

// Formats are the formats Write knows, the default first.
var Formats = []string{"svg", "dot", "mermaid"}

// Write renders t in format (one of Formats).
func Write(w io.Writer, t *Topology, format string) error {
	switch format {
	case "svg":
		return WriteSVG(w, t)
	case "dot":
		return WriteDOT(w, t)
	case "mermaid":
		return WriteMermaid(w, t)
	}
	return fmt.Errorf("format %q: use svg, dot or mermaid", format)
}

// Topology is what the renderers draw. Indexes (Attach.Net,
// Attach.Containers, Pair.From/To) point into Networks and Containers.
type Topology struct {
	Name       string // the inventory's file name, for titles
	Hosts      []Host
	Networks   []Network
	Containers []Container
	Registry   *Registry // nil without [registry]
	Check      *Check    // nil when drawn without verify's result
}

// Host is one [[host]] and what the inventory puts on it.
type Host struct {
	Name    string
	Address string
	Parent  string // the NIC sub-interfaces and macvlan networks hang off
	Promisc bool
	// Registry: the host runs the registry container.
	Registry bool
	// Trusts is the registry address:port the host's docker trusts ("" none).
	Trusts string
	// VLANs are the host's 802.1Q sub-interfaces, in [[vlan]] order.
	VLANs []VLANIface
	// Attach are the macvlan networks created on the host, in [[network]] order.
	Attach []Attach
	// Shims are the host's own macvlan interfaces on networks: its
	// host_access address, or the gateway address where it routes the
	// network ([[router]]), in [[network]] order.
	Shims []Shim
	// Routes are the networks the host forwards between ([[router]]), in
	// [[network]] order; nil where it routes nothing.
	Routes []string
}

// Shim is a host's own macvlan interface on a network.
type Shim struct {
	Net    int    // index in Topology.Networks
	Iface  string // mv-ens33.10
	Addr   netip.Addr
	Router bool // the network's gateway, held by its router; else host access
	// Attached: the network is also created on the host (a docker host);
	// a plain router host has the shim only.
	Attached bool
}

// Describe is how a shim is written in a picture.
func (s Shim) Describe() string {
	if s.Router {
		return "router " + s.Iface + " gw " + s.Addr.String()
	}
	return "host access " + s.Iface + " " + s.Addr.String()
}

// VLANIface is a VLAN sub-interface of a host.
type VLANIface struct {
	Name string // ens33.10
	ID   int
	Addr netip.Prefix
	// Used: some network on this host hangs off the interface.
	Used bool
}

// Attach is a macvlan network on one host.
type Attach struct {
	Net        int    // index in Topology.Networks
	Parent     string // -o parent= on this host: ens33 or ens33.10
	ParentAddr netip.Prefix
	Containers []int // indexes in Topology.Containers, inventory order
}

// Network is one [[network]].
type Network struct {
	Name    string
	Subnet  netip.Prefix
	Gateway netip.Addr
	VLAN    int // 0: on the parent NIC itself
	Color   string
	Hosts   []string // the hosts it is created on, inventory order
}

// Container is one [[container]].
type Container struct {
	Name    string
	Host    string
	Network string
	Net     int // index in Topology.Networks
	IP      netip.Addr
	Image   string // what docker is given
	Label   string // Name, or NAME@HOST where hosts share a name (as verify prints it)
}

// Registry is the [registry]: where it runs and what every host trusts.
type Registry struct {
	Host  string
	Addr  string // address:port
	Image string
	Trust string // how docker is told to trust it: dropin, unit, daemon-json
}

// palette colours the networks in inventory order. Red and orange are kept
// for FAIL and LEAK, so that a broken pair never looks like a network.
var palette = []string{
	"#1f77b4", // blue
	"#2ca02c", // green
	"#9467bd", // purple
	"#17becf", // cyan
	"#8c564b", // brown
	"#e377c2", // pink
	"#7f7f7f", // grey
	"#bcbd22", // olive
	"#393b79", // indigo
	"#637939", // moss
}

// Status colours (SVG and DOT and Mermaid alike).
const (
	colorOK    = "#2ca02c"
	colorFail  = "#d62728"
	colorLeak  = "#ff7f0e"
	colorQuiet = "#9e9e9e"
)

// Build makes the Topology of inv; res, when not nil, is verify's result
// for the same inventory and is checked against it.
func Build(inv *inventory.Inventory, res *Result) (*Topology, error) {
	t := &Topology{Name: filepath.Base(inv.Path)}
	netIndex := map[string]int{}
	for i, n := range inv.Networks {
		netIndex[n.Name] = i
		t.Networks = append(t.Networks, Network{
			Name: n.Name, Subnet: n.Subnet, Gateway: n.Gateway, VLAN: n.VLAN,
			Color: palette[i%len(palette)], Hosts: inv.NetworkHosts(&inv.Networks[i]),
		})
	}
	names := map[string]int{}
	for _, c := range inv.Containers {
		names[c.Name]++
	}
	for _, c := range inv.Containers {
		label := c.Name
		if names[c.Name] > 1 {
			label = c.Name + "@" + c.Host
		}
		t.Containers = append(t.Containers, Container{
			Name: c.Name, Host: c.Host, Network: c.Network, Net: netIndex[c.Network],
			IP: c.IP, Image: inv.ImageRef(c.Image), Label: label,
		})
	}
	if r := inv.Registry; r != nil {
		t.Registry = &Registry{Host: r.Host, Addr: inv.RegistryAddr(), Image: r.Image, Trust: r.Trust}
	}
	for i := range inv.Hosts {
		t.Hosts = append(t.Hosts, t.host(inv, &inv.Hosts[i]))
	}
	if res != nil {
		check, err := t.check(res)
		if err != nil {
			return nil, err
		}
		t.Check = check
	}
	return t, nil
}

// host gathers what the inventory puts on h.
func (t *Topology) host(inv *inventory.Inventory, h *inventory.Host) Host {
	hv := Host{Name: h.Name, Address: h.Address, Parent: h.Parent, Promisc: h.Promisc}
	if t.Registry != nil {
		hv.Registry = t.Registry.Host == h.Name
		hv.Trusts = t.Registry.Addr
	}
	for _, v := range inv.VLANs {
		if addr, ok := v.Addr(h.Name); ok {
			hv.VLANs = append(hv.VLANs, VLANIface{Name: inv.Interface(h, v.ID), ID: v.ID, Addr: addr})
		}
	}
	for i := range inv.Networks {
		n := &inv.Networks[i]
		on := false
		for _, name := range t.Networks[i].Hosts {
			on = on || name == h.Name
		}
		if !on {
			continue
		}
		a := Attach{Net: i, Parent: inv.NetworkParent(n, h)}
		for k := range hv.VLANs {
			if hv.VLANs[k].ID == n.VLAN && n.VLAN != 0 {
				hv.VLANs[k].Used = true
				a.ParentAddr = hv.VLANs[k].Addr
			}
		}
		for ci, c := range t.Containers {
			if c.Host == h.Name && c.Net == i {
				a.Containers = append(a.Containers, ci)
			}
		}
		hv.Attach = append(hv.Attach, a)
	}
	for i := range inv.Networks {
		n := &inv.Networks[i]
		sh := Shim{Net: i, Iface: inventory.ShimName(inv.NetworkParent(n, h))}
		if addr, ok := n.Access(h.Name); ok {
			sh.Addr = addr
		} else if r, ok := inv.RouterOf(n.Name); ok && r.Host == h.Name {
			sh.Addr, sh.Router = n.Gateway, true
		} else {
			continue
		}
		for _, a := range hv.Attach {
			sh.Attached = sh.Attached || a.Net == i
		}
		hv.Shims = append(hv.Shims, sh)
	}
	for _, n := range inv.RoutedOn(h.Name) {
		hv.Routes = append(hv.Routes, n.Name)
	}
	return hv
}

// routedPairs are the pairs of networks the host forwards between, each
// once, in [[network]] order.
func routedPairs(h *Host) [][2]string {
	var out [][2]string
	for i, a := range h.Routes {
		for _, b := range h.Routes[i+1:] {
			out = append(out, [2]string{a, b})
		}
	}
	return out
}

// shimsOn lists the host's shims on network net.
func (h *Host) shimsOn(net int) []Shim {
	var out []Shim
	for _, s := range h.Shims {
		if s.Net == net {
			out = append(out, s)
		}
	}
	return out
}

// hostContainers lists the indexes of the containers on host h, in the
// order the renderers draw them (network by network).
func (h *Host) hostContainers() []int {
	var out []int
	for _, a := range h.Attach {
		out = append(out, a.Containers...)
	}
	return out
}
