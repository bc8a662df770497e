package steps

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/sh"
)

// Networks creates the macvlan networks, identical on every host they span
// (article 4.1 step 2 and 4.2 step 4: docker network create -d macvlan).
type Networks struct{}

func (Networks) Name() string  { return "networks" }
func (Networks) Title() string { return "macvlan networks" }

func (s Networks) Plan(c *Context) ([]*Change, error) {
	if c.dockerUnused() {
		return nil, nil
	}
	var out []*Change
	want := map[string]bool{}
	for i := range c.Inv.Networks {
		n := &c.Inv.Networks[i]
		if !containsStr(c.Inv.NetworkHosts(n), c.Host.Name) {
			continue
		}
		want[n.Name] = true
		old := c.Facts.Docker.Networks[n.Name]
		ch, err := s.planNetwork(c, n)
		if err != nil {
			return nil, err
		}
		if ch != nil {
			drops, foreign := s.dropContainers(c, old)
			out = append(out, drops...)
			s.reconnect(c, ch, n, foreign)
			out = append(out, ch)
		}
	}
	out = append(out, s.removeStale(c, want)...)
	if err := oneMacvlanPerParent(c); err != nil {
		return nil, err
	}
	return out, nil
}

// MacvlanParentsFrom is the first docker release that lets several macvlan
// networks share a parent interface; before it the second network's
// creation fails ("network ... is already using parent interface ...").
const MacvlanParentsFrom = 26

// oneMacvlanPerParent stops, before anything changes, a plan that would
// leave two macvlan networks on one parent under a docker that allows one
// (those mvorch plans and any already there).
func oneMacvlanPerParent(c *Context) error {
	major, ok := dockerMajor(c.Facts.Docker.Version)
	if !ok || major >= MacvlanParentsFrom {
		return nil
	}
	byParent := map[string][]string{}
	for _, name := range slices.Sorted(maps.Keys(c.Facts.Docker.Networks)) {
		if n := c.Facts.Docker.Networks[name]; n.Driver == "macvlan" && n.Parent != "" {
			byParent[n.Parent] = append(byParent[n.Parent], name)
		}
	}
	for _, parent := range slices.Sorted(maps.Keys(byParent)) {
		if names := byParent[parent]; len(names) > 1 {
			return fmt.Errorf("macvlan networks %s would share parent interface %s on %s, and its docker %s allows one macvlan network per parent (docker %d and newer allow several): give each network a vlan of its own, or upgrade docker on %s",
				strings.Join(names, " and "), parent, c.Host.Name, c.Facts.Docker.Version, MacvlanParentsFrom, c.Host.Name)
		}
	}
	return nil
}

// dockerMajor reads the major number of a docker version ("20.10.24+dfsg1").
func dockerMajor(v string) (int, bool) {
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	return n, err == nil
}

// createNetwork makes a macvlan network. aux are its --aux-address
// entries: the hosts' shim addresses (host_access), which docker must never
// give a container started without --ip.
func createNetwork(name, subnet, gateway, parent string, aux map[string]string) sh.Command {
	cmd := sh.New("docker", "network", "create", "-d", "macvlan", "--subnet", subnet, "--gateway", gateway)
	for _, k := range sortedKeys(aux) {
		cmd = cmd.Arg("--aux-address", k+"="+aux[k])
	}
	return cmd.Arg("-o", "parent="+parent, "--label", ManagedLabel+"=true", "--", name)
}

// wantAux are the aux addresses a network must hold: every host_access
// address, on every host (the segment is one, whichever host docker runs on).
func wantAux(n *inventory.Network) map[string]string {
	if len(n.HostAccess) == 0 {
		return nil
	}
	aux := map[string]string{}
	for _, a := range n.HostAccess {
		aux[a.Host] = a.Addr.String()
	}
	return aux
}

