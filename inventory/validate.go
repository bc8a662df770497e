package inventory

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Checks between values: references, uniqueness, addresses against subnets.
// Values that did not decode are zero and skipped here, so that one mistake
// is reported once.

type checker struct {
	*decoder
	inv *Inventory
}

func validate(d *decoder, inv *Inventory) {
	c := checker{d, inv}
	c.hosts()
	c.vlans()
	c.hostSubnets()
	c.registry()
	c.images()
	c.networks()
	c.containers()
}

// firstSeen remembers the first index of each non-zero value and, for a
// repeat, returns that index.
func firstSeen[K comparable](seen map[K]int, k K, i int) (int, bool) {
	var zero K
	if k == zero {
		return 0, false
	}
	if j, ok := seen[k]; ok {
		return j, true
	}
	seen[k] = i
	return 0, false
}

func (c checker) hosts() {
	names, addrs := map[string]int{}, map[string]int{}
	for i, h := range c.inv.Hosts {
		key := indexKey("host", i+1)
		if j, dup := firstSeen(names, h.Name, i); dup {
			c.report(key+".name", h.Name, fmt.Sprintf("%s has the same name; host names must be unique", c.where(indexKey("host", j+1))))
		} else if j, dup := firstSeen(addrs, h.Address, i); dup {
			c.report(key+".address", h.Address, fmt.Sprintf("%s (%s) has the same address; each host needs its own",
				c.inv.Hosts[j].Name, c.where(indexKey("host", j+1))))
		}
	}
}

func (c checker) hostNames() string {
	names := make([]string, len(c.inv.Hosts))
	for i, h := range c.inv.Hosts {
		names[i] = h.Name
	}
	return strings.Join(names, ", ")
}

func (c checker) vlans() {
	ids := map[int]int{}
	for i, v := range c.inv.VLANs {
		key := indexKey("vlan", i+1)
		if j, dup := firstSeen(ids, v.ID, i); dup {
			c.report(key+".id", v.ID, fmt.Sprintf("%s has the same id; VLAN ids must be unique", c.where(indexKey("vlan", j+1))))
		}
		c.vlanHosts(key, v)
	}
}

func (c checker) vlanHosts(key string, v VLAN) {
	owners := map[netip.Addr]string{}
	gatewayChecked := false
	for _, vh := range v.Hosts {
		hk := joinKey(key+".hosts", vh.Host)
		h, ok := c.inv.Host(vh.Host)
		if !ok {
			c.report(hk, nil, "no [[host]] has this name; known hosts: "+c.hostNames())
			continue
		}
		c.ifName(hk, h, v.ID)
		if !vh.Addr.IsValid() {
			continue
		}
		if msg := vlanAddrProblem(v, vh.Addr); msg != "" {
			c.report(hk, vh.Addr.String(), msg)
			continue
		}
		if other, dup := owners[vh.Addr.Addr()]; dup {
			c.report(hk, vh.Addr.String(), fmt.Sprintf("%s has the same address in VLAN %d; each host needs its own", other, v.ID))
			continue
		}
		owners[vh.Addr.Addr()] = vh.Host
		if !gatewayChecked {
			gatewayChecked = true
			c.vlanGateway(key, v, vh)
		}
	}
}

// ifName: ifcfg and the kernel refuse a sub-interface name over IFNAMSIZ.
func (c checker) ifName(key string, h *Host, id int) {
	if id == 0 || checkParent(h.Parent) != "" {
		return
	}
	if name := c.inv.Interface(h, id); len(name) > maxIfName {
		c.report(key, nil, fmt.Sprintf("the VLAN interface %s would be %d characters; Linux allows at most %d (IFNAMSIZ): give %s a shorter parent NIC name",
			name, len(name), maxIfName, h.Name))
	}
}

// vlanAddrProblem checks a host's VLAN address against its own subnet and
// the VLAN's gateway, which ifcfg writes into the same file.
func vlanAddrProblem(v VLAN, p netip.Prefix) string {
	a := p.Addr()
	if what := reservedIn(p, a); what != "" {
		return fmt.Sprintf("%s is the %s of %s; a host needs an address inside it", a, what, p.Masked())
	}
	switch {
	case !v.Gateway.IsValid():
		return ""
	case !p.Contains(v.Gateway):
		return fmt.Sprintf("the VLAN's gateway %s is outside this address's subnet %s; every host address in a VLAN must share the gateway's subnet", v.Gateway, p.Masked())
	case a == v.Gateway:
		return "is the VLAN's gateway; the host needs an address of its own"
	}
	return ""
}

