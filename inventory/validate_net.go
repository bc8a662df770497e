package inventory

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Checks of networks and of the containers on them.

func (c checker) networks() {
	names := map[string]int{}
	for i, n := range c.inv.Networks {
		key := indexKey("network", i+1)
		if j, dup := firstSeen(names, n.Name, i); dup {
			c.report(key+".name", n.Name, "already the name of "+c.at(indexKey("network", j+1))+"; network names must be unique")
		}
		c.networkGateway(key, n)
		c.networkVLAN(key, n)
		c.networkOverlap(key, i, n)
		c.hostAccess(key, n)
	}
}

// hostAccess checks each host's shim address: an ordinary address of the
// subnet that no container, gateway or other host has, on a host where
// the network exists.
func (c checker) hostAccess(key string, n Network) {
	owners := map[netip.Addr]string{}
	for _, a := range n.HostAccess {
		hk := joinKey(key+".host_access", a.Host)
		h, ok := c.knownHost(hk, a.Host)
		if !ok {
			continue
		}
		if _, known := c.inv.VLAN(n.VLAN); n.VLAN != 0 && !known {
			continue // reported at the network's vlan
		}
		if !slices.Contains(c.inv.NetworkHosts(&n), h.Name) {
			c.report(hk, nil, fmt.Sprintf("%s is on VLAN %d, where %s has no address; add %s to that VLAN's hosts, or give host access only to %s",
				n.Name, n.VLAN, h.Name, h.Name, strings.Join(c.inv.NetworkHosts(&n), ", ")))
			continue
		}
		if !a.Addr.IsValid() || !n.Subnet.IsValid() {
			continue
		}
		if msg := c.hostAccessAddr(n, a, owners); msg != "" {
			if free := c.freeAccessAddr(n, a.Addr); free.IsValid() {
				msg += fmt.Sprintf(", like %s", free)
			}
			c.report(hk, a.Addr.String(), msg)
			continue
		}
		owners[a.Addr] = a.Host
	}
}

func (c checker) hostAccessAddr(n Network, a HostAccess, owners map[netip.Addr]string) string {
	switch {
	case !n.Subnet.Contains(a.Addr):
		return fmt.Sprintf("outside %s's subnet %s; host access needs an address in it", n.Name, n.Subnet)
	case reservedIn(n.Subnet, a.Addr) != "":
		return fmt.Sprintf("is the %s of %s's subnet %s; pick a host address", reservedIn(n.Subnet, a.Addr), n.Name, n.Subnet)
	case a.Addr == n.Gateway:
		return fmt.Sprintf("is %s's gateway; the host needs an address of its own", n.Name)
	}
	if other, dup := owners[a.Addr]; dup {
		return fmt.Sprintf("%s has the same host access address on %s; each host needs its own", other, n.Name)
	}
	for j, ct := range c.inv.Containers {
		if ct.Network == n.Name && ct.IP == a.Addr {
			return fmt.Sprintf("is the address of container %s on %s (%s); pick one no container of %s uses",
				ct.Name, ct.Host, c.where(indexKey("container", j+1)), n.Name)
		}
	}
	return ""
}

// freeAccessAddr suggests an address of n that no gateway, container or
// host access entry has, next to the one written.
func (c checker) freeAccessAddr(n Network, near netip.Addr) netip.Addr {
	return freeAddr(n.Subnet, near, func(a netip.Addr) bool {
		return a == n.Gateway ||
			slices.ContainsFunc(c.inv.Containers, func(o Container) bool { return o.Network == n.Name && o.IP == a }) ||
			slices.ContainsFunc(n.HostAccess, func(o HostAccess) bool { return o.Addr == a })
	})
}