func auxText(aux map[string]string) string {
	if len(aux) == 0 {
		return ""
	}
	var parts []string
	for _, k := range sortedKeys(aux) {
		parts = append(parts, k+"="+aux[k])
	}
	return " aux " + strings.Join(parts, ",")
}

// removeNetwork removes a network, and is safe to repeat: a network already
// gone is fine (a run killed between journalling a creation and making it
// leaves an undo for a network that never was). Any other failure is
// reported by a second rm, with docker's own message.
func removeNetwork(name string) sh.Command {
	return sh.New("docker", "network", "rm", "--", name).Raw(">/dev/null 2>&1 || { !").
		Arg("docker", "network", "inspect", "--", name).Raw(">/dev/null 2>&1 ||").
		Arg("docker", "network", "rm", "--", name).Raw(">/dev/null; }")
}

func (s Networks) planNetwork(c *Context, n *inventory.Network) (*Change, error) {
	parent := c.Inv.NetworkParent(n, c.Host)
	if _, ok := c.Facts.Links[parent]; !ok {
		return nil, fmt.Errorf("network %s needs parent interface %s on %s, which does not exist and no earlier step makes it", n.Name, parent, c.Host.Name)
	}
	d := &c.Facts.Docker
	subnet, gw, aux := n.Subnet.String(), n.Gateway.String(), wantAux(n)
	create := exec(createNetwork(n.Name, subnet, gw, parent, aux))
	rm := exec(removeNetwork(n.Name))
	old := d.Networks[n.Name]
	if old == nil {
		ch := c.newChange(s, ActionAdd, "network "+n.Name)
		ch.Detail = fmt.Sprintf("macvlan %s gateway %s parent %s%s", subnet, gw, parent, auxText(aux))
		ch.Do = []Op{create}
		ch.Undo = []Op{rm}
		d.Networks[n.Name] = &DockerNetwork{Name: n.Name, Driver: "macvlan", Subnet: subnet, Gateway: gw, Parent: parent, Managed: true, Aux: aux}
		return ch, nil
	}
	if old.Driver == "macvlan" && old.Subnet == subnet && old.Gateway == gw && old.Parent == parent && maps.Equal(old.Aux, aux) {
		return nil, nil
	}
	ch := c.newChange(s, ActionReplace, "network "+n.Name)
	ch.Detail = fmt.Sprintf("%s %s gateway %s parent %s%s -> macvlan %s gateway %s parent %s%s",
		old.Driver, old.Subnet, old.Gateway, old.Parent, auxText(old.Aux), subnet, gw, parent, auxText(aux))
	if !maps.Equal(old.Aux, aux) {
		// docker cannot change a network's addresses in place.
		ch.Detail += " (docker cannot change the aux addresses of a network: it is made again, with its containers)"
	}
	if !old.Managed {
		ch.Conflict = fmt.Sprintf("network %s exists on %s with other settings and mvorch did not make it", n.Name, c.Host.Name)
	}
	ch.Do = []Op{rm, create}
	ch.Undo = []Op{rm, exec(createNetwork(old.Name, old.Subnet, old.Gateway, old.Parent, old.Aux))}
	d.Networks[n.Name] = &DockerNetwork{Name: n.Name, Driver: "macvlan", Subnet: subnet, Gateway: gw, Parent: parent, Managed: true, Aux: aux}
	return ch, nil
}

