package steps

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mvorch/mvorch/runner/sh"
)

// Promisc turns on promiscuous mode on the parent NIC, so that it accepts
// frames for the macvlan children's MAC addresses (article 4.1, step 1).
type Promisc struct{}

func (Promisc) Name() string  { return "promisc" }
func (Promisc) Title() string { return "Promiscuous mode on the parent NIC" }

func (s Promisc) Plan(c *Context) ([]*Change, error) {
	parent := c.Host.Parent
	link, ok := c.Facts.Links[parent]
	if !ok {
		return nil, fmt.Errorf("parent NIC %s is missing on %s (interfaces: %s); set parent = \"...\" for this host or in [defaults]",
			parent, c.Host.Name, strings.Join(c.Facts.physicalLinks(), ", "))
	}
	if link.Wireless {
		return nil, fmt.Errorf("parent NIC %s on %s is wireless: 802.11 allows one MAC address per client, so macvlan cannot work on it; use a wired NIC, or ipvlan (which mvorch does not set up)",
			parent, c.Host.Name)
	}
	var out []*Change
	if c.Host.Promisc && !link.Promisc {
		ch := c.newChange(s, ActionChange, parent)
		ch.Detail = "promisc off -> on"
		ch.Do = []Op{exec(sh.New("ip", "link", "set", "dev", parent, "promisc", "on"))}
		ch.Undo = []Op{exec(sh.New("ip", "link", "set", "dev", parent, "promisc", "off"))}
		link.Promisc = true
		out = append(out, ch)
	}
	// `ip link set promisc on` is gone after a reboot: the backend makes the
	// host set it at boot, before docker and the interfaces on the NIC.
	b, err := c.backend()
	if err != nil {
		if !c.Host.Promisc {
			return out, nil // nothing to keep, and nothing mvorch can have kept
		}
		return nil, err
	}
	found := b.Found(c.Facts, "promisc")
	if c.Host.Promisc {
		r, err := b.Promisc(parent)
		if err != nil {
			return nil, err
		}
		if ch := c.planPersisted(s, "promisc at boot: "+parent, r, true, true); ch != nil {
			out = append(out, ch)
		}
		delete(found, parent)
	}
	for _, nic := range sortedKeys(found) {
		out = append(out, nonNil(c.removePersisted(s, "promisc at boot: "+nic, found[nic]))...)
	}
	return out, nil
}

// physicalLinks lists interface names a user might have meant as a parent.
func (f *Facts) physicalLinks() []string {
	var names []string
	for name, l := range f.Links {
		switch {
		case name == "lo", strings.HasPrefix(name, "docker"), strings.HasPrefix(name, "veth"), strings.HasPrefix(name, "br-"):
		case l.Kind == "" || l.Kind == "veth" || l.Kind == "bond":
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}