func (c checker) networkGateway(key string, n Network) {
	if !n.Subnet.IsValid() || !n.Gateway.IsValid() {
		return
	}
	example := n.Subnet.Addr().Next()
	if !n.Subnet.Contains(n.Gateway) {
		c.report(key+".gateway", n.Gateway.String(), fmt.Sprintf("outside the subnet %s; the gateway must be an address in it, like %s", n.Subnet, example))
	} else if what := reservedIn(n.Subnet, n.Gateway); what != "" {
		c.report(key+".gateway", n.Gateway.String(), fmt.Sprintf("is the %s of %s; the gateway must be a host address, like %s", what, n.Subnet, example))
	}
}

func (c checker) networkVLAN(key string, n Network) {
	if _, ok := c.inv.VLAN(n.VLAN); ok || n.VLAN == 0 {
		return
	}
	ids := make([]string, len(c.inv.VLANs))
	for i, v := range c.inv.VLANs {
		ids[i] = fmt.Sprint(v.ID)
	}
	msg := "no [[vlan]] has this id; known VLAN ids: " + strings.Join(ids, ", ")
	if len(ids) == 0 {
		msg = "no [[vlan]] has this id, and there are none: add a [[vlan]], or leave vlan out to put the network on the parent NIC itself"
	}
	c.report(key+".vlan", n.VLAN, msg)
}

// networkOverlap: containers of overlapping networks could not tell which
// segment an address is on.
func (c checker) networkOverlap(key string, i int, n Network) {
	for j, o := range c.inv.Networks[:i] {
		if n.Subnet.IsValid() && o.Subnet.IsValid() && n.Subnet.Overlaps(o.Subnet) {
			c.report(key+".subnet", n.Subnet.String(), fmt.Sprintf("overlaps %s's subnet %s (%s); networks must not overlap",
				o.Name, o.Subnet, c.where(indexKey("network", j+1))))
			return
		}
	}
}

func (c checker) containers() {
	names := map[[2]string]int{}              // host, name
	owners := map[netip.Addr]map[string]int{} // ip -> network -> first container
	macs := map[[2]string]int{}               // segment, MAC -> first container
	for i, ct := range c.inv.Containers {
		key := indexKey("container", i+1)
		h := c.containerHost(key, ct)
		n := c.containerNetwork(key, ct)
		c.containerName(key, i, ct, names)
		if n != nil {
			c.containerIP(key, i, ct, n, owners)
			c.containerMAC(key, i, ct, n, macs)
		}
		if h != nil && n != nil {
			c.networkOnHost(key, ct, n, h)
		}
		c.registryRef(key+".image", ct.Image)
	}
}

func (c checker) containerHost(key string, ct Container) *Host {
	h, ok := c.inv.Host(ct.Host)
	if !ok && ct.Host != "" {
		c.report(key+".host", ct.Host, "no [[host]] has this name; known hosts: "+c.hostNames())
	}
	return h
}

func (c checker) containerNetwork(key string, ct Container) *Network {
	n, ok := c.inv.Network(ct.Network)
	if ok || ct.Network == "" {
		return n
	}
	names := make([]string, len(c.inv.Networks))
	for i, n := range c.inv.Networks {
		names[i] = n.Name
	}
	msg := "no [[network]] has this name; known networks: " + strings.Join(names, ", ")
	if len(names) == 0 {
		msg = "no [[network]] has this name, and there are none: add a [[network]]"
	}
	c.report(key+".network", ct.Network, msg)
	return nil
}

func (c checker) containerName(key string, i int, ct Container, names map[[2]string]int) {
	if ct.Name == "" || ct.Host == "" {
		return
	}
	if j, dup := firstSeen(names, [2]string{ct.Host, ct.Name}, i); dup {
		c.report(key+".name", ct.Name, fmt.Sprintf("%s already runs a container with this name (%s); container names are unique per host",
			ct.Host, c.where(indexKey("container", j+1))))
		return
	}
	if r := c.inv.Registry; r != nil && r.Host == ct.Host && r.Name == ct.Name {
		c.report(key+".name", ct.Name, fmt.Sprintf("is the name of the registry container on %s; pick another name, or rename the registry with registry.name", ct.Host))
	}
}

