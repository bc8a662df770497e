package inventory

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Checks of [[router]] entries: a router holds the gateway address of each
// network it joins, on that network's segment, and forwards between them.

func (c checker) routers() {
	routedBy := map[string]int{} // network -> first router that joins it
	for i, r := range c.inv.Routers {
		key := indexKey("router", i+1)
		h, ok := c.inv.Host(r.Host)
		if !ok && r.Host != "" {
			c.report(key+".host", r.Host, "no [[host]] has this name; known hosts: "+c.hostNames())
		}
		if r.Networks != nil && len(r.Networks) < 2 {
			c.report(key+".networks", nil, "a router joins at least two networks; list every network it forwards between")
		}
		segments := map[int]string{} // VLAN id (0: the NIC) -> network
		for j, name := range r.Networks {
			nk := indexKey(key+".networks", j+1)
			n := c.routedNetwork(nk, r, j, name, i, routedBy)
			if n == nil || h == nil {
				continue
			}
			if other, dup := segments[n.VLAN]; dup {
				c.report(nk, name, fmt.Sprintf("is on the same segment as %s (%s); a router has one interface per segment, so route networks of different VLANs", other, segmentName(n.VLAN)))
				continue
			}
			segments[n.VLAN] = name
			c.routerOnNetwork(nk, h, n)
		}
	}
}

func segmentName(vlan int) string {
	if vlan == 0 {
		return "the parent NIC"
	}
	return fmt.Sprintf("VLAN %d", vlan)
}

// routedNetwork resolves the j-th network of router i, reporting a name
// that is no network, a repeat, or a network another router joins.
func (c checker) routedNetwork(nk string, r Router, j int, name string, i int, routedBy map[string]int) *Network {
	if name == "" {
		return nil
	}
	n, ok := c.inv.Network(name)
	if !ok {
		names := make([]string, len(c.inv.Networks))
		for k, n := range c.inv.Networks {
			names[k] = n.Name
		}
		c.report(nk, name, "no [[network]] has this name; known networks: "+strings.Join(names, ", "))
		return nil
	}
	if slices.Contains(r.Networks[:j], name) {
		c.report(nk, name, "listed twice in this router")
		return nil
	}
	if k, dup := routedBy[name]; dup {
		other := c.inv.Routers[k]
		c.report(nk, name, fmt.Sprintf("already routed by %s (%s); a network has one gateway, so at most one router joins it", other.Host, c.where(indexKey("router", k+1))))
		return nil
	}
	routedBy[name] = i
	return n
}

// routerOnNetwork: the router must be on the network's segment, and the
// gateway must be free for it to hold.
func (c checker) routerOnNetwork(nk string, h *Host, n *Network) {
	if _, known := c.inv.VLAN(n.VLAN); n.VLAN != 0 && !known {
		return // reported at the network's vlan
	}
	if !slices.Contains(c.inv.NetworkHosts(n), h.Name) {
		i := slices.IndexFunc(c.inv.VLANs, func(v VLAN) bool { return v.ID == n.VLAN })
		c.report(nk, n.Name, fmt.Sprintf("%s is on VLAN %d, where %s has no address (%s); add %s to that VLAN's hosts, or route it from one of %s",
			n.Name, n.VLAN, h.Name, c.where(indexKey("vlan", i+1)), h.Name, strings.Join(c.inv.NetworkHosts(n), ", ")))
		return
	}
	if a, ok := n.Access(h.Name); ok {
		c.report(nk, n.Name, fmt.Sprintf("%s routes %s and so holds its gateway %s there, which reaches the network's containers already; leave %s out of %s's host_access (%s)",
			h.Name, n.Name, n.Gateway, h.Name, n.Name, a))
		return
	}
	if !n.Gateway.IsValid() {
		return
	}
	if user := c.gatewayUser(n.Gateway); user != "" {
		c.report(nk, n.Name, fmt.Sprintf("%s's gateway %s is %s; the router must hold the gateway itself: give that one another address", n.Name, n.Gateway, user))
	}
}

// gatewayUser names whatever else has address a: a host on a VLAN, a
// VLAN's gateway, a host's own address. Containers and host access
// addresses equal to their network's gateway are reported where they are
// written.
func (c checker) gatewayUser(a netip.Addr) string {
	for i, v := range c.inv.VLANs {
		where := c.where(indexKey("vlan", i+1))
		if v.Gateway == a {
			return fmt.Sprintf("VLAN %d's gateway (%s)", v.ID, where)
		}
		for _, vh := range v.Hosts {
			if vh.Addr.Addr() == a {
				return fmt.Sprintf("%s's address on VLAN %d (%s)", vh.Host, v.ID, where)
			}
		}
	}
	for i, h := range c.inv.Hosts {
		if h.Address == a.String() {
			return fmt.Sprintf("the address of host %s (%s)", h.Name, c.where(indexKey("host", i+1)))
		}
	}
	return ""
}