// vlanGateway reports a gateway that no host could use, once per VLAN.
func (c checker) vlanGateway(key string, v VLAN, vh VLANHost) {
	if what := reservedIn(vh.Addr, v.Gateway); what != "" {
		c.report(key+".gateway", v.Gateway.String(), fmt.Sprintf("is the %s of %s; the gateway must be a host address", what, vh.Addr.Masked()))
	}
}

// hostSubnets: two interfaces of one host in overlapping subnets leave the
// kernel with two routes for the same addresses.
func (c checker) hostSubnets() {
	type placed struct {
		key string
		id  int
		p   netip.Prefix
	}
	for _, h := range c.inv.Hosts {
		var seen []placed
		for i, v := range c.inv.VLANs {
			p, ok := v.Addr(h.Name)
			if !ok || !p.IsValid() || slices.ContainsFunc(c.inv.VLANs[:i], func(o VLAN) bool { return o.ID == v.ID }) {
				continue
			}
			key := joinKey(indexKey("vlan", i+1)+".hosts", h.Name)
			for _, s := range seen {
				if s.p.Masked().Overlaps(p.Masked()) {
					c.report(key, p.String(), fmt.Sprintf("overlaps %s's VLAN %d address %s (%s); one host cannot have two interfaces in one subnet",
						h.Name, s.id, s.p, c.where(s.key)))
					break
				}
			}
			seen = append(seen, placed{key, v.ID, p})
		}
	}
}

func (c checker) registry() {
	r := c.inv.Registry
	if r == nil {
		if len(c.inv.Images) > 0 {
			c.report("image[1]", nil, `[[image]] entries are pushed to the private registry, but there is no [registry]; add one with host = "<the host that runs it>"`)
		}
		return
	}
	if _, ok := c.inv.Host(r.Host); !ok && r.Host != "" {
		c.report("registry.host", r.Host, "no [[host]] has this name; known hosts: "+c.hostNames())
	}
}

func (c checker) images() {
	tags := map[string]int{}
	for i, img := range c.inv.Images {
		key := indexKey("image", i+1)
		if j, dup := firstSeen(tags, img.Tag, i); dup {
			c.report(key+".tag", img.Tag, fmt.Sprintf("%s pushes the same tag; each [[image]] needs its own", c.where(indexKey("image", j+1))))
		}
		c.registryRef(key+".source", img.Source)
	}
}

// registryRef catches a reference to the registry host that bypasses the
// registry's address: the article pulls 192.168.1.11/busybox:v1, without
// the port, which docker sends to 192.168.1.11:443.
func (c checker) registryRef(key, ref string) {
	h, ok := c.registryHost()
	first, rest, found := strings.Cut(ref, "/")
	if !ok || !found {
		return
	}
	host, _, hasPort := strings.Cut(first, ":")
	want := c.inv.RegistryAddr()
	if host != h.Address && host != h.Name || first == want {
		return
	}
	label := first
	if first != h.Name {
		label += " (" + h.Name + ")"
	}
	var why string
	switch domain, _ := splitDomain(ref); {
	case !hasPort && domain != "":
		why = fmt.Sprintf("names the registry %s without its port %d, so docker would try %s:443", label, c.inv.Registry.Port, first)
	case !hasPort:
		why = fmt.Sprintf("names the registry %s without its port %d, so docker would look for %s on Docker Hub", label, c.inv.Registry.Port, ref)
	default:
		why = fmt.Sprintf("the registry on %s is reached and trusted as %s", h.Name, want)
	}
	fix := fmt.Sprintf("write %q", want+"/"+rest)
	if c.inv.isImageTag(rest) {
		fix += fmt.Sprintf(", or just the [[image]] tag %q", rest)
	}
	c.report(key, ref, why+"; "+fix)
}

func (c checker) registryHost() (*Host, bool) {
	if c.inv.Registry == nil {
		return nil, false
	}
	return c.inv.Host(c.inv.Registry.Host)
}

func (c checker) networks() {
	names := map[string]int{}
	for i, n := range c.inv.Networks {
		key := indexKey("network", i+1)
		if j, dup := firstSeen(names, n.Name, i); dup {
			c.report(key+".name", n.Name, fmt.Sprintf("%s has the same name; network names must be unique", c.where(indexKey("network", j+1))))
		}
		c.networkGateway(key, n)
		c.networkVLAN(key, n)
		c.networkOverlap(key, i, n)
	}
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
	for i, ct := range c.inv.Containers {
		key := indexKey("container", i+1)
		h := c.containerHost(key, ct)
		n := c.containerNetwork(key, ct)
		c.containerName(key, i, ct, names)
		if n != nil {
			c.containerIP(key, i, ct, n, owners)
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