// containerIP: a network is one layer-2 segment across all its hosts, so an
// address may be used once per network, whichever host runs the container.
func (c checker) containerIP(key string, i int, ct Container, n *Network, owners map[netip.Addr]map[string]int) {
	if !ct.IP.IsValid() || !n.Subnet.IsValid() {
		return
	}
	var msg string
	switch {
	case !n.Subnet.Contains(ct.IP):
		msg = fmt.Sprintf("outside %s's subnet %s; pick an address in it", n.Name, n.Subnet)
	case reservedIn(n.Subnet, ct.IP) != "":
		msg = fmt.Sprintf("is the %s of %s's subnet %s; pick a host address", reservedIn(n.Subnet, ct.IP), n.Name, n.Subnet)
	case ct.IP == n.Gateway:
		msg = fmt.Sprintf("is %s's gateway; pick another address", n.Name)
	default:
		if owners[ct.IP] == nil {
			owners[ct.IP] = map[string]int{}
		}
		j, dup := firstSeen(owners[ct.IP], n.Name, i)
		if !dup {
			return
		}
		o := c.inv.Containers[j]
		msg = fmt.Sprintf("already used by %s on %s (%s) in %s; a network is one layer-2 segment across all hosts, so each container needs its own address",
			o.Name, o.Host, c.where(indexKey("container", j+1)), n.Name)
	}
	if free := c.freeAddr(n, ct.IP); free.IsValid() {
		msg += fmt.Sprintf(", like %s", free)
	}
	c.report(key+".ip", ct.IP.String(), msg)
}

// freeAddr suggests an address of n that neither the gateway nor any
// container of n has.
func (c checker) freeAddr(n *Network, near netip.Addr) netip.Addr {
	return freeAddr(n.Subnet, near, func(a netip.Addr) bool {
		return a == n.Gateway || slices.ContainsFunc(c.inv.Containers, func(o Container) bool { return o.Network == n.Name && o.IP == a })
	})
}

// networkOnHost: a network on VLAN N exists only where <parent>.N does.
func (c checker) networkOnHost(key string, ct Container, n *Network, h *Host) {
	v, ok := c.inv.VLAN(n.VLAN)
	if n.VLAN == 0 || !ok {
		return
	}
	if _, on := v.Addr(h.Name); on {
		return
	}
	i := slices.IndexFunc(c.inv.VLANs, func(o VLAN) bool { return o.ID == v.ID })
	msg := fmt.Sprintf("%s is on VLAN %d, where %s has no address (%s); add %s to that VLAN's hosts",
		n.Name, n.VLAN, h.Name, c.where(indexKey("vlan", i+1)), h.Name)
	if hosts := c.inv.NetworkHosts(n); len(hosts) > 0 {
		msg += ", or run the container on " + strings.Join(hosts, " or ")
	}
	c.report(key+".network", ct.Network, msg)
}

// segment names a network's layer-2 segment: its VLAN, or the parent NICs
// themselves for a network without one. Networks on one segment share it
// across every host, whatever their subnets.
func segment(n *Network) string {
	if n.VLAN == 0 {
		return "the parent NICs (no VLAN)"
	}
	return fmt.Sprintf("VLAN %d", n.VLAN)
}

// containerMAC: two interfaces with one MAC address on a segment steal each
// other's frames, whichever hosts they are on.
func (c checker) containerMAC(key string, i int, ct Container, n *Network, macs map[[2]string]int) {
	if ct.MACAddress == "" || checkMAC(ct.MACAddress) != "" {
		return
	}
	j, dup := firstSeen(macs, [2]string{segment(n), ct.MACAddress}, i)
	if !dup {
		return
	}
	o := c.inv.Containers[j]
	c.report(key+".mac_address", ct.MACAddress, fmt.Sprintf("already the MAC address of %s on %s (%s), on the same layer-2 segment (%s); each container needs its own",
		o.Name, o.Host, c.where(indexKey("container", j+1)), segment(n)))
}
