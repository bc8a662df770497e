package steps

import (
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/sh"
)

// Router makes a host the layer-3 router between macvlan networks (article
// §2: "use a Linux host, configure its routing table and iptables"). On
// each network it routes, the host gets the network's gateway address on a
// shim of its own (a macvlan interface on the network's parent, made as
// host access makes one: a macvlan child cannot reach its parent, so the
// router cannot use <parent>.<vlan> itself where containers hang off it).
// The containers' default route is that gateway, since docker gave the
// network --gateway. Then IPv4 forwarding is turned on, now and at boot,
// and the firewall lets exactly the routed subnets forward to each other.
//
// The firewall is one iptables chain, MVORCH-ROUTER, made by a systemd unit
// and jumped to from DOCKER-USER where docker runs (dockerd sets FORWARD's
// policy to DROP; DOCKER-USER is the chain it leaves to the admin, runs
// first, and keeps across its restarts) or from FORWARD on a host without
// docker. Where docker runs, the unit is wanted by and part of
// docker.service, ordered after it: every start or restart of docker
// re-applies it, whatever a docker version does to its chains.
type Router struct{}

func (Router) Name() string { return "router" }
func (Router) Title() string {
	return "Router between macvlan networks (gateway interfaces, forwarding, firewall)"
}

const (
	// ForwardSysctl turns IPv4 forwarding on at boot (systemd-sysctl).
	ForwardSysctl = "/etc/sysctl.d/90-mvorch-forward.conf"
	// ForwardUnit makes the router's firewall chain.
	ForwardUnit = UnitDir + "/" + unitPrefix + "forward.service"
	// DockerWantsDir enables units started with docker.
	DockerWantsDir = UnitDir + "/docker.service.wants"
	// RouterChain is the router's own iptables chain.
	RouterChain = "MVORCH-ROUTER"
	iptablesCmd = "/sbin/iptables"
	sysctlKey   = "net.ipv4.ip_forward"
)

func (s Router) Plan(c *Context) ([]*Change, error) {
	nets := c.Inv.RoutedOn(c.Host.Name)
	var want []Shim
	for _, n := range nets {
		parent := c.Inv.NetworkParent(n, c.Host)
		want = append(want, Shim{Name: inventory.ShimName(parent), Parent: parent, Addr: n.Gateway,
			Routes: []netip.Prefix{n.Subnet}, Why: "router: gateway of " + n.Name})
	}
	out, err := planShims(c, s, "router", want)
	if err != nil {
		return nil, err
	}
	out = append(out, s.forwarding(c, len(nets) > 0)...)
	fw, err := s.firewall(c)
	if err != nil {
		return nil, err
	}
	return append(out, fw...), nil
}

// forwarding turns IPv4 forwarding on now (sysctl -w) and at every boot (a
// sysctl.d file, which systemd-sysctl applies early at boot). The undo puts
// back the value the host had. A later run that no longer routes here
// removes the file and gives the host its boot-time value again (unless
// docker runs, which turns forwarding on itself and needs it).
func (s Router) forwarding(c *Context, want bool) []*Change {
	set := func(v string) sh.Command { return sh.New("sysctl", "-q", "-w", sysctlKey+"="+v) }
	r := Rendered{
		Files: []RenderedFile{{Path: ForwardSysctl, Mode: 0o644,
			Data: []byte(ManagedHeader + ": IPv4 forwarding for the router between macvlan networks\n" + sysctlKey + " = 1\n")}},
		Start: []sh.Command{set("1")},
	}
	if !want {
		old := c.Facts.Files[ForwardSysctl]
		if old == nil || !isManaged(old.Data) {
			return nil
		}
		r.Files[0].Data = old.Data
		if !c.Facts.Docker.Active {
			r.Stop = []sh.Command{set("0"), sh.New("systemctl", "restart", "systemd-sysctl")}
		}
		c.Facts.IPForward = ""
		return []*Change{c.removePersisted(s, "IPv4 forwarding", r)}
	}
	if old := c.Facts.IPForward; old == "0" || old == "1" {
		r.Stop = []sh.Command{set(old)}
	}
	ch := c.planPersisted(s, "IPv4 forwarding", r, c.Facts.IPForward == "1", true)
	c.Facts.IPForward = "1"
	if ch == nil {
		return nil
	}
	return []*Change{ch}
}

