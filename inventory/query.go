package inventory

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Questions the steps ask of an inventory. All answers are in inventory
// order, so plans and output are deterministic.

// Host finds a host by name.
func (inv *Inventory) Host(name string) (*Host, bool) {
	i := slices.IndexFunc(inv.Hosts, func(h Host) bool { return h.Name == name })
	if i < 0 {
		return nil, false
	}
	return &inv.Hosts[i], true
}

// VLAN finds a VLAN by id.
func (inv *Inventory) VLAN(id int) (*VLAN, bool) {
	i := slices.IndexFunc(inv.VLANs, func(v VLAN) bool { return v.ID == id })
	if i < 0 {
		return nil, false
	}
	return &inv.VLANs[i], true
}

// Network finds a network by name.
func (inv *Inventory) Network(name string) (*Network, bool) {
	i := slices.IndexFunc(inv.Networks, func(n Network) bool { return n.Name == name })
	if i < 0 {
		return nil, false
	}
	return &inv.Networks[i], true
}

// Addr is host's address on the VLAN, if the host is on it.
func (v *VLAN) Addr(host string) (netip.Prefix, bool) {
	for _, vh := range v.Hosts {
		if vh.Host == host {
			return vh.Addr, true
		}
	}
	return netip.Prefix{}, false
}

// HostSSH is how to reach h: its own settings over [ssh]. A host cannot
// unset a [ssh] value, only replace it.
func (inv *Inventory) HostSSH(h *Host) SSH {
	s := inv.SSH
	s.User = cmp.Or(h.User, s.User)
	s.Port = cmp.Or(h.Port, s.Port)
	s.IdentityFile = cmp.Or(h.IdentityFile, s.IdentityFile)
	s.Jump = cmp.Or(h.Jump, s.Jump)
	s.Become = cmp.Or(h.Become, s.Become)
	return s
}

// RegistryAddr is ADDRESS:PORT of the registry: what every docker daemon
// trusts and what images are pushed under. "" without a registry.
func (inv *Inventory) RegistryAddr() string {
	if inv.Registry == nil {
		return ""
	}
	h, ok := inv.Host(inv.Registry.Host)
	if !ok {
		return ""
	}
	return h.Address + ":" + strconv.Itoa(inv.Registry.Port)
}

// ImageRef is what docker is given for an image as written in the
// inventory: an [[image]] tag resolves to the registry; anything else, such
// as busybox or a full registry reference, is used as written.
func (inv *Inventory) ImageRef(image string) string {
	if addr := inv.RegistryAddr(); addr != "" && inv.isImageTag(image) {
		return addr + "/" + image
	}
	return image
}

func (inv *Inventory) isImageTag(image string) bool {
	return slices.ContainsFunc(inv.Images, func(img Image) bool { return img.Tag == image })
}

// ImagesUsedOn lists the registry references that the containers on host
// need, without repeats. On the registry host they exist once tagged and
// pushed; everywhere else they are pulled.
func (inv *Inventory) ImagesUsedOn(host string) []string {
	prefix := inv.RegistryAddr() + "/"
	if prefix == "/" {
		return nil
	}
	var refs []string
	for _, c := range inv.ContainersOn(host) {
		ref := inv.ImageRef(c.Image)
		if strings.HasPrefix(ref, prefix) && !slices.Contains(refs, ref) {
			refs = append(refs, ref)
		}
	}
	return refs
}

// NetworkHosts lists the hosts a network is created on: every host for a
// network on the parent NIC itself, else the hosts of its VLAN, because
// only they have the <parent>.<vlan> interface.
func (inv *Inventory) NetworkHosts(net *Network) []string {
	var names []string
	v, _ := inv.VLAN(net.VLAN)
	for _, h := range inv.Hosts {
		if net.VLAN == 0 {
			names = append(names, h.Name)
		} else if _, ok := v.addrOf(h.Name); ok {
			names = append(names, h.Name)
		}
	}
	return names
}

// addrOf is Addr that tolerates a missing VLAN.
func (v *VLAN) addrOf(host string) (netip.Prefix, bool) {
	if v == nil {
		return netip.Prefix{}, false
	}
	return v.Addr(host)
}

