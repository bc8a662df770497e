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
	c.routers()
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
			c.report(key+".name", h.Name, "already the name of "+c.at(indexKey("host", j+1))+"; host names must be unique")
		} else if j, dup := firstSeen(addrs, h.Address, i); dup {
			c.report(key+".address", h.Address, fmt.Sprintf("%s (%s) has the same address; each host needs its own",
				c.inv.Hosts[j].Name, c.where(indexKey("host", j+1))))
		}
	}
}

// knownHost is the [[host]] a table key names, reported at key when none does.
func (c checker) knownHost(key, name string) (*Host, bool) {
	h, ok := c.inv.Host(name)
	if !ok {
		c.report(key, nil, "no [[host]] has this name; known hosts: "+c.hostNames())
	}
	return h, ok
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
			c.report(key+".id", v.ID, "already the id of "+c.at(indexKey("vlan", j+1))+"; VLAN ids must be unique")
		}
		c.vlanHosts(key, v)
	}
}

func (c checker) vlanHosts(key string, v VLAN) {
	owners := map[netip.Addr]string{}
	gatewayChecked := false
	for _, vh := range v.Hosts {
		hk := joinKey(key+".hosts", vh.Host)
		h, ok := c.knownHost(hk, vh.Host)
		if !ok {
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
			c.report(key+".tag", img.Tag, "already the tag of "+c.at(indexKey("image", j+1))+"; each [[image]] needs its own")
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