// firewall plans the unit that makes the router's chain, or its removal
// from a host that no longer routes.
func (s Router) firewall(c *Context) ([]*Change, error) {
	const target = "firewall: " + RouterChain
	found := foundForwardUnit(c.Facts)
	pairs := routedPairs(c.Inv, c.Host.Name)
	if len(pairs) == 0 {
		if found == nil {
			return nil, nil
		}
		return []*Change{c.removePersisted(s, target, *found)}, nil
	}
	if !c.Facts.IPTables {
		return nil, fmt.Errorf("the router on %s needs iptables (iptables-nft or iptables-legacy), which is not installed there", c.Host.Name)
	}
	docker := c.Facts.Docker.Active
	// dockerd sets FORWARD's policy to DROP only when it turns forwarding
	// on itself; with the sysctl file forwarding is on before docker starts
	// at boot, and the policy would stay ACCEPT. The unit keeps the DROP
	// docker set (where it did), so the host forwards no more than before.
	keepDrop := docker && slices.Contains(c.Facts.FilterRules, "-P FORWARD DROP")
	r := forwardUnit(pairs, docker, keepDrop)
	var out []*Change
	if found != nil && found.Enable[0].Path != r.Enable[0].Path {
		// Docker came or went since: the unit is wanted by another unit now.
		out = append(out, c.removePersisted(s, target, *found))
	}
	if ch := c.planPersisted(s, target, r, chainRunning(c.Facts, pairs, docker), true); ch != nil {
		out = append(out, ch)
	}
	return out, nil
}

// routedPairs are the ordered pairs of subnets a host forwards between:
// those of the networks of each of its routers, never across routers.
func routedPairs(inv *inventory.Inventory, host string) [][2]netip.Prefix {
	var pairs [][2]netip.Prefix
	for _, r := range inv.Routers {
		if r.Host != host {
			continue
		}
		for _, a := range r.Networks {
			for _, b := range r.Networks {
				na, _ := inv.Network(a)
				nb, _ := inv.Network(b)
				if a != b && na != nil && nb != nil {
					pairs = append(pairs, [2]netip.Prefix{na.Subnet, nb.Subnet})
				}
			}
		}
	}
	return pairs
}

// chainRules are the rules of the router's chain, as `iptables -S` prints
// them: each routed pair accepted, anything else forwarded from or to a
// routed subnet dropped (a host without docker forwards everything by
// default), and the rest returned to the chain that jumped here.
func chainRules(pairs [][2]netip.Prefix) []string {
	var rules []string
	var subnets []netip.Prefix
	for _, p := range pairs {
		rules = append(rules, fmt.Sprintf("-A %s -s %s -d %s -j ACCEPT", RouterChain, p[0], p[1]))
		if !slices.Contains(subnets, p[0]) {
			subnets = append(subnets, p[0])
		}
	}
	for _, n := range subnets {
		rules = append(rules, fmt.Sprintf("-A %s -s %s -j DROP", RouterChain, n),
			fmt.Sprintf("-A %s -d %s -j DROP", RouterChain, n))
	}
	return rules
}

// jumpChain is where the router's chain is jumped to from.
func jumpChain(docker bool) string {
	if docker {
		return "DOCKER-USER"
	}
	return "FORWARD"
}

// chainRunning: the filter table holds the chain with exactly its rules,
// and the jump to it.
func chainRunning(f *Facts, pairs [][2]netip.Prefix, docker bool) bool {
	var have []string
	for _, l := range f.FilterRules {
		if strings.HasPrefix(l, "-A "+RouterChain+" ") {
			have = append(have, l)
		}
	}
	jump := "-A " + jumpChain(docker) + " -j " + RouterChain
	return slices.Equal(have, chainRules(pairs)) && slices.Contains(f.FilterRules, jump)
}