// Interface is the 802.1Q sub-interface of host for a VLAN: ens33.10.
func (inv *Inventory) Interface(host *Host, vlanID int) string {
	return host.Parent + "." + strconv.Itoa(vlanID)
}

// NetworkParent is the -o parent= of a network on host.
func (inv *Inventory) NetworkParent(net *Network, host *Host) string {
	if net.VLAN == 0 {
		return host.Parent
	}
	return inv.Interface(host, net.VLAN)
}

// ContainersOn lists the containers that run on host.
func (inv *Inventory) ContainersOn(host string) []Container {
	var cs []Container
	for _, c := range inv.Containers {
		if c.Host == host {
			cs = append(cs, c)
		}
	}
	return cs
}

// Access is host's host_access address on net, if it has one.
func (net *Network) Access(host string) (netip.Addr, bool) {
	for _, a := range net.HostAccess {
		if a.Host == host {
			return a.Addr, true
		}
	}
	return netip.Addr{}, false
}

// ShimName is the macvlan interface that gives a host access to the
// networks on parent: "mv-" and the parent ("mv-ens33.10"), so that a person
// sees at once what it hangs off. A parent too long for that keeps its last
// characters (the VLAN id is at the end), within Linux's 15.
func ShimName(parent string) string {
	const prefix = "mv-"
	if len(prefix)+len(parent) > maxIfName {
		parent = parent[len(parent)-(maxIfName-len(prefix)):]
	}
	return prefix + parent
}

// SharedParent is a parent interface that more than one macvlan network of
// the inventory uses on a host.
type SharedParent struct {
	Host, Parent string
	Networks     []string
}

// SharedParents lists, host by host in inventory order, the parent
// interfaces that several networks would share: two networks without vlan
// (both on the NIC itself), or two with the same vlan. Docker before 26
// creates only the first of them.
func (inv *Inventory) SharedParents() []SharedParent {
	var out []SharedParent
	for i := range inv.Hosts {
		h := &inv.Hosts[i]
		byParent := map[string][]string{}
		var parents []string
		for j := range inv.Networks {
			n := &inv.Networks[j]
			if !slices.Contains(inv.NetworkHosts(n), h.Name) {
				continue
			}
			p := inv.NetworkParent(n, h)
			if byParent[p] == nil {
				parents = append(parents, p)
			}
			byParent[p] = append(byParent[p], n.Name)
		}
		for _, p := range parents {
			if len(byParent[p]) > 1 {
				out = append(out, SharedParent{Host: h.Name, Parent: p, Networks: byParent[p]})
			}
		}
	}
	return out
}

// RouterOf is the [[router]] that joins the named network, if one does (at
// most one may: a network has one gateway).
func (inv *Inventory) RouterOf(network string) (*Router, bool) {
	for i := range inv.Routers {
		if slices.Contains(inv.Routers[i].Networks, network) {
			return &inv.Routers[i], true
		}
	}
	return nil, false
}

// RouterBetween is the router that forwards between networks a and b, if
// one joins both: containers of a then reach containers of b through their
// gateway, which the router holds.
func (inv *Inventory) RouterBetween(a, b string) (*Router, bool) {
	r, ok := inv.RouterOf(a)
	if !ok || a == b || !slices.Contains(r.Networks, b) {
		return nil, false
	}
	return r, true
}

// RoutedOn lists the networks host routes, in inventory order.
func (inv *Inventory) RoutedOn(host string) []*Network {
	var out []*Network
	for i := range inv.Networks {
		if r, ok := inv.RouterOf(inv.Networks[i].Name); ok && r.Host == host {
			out = append(out, &inv.Networks[i])
		}
	}
	return out
}

// HostAddrOn is host's own address on net, from which it reaches the
// network's containers: its host_access address, or the network's gateway
// where host is the network's router.
func (inv *Inventory) HostAddrOn(net *Network, host string) (netip.Addr, bool) {
	if a, ok := net.Access(host); ok {
		return a, true
	}
	if r, ok := inv.RouterOf(net.Name); ok && r.Host == host {
		return net.Gateway, true
	}
	return netip.Addr{}, false
}