// dropContainers plans what becomes of the containers attached to a network
// about to be removed or replaced, each a change of its own so the plan
// shows it. mvorch's own are removed: the containers step then plans those
// still wanted afresh. A container mvorch did not make is only disconnected
// from the network (with --replace, as it is not mvorch's): it keeps its
// settings, its data and its other networks, and the undo connects it again
// with its address. foreign maps those to their address on the network.
func (s Networks) dropContainers(c *Context, n *DockerNetwork) (out []*Change, foreign map[string]string) {
	if n == nil {
		return nil, nil
	}
	foreign = map[string]string{}
	for _, name := range n.Containers {
		old := c.Facts.Docker.Containers[name]
		if old == nil {
			continue
		}
		if !old.Managed {
			ip := old.Networks[n.Name]
			ch := c.newChange(s, ActionChange, "container "+name)
			ch.Detail = "disconnected from network " + n.Name + ", which goes (the container itself is kept)"
			ch.Conflict = fmt.Sprintf("container %s on %s was not made by mvorch", name, c.Host.Name)
			ch.Do = []Op{exec(disconnect(n.Name, name))}
			ch.Undo = []Op{exec(connect(n.Name, name, ip))}
			nets := maps.Clone(old.Networks)
			delete(nets, n.Name)
			cp := *old
			cp.Networks = nets
			c.Facts.Docker.Containers[name] = &cp
			foreign[name] = ip
			out = append(out, ch)
			continue
		}
		ch := c.newChange(s, ActionRemove, "container "+name)
		ch.Detail = "attached to network " + n.Name + ", which goes"
		ch.Do = []Op{exec(sh.New("docker", "rm", "-f", "--", name).Raw(">/dev/null"))}
		ch.Undo = recreate(old)
		delete(c.Facts.Docker.Containers, name)
		out = append(out, ch)
	}
	return out, foreign
}

// reconnect makes a network's replacement (ch) connect again the containers
// mvorch did not make that were on it, each with its address when the new
// subnet still holds it; its undo disconnects them first, since docker
// removes no network with containers on it.
func (s Networks) reconnect(c *Context, ch *Change, n *inventory.Network, foreign map[string]string) {
	var back []string
	for _, name := range sortedKeys(foreign) {
		ip := foreign[name]
		if addr, err := netip.ParseAddr(ip); ip != "" && (err != nil || !n.Subnet.Contains(addr)) {
			ch.Detail += fmt.Sprintf("; container %s stays disconnected (%s is outside %s)", name, ip, n.Subnet)
			continue
		}
		ch.Do = append(ch.Do, exec(connect(n.Name, name, ip)))
		ch.Undo = append([]Op{exec(disconnect(n.Name, name))}, ch.Undo...)
		if ct := c.Facts.Docker.Containers[name]; ct != nil {
			ct.Networks[n.Name] = ip
		}
		back = append(back, name)
	}
	if len(back) > 0 {
		ch.Detail += "; then connects " + strings.Join(back, ", ") + " again"
	}
}

// disconnect takes a container off a network; -f also when it is stopped or
// the endpoint is stale.
func disconnect(network, container string) sh.Command {
	return sh.New("docker", "network", "disconnect", "-f", "--", network, container)
}

// connect puts a container on a network, with its address when it had one.
func connect(network, container, ip string) sh.Command {
	cmd := sh.New("docker", "network", "connect")
	if ip != "" {
		cmd = cmd.Arg("--ip", ip)
	}
	return cmd.Arg("--", network, container)
}

// removeStale plans the removal of networks mvorch made that the inventory
// no longer gives this host.
func (s Networks) removeStale(c *Context, want map[string]bool) []*Change {
	var out []*Change
	for _, name := range staleManaged(c.Facts.Docker.Networks, func(n *DockerNetwork) bool { return n.Managed }, want) {
		n := c.Facts.Docker.Networks[name]
		drops, _ := s.dropContainers(c, n)
		out = append(out, drops...)
		ch := c.newChange(s, ActionRemove, "network "+name)
		ch.Detail = fmt.Sprintf("macvlan %s parent %s (no longer in the inventory)", n.Subnet, n.Parent)
		ch.Do = []Op{exec(sh.New("docker", "network", "rm", "--", name).Raw(">/dev/null"))}
		ch.Undo = []Op{exec(createNetwork(name, n.Subnet, n.Gateway, n.Parent, n.Aux))}
		delete(c.Facts.Docker.Networks, name)
		out = append(out, ch)
	}
	return out
}