// forwardUnit renders the unit that makes the chain. Every command is
// safe to repeat: the jumps are deleted (from both chains, whichever an
// earlier version used) and the chain emptied before it is filled and
// jumped to again; stopping it removes both. keepDrop sets FORWARD's
// policy to DROP, as docker had it.
func forwardUnit(pairs [][2]netip.Prefix, docker, keepDrop bool) Rendered {
	ipt := func(prefix string, args ...string) string {
		return prefix + iptablesCmd + " -w " + strings.Join(args, " ")
	}
	var start, stop []string
	for _, ch := range []string{"DOCKER-USER", "FORWARD"} {
		start = append(start, ipt("ExecStart=-", "-D", ch, "-j", RouterChain))
		stop = append(stop, ipt("ExecStop=-", "-D", ch, "-j", RouterChain))
	}
	start = append(start, ipt("ExecStart=-", "-N", RouterChain), ipt("ExecStart=", "-F", RouterChain))
	for _, rule := range chainRules(pairs) {
		start = append(start, ipt("ExecStart=", rule))
	}
	jump := jumpChain(docker)
	start = append(start, ipt("ExecStart=", "-I", jump, "-j", RouterChain))
	if keepDrop {
		start = append(start, ipt("ExecStart=", "-P", "FORWARD", "DROP"))
	}
	stop = append(stop, ipt("ExecStop=-", "-F", RouterChain), ipt("ExecStop=-", "-X", RouterChain))

	order := "Wants=network-pre.target\nAfter=network-pre.target firewalld.service iptables.service nftables.service\nBefore=network.target"
	why := "no docker here: jumped to from FORWARD"
	wantsDir, wantedBy := WantsDir, "multi-user.target"
	if docker {
		// Part of docker.service: stopped and started with it.
		order = "After=docker.service\nPartOf=docker.service"
		why = "docker runs here and sets FORWARD's policy to DROP: jumped to from DOCKER-USER"
		wantsDir, wantedBy = DockerWantsDir, "docker.service"
	}
	var subnets []string
	for _, p := range pairs {
		subnets = append(subnets, p[0].String()+" -> "+p[1].String())
	}
	unit := fmt.Sprintf(`%s: router firewall, chain %s (%s)
# Forwarded: %s
[Unit]
Description=mvorch: router firewall (iptables chain %s from %s)
%s

[Service]
Type=oneshot
RemainAfterExit=yes
%s
%s

[Install]
WantedBy=%s
`, ManagedHeader, RouterChain, why, strings.Join(subnets, ", "), RouterChain, jump, order,
		strings.Join(start, "\n"), strings.Join(stop, "\n"), wantedBy)
	return withTeardown(enabledUnit(ForwardUnit, unit, "restart", wantsDir))
}

// withTeardown makes stopping the unit certain to leave no chain behind:
// a docker restart (an undo's, say) restarts the unit with it, and a stop
// that cancels that start mid-way runs no ExecStop=, so the chain and its
// jumps are removed directly as well.
func withTeardown(r Rendered) Rendered {
	for _, args := range [][]string{{"-D", "DOCKER-USER", "-j", RouterChain}, {"-D", "FORWARD", "-j", RouterChain}, {"-F", RouterChain}, {"-X", RouterChain}} {
		r.Stop = append(r.Stop, sh.New(iptablesCmd, "-w").Arg(args...).Raw("2>/dev/null || true"))
	}
	return r
}

// foundForwardUnit is the firewall unit mvorch made earlier, as the facts
// show it, with the link that enables it; nil when there is none.
func foundForwardUnit(f *Facts) *Rendered {
	file := f.Files[ForwardUnit]
	if file == nil || !isManaged(file.Data) {
		return nil
	}
	wantsDir := WantsDir
	if _, ok := f.Symlinks[DockerWantsDir+"/"+path.Base(ForwardUnit)]; ok {
		wantsDir = DockerWantsDir
	}
	r := withTeardown(enabledUnit(ForwardUnit, string(file.Data), "restart", wantsDir))
	return &r
}
