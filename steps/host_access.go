package steps

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/mvorch/mvorch/inventory"
)

// HostAccess gives a host its own macvlan interface (a "shim") on each
// network whose host_access names it, so that the host and the network's
// containers reach each other (article 3.5-3.6: a macvlan child cannot talk
// to its parent, so the host needs a child of its own). The shim holds the
// host's address as a /32 and routes the network's subnet through itself:
// the host's other routes stay as they were, and the route says exactly
// what the shim is for. The backend keeps it across reboots.
type HostAccess struct{}

func (HostAccess) Name() string  { return "host-access" }
func (HostAccess) Title() string { return "Host access to macvlan networks (shim interfaces)" }

func (s HostAccess) Plan(c *Context) ([]*Change, error) {
	var want []Shim
	for i := range c.Inv.Networks {
		n := &c.Inv.Networks[i]
		addr, ok := n.Access(c.Host.Name)
		if !ok || !slices.Contains(c.Inv.NetworkHosts(n), c.Host.Name) {
			continue
		}
		parent := c.Inv.NetworkParent(n, c.Host)
		want = append(want, Shim{Name: inventory.ShimName(parent), Parent: parent, Addr: addr, Routes: []netip.Prefix{n.Subnet},
			Why: "host access to " + n.Name})
	}
	return planShims(c, s, "shim", want)
}

// planShims plans the shims of kind the host must have, and the removal of
// those of that kind mvorch made earlier that it no longer needs.
func planShims(c *Context, step Step, kind string, want []Shim) ([]*Change, error) {
	b, err := c.backend()
	if err != nil {
		if len(want) == 0 {
			return nil, nil
		}
		return nil, err
	}
	found := b.Found(c.Facts, kind)
	var out []*Change
	for _, shim := range want {
		shim.Kind = kind
		if _, seen := found[shim.Parent]; !seen && c.Facts.Links[shim.Parent] == nil {
			return nil, fmt.Errorf("%s needs interface %s on %s, which does not exist and no earlier step makes it", shim.Why, shim.Parent, c.Host.Name)
		}
		ch, err := planShim(c, step, b, shim)
		if err != nil {
			return nil, err
		}
		if ch != nil {
			out = append(out, ch)
		}
		delete(found, shim.Parent)
	}
	for _, parent := range sortedKeys(found) {
		out = append(out, c.removePersisted(step, kind+" on "+parent, found[parent]))
		delete(c.Facts.Links, inventory.ShimName(parent))
	}
	return out, nil
}

func planShim(c *Context, step Step, b NetBackend, shim Shim) (*Change, error) {
	r := b.Shim(shim)
	link := c.Facts.Links[shim.Name]
	running := shimRunning(c.Facts, shim)
	ch := c.planPersisted(step, fmt.Sprintf("shim %s on %s (%s/32)", shim.Name, shim.Parent, shim.Addr), r, running, true)
	if ch != nil && link != nil && !c.madeUnit(r) {
		ch.Action = ActionReplace
		ch.Conflict = fmt.Sprintf("interface %s exists on %s but mvorch did not make it", shim.Name, c.Host.Name)
	}
	c.Facts.Links[shim.Name] = &Link{Name: shim.Name, Up: true, Kind: "macvlan", Parent: shim.Parent, Addrs: []string{shim.Addr.String() + "/32"}}
	if c.Facts.Routes == nil {
		c.Facts.Routes = map[string][]string{}
	}
	for _, p := range shim.Routes {
		if !slices.Contains(c.Facts.Routes[shim.Name], p.String()) {
			c.Facts.Routes[shim.Name] = append(c.Facts.Routes[shim.Name], p.String())
		}
	}
	return ch, nil
}

// madeUnit: one of the rendering's files was already there, written by mvorch.
func (c *Context) madeUnit(r Rendered) bool {
	for _, f := range r.Files {
		if old := c.Facts.Files[f.Path]; old != nil && isManaged(old.Data) {
			return true
		}
	}
	return false
}

// shimRunning: the interface is there as the shim says, up, with its
// address and every route.
func shimRunning(f *Facts, s Shim) bool {
	l := f.Links[s.Name]
	if l == nil || !l.Up || l.Kind != "macvlan" || !onParent(f, l, s.Parent) || !slices.Contains(l.Addrs, s.Addr.String()+"/32") {
		return false
	}
	for _, p := range s.Routes {
		if !slices.Contains(f.Routes[s.Name], p.String()) {
			return false
		}
	}
	return true
}

// onParent: l hangs off parent. A macvlan made on a macvlan is attached by
// the kernel to the lower one and shows as "mv-ens33.10@ens33" (the lab's
// stand-in for a VLAN sub-interface is such a macvlan), so its grandparent
// counts too where parent is itself a macvlan.
func onParent(f *Facts, l *Link, parent string) bool {
	if l.Parent == parent {
		return true
	}
	p := f.Links[parent]
	return p != nil && p.Kind == "macvlan" && p.Parent != "" && p.Parent == l.Parent
}
