package graph

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteDOT writes t for Graphviz (dot -Tsvg, -Tpng): a cluster per host
// holding its NIC, VLAN sub-interfaces, the registry and its containers;
// each macvlan network is one node outside the hosts, joined to the
// interface it hangs off on every host, so a network reads as the segment
// that spans them. With a check, containers are joined by what answered
// (ok), what should have and did not (FAIL, red, dashed) and what should
// not have and did (LEAK, orange).
func WriteDOT(w io.Writer, t *Topology) error {
	b := bufio.NewWriter(w)
	q := strconv.Quote
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("// mvorch graph %s: rendered by mvorch; dot -Tsvg FILE > FILE.svg\n", t.Name)
	p("digraph mvorch {\n")
	title := t.title()
	if t.Check != nil {
		title += "\n" + t.Check.summary()
	}
	p("  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, labelloc=t, label=%s, nodesep=0.3, ranksep=0.6];\n", q(title))
	p("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\", fontsize=10];\n")
	p("  edge [dir=none, fontname=\"Helvetica\", fontsize=9];\n")
	for i := range t.Hosts {
		h := &t.Hosts[i]
		p("\n  subgraph %s {\n", q("cluster_"+h.Name))
		p("    label=%s; style=\"rounded\"; color=\"#555555\";\n", q(h.Name+"\n"+h.Address))
		p("    %s [label=%s, fillcolor=\"#eeeeee\"];\n", q(nicID(h, h.Parent)), q(nicLabel(h)))
		for _, v := range h.VLANs {
			p("    %s [label=%s, fillcolor=\"#eeeeee\"];\n", q(nicID(h, v.Name)), q(v.Name+"\n"+v.Addr.String()))
		}
		if h.Registry {
			p("    %s [label=%s, shape=cylinder, fillcolor=\"#fff3c4\"];\n", q(registryID(t)), q("registry\n"+t.Registry.Addr))
		}
		for _, ci := range h.hostContainers() {
			c := &t.Containers[ci]
			p("    %s [label=%s, color=%s, penwidth=2];\n", q(containerID(c)), q(c.Name+"\n"+c.IP.String()), q(t.Networks[c.Net].Color))
		}
		for _, v := range h.VLANs {
			p("    %s -> %s [label=%s];\n", q(nicID(h, h.Parent)), q(nicID(h, v.Name)), q("VLAN "+strconv.Itoa(v.ID)))
		}
		for _, sh := range h.Shims {
			p("    %s [label=%s, shape=note, color=%s];\n", q(shimID(h, sh)), q(strings.Replace(sh.Describe(), " "+sh.Iface+" ", "\n"+sh.Iface+"\n", 1)), q(t.Networks[sh.Net].Color))
		}
		p("  }\n")
	}
	p("\n  // macvlan networks: one layer-2 segment each, across the hosts they are on\n")
	for i := range t.Networks {
		n := &t.Networks[i]
		p("  %s [label=%s, shape=hexagon, color=%s, fillcolor=%s, penwidth=2];\n", q(netID(n)), q(netLabel(n, "\n")), q(n.Color), q(tint(n.Color)))
	}
	for i := range t.Hosts {
		h := &t.Hosts[i]
		for _, a := range h.Attach {
			n := &t.Networks[a.Net]
			p("  %s -> %s [color=%s, penwidth=2];\n", q(nicID(h, a.Parent)), q(netID(n)), q(n.Color))
			for _, ci := range a.Containers {
				p("  %s -> %s [color=%s];\n", q(netID(n)), q(containerID(&t.Containers[ci])), q(n.Color))
			}
		}
	}
	for i := range t.Hosts {
		h := &t.Hosts[i]
		for _, sh := range h.Shims {
			n := &t.Networks[sh.Net]
			p("  %s -> %s [color=%s, style=dashed];\n", q(shimID(h, sh)), q(netID(n)), q(n.Color))
		}
		for _, pr := range routedPairs(h) {
			p("  %s -> %s [label=%s, color=\"#555555\", style=bold, constraint=false];\n", q("network/"+pr[0]), q("network/"+pr[1]), q("routed by "+h.Name))
		}
	}
	if t.Registry != nil {
		p("\n  // every host's docker trusts the registry (%s)\n", t.Registry.Trust)
		for i := range t.Hosts {
			h := &t.Hosts[i]
			if h.Trusts != "" {
				p("  %s -> %s [style=dotted, color=\"#8a6d00\", dir=forward, arrowsize=0.6, constraint=false];\n", q(nicID(h, h.Parent)), q(registryID(t)))
			}
		}
	}
	if t.Check != nil {
		p("\n  // verify: what answered (ok), should have and did not (FAIL), should not have and did (LEAK)\n")
		for _, l := range t.Check.links(false) {
			dir := "forward"
			if l.Both {
				dir = "both"
			}
			style := "solid"
			width := "1"
			if l.Status.Bad() {
				width = "3"
			}
			if l.Status == StatusFail {
				style = "dashed"
			}
			p("  %s -> %s [dir=%s, color=%s, style=%s, penwidth=%s, fontcolor=%s, label=%s, constraint=false];\n",
				q(containerID(&t.Containers[l.A])), q(containerID(&t.Containers[l.B])), dir, q(l.Status.color()), style, width,
				q(l.Status.color()), q(l.Status.Cell()))
		}
	}
	p("}\n")
	return b.Flush()
}

// Node ids: readable, unique, and quoted wherever they are written.
func nicID(h *Host, iface string) string { return h.Name + "/" + iface }
func containerID(c *Container) string    { return c.Host + "/container/" + c.Name }
func netID(n *Network) string            { return "network/" + n.Name }
func registryID(t *Topology) string      { return t.Registry.Host + "/registry" }

func nicLabel(h *Host) string {
	if h.Promisc {
		return h.Parent + "\npromisc"
	}
	return h.Parent
}

// netLabel is a network's name, subnet and VLAN, lines joined by sep.
func netLabel(n *Network, sep string) string {
	parts := []string{n.Name, n.Subnet.String()}
	if n.VLAN != 0 {
		parts = append(parts, "VLAN "+strconv.Itoa(n.VLAN))
	} else {
		parts = append(parts, "on the NIC")
	}
	return strings.Join(parts, sep)
}

// title names the picture and what is in it.
func (t *Topology) title() string {
	return fmt.Sprintf("mvorch graph %s: %s, %s, %s", t.Name, count(len(t.Hosts), "host"), count(len(t.Networks), "network"), count(len(t.Containers), "container"))
}

func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// tint is a light fill of an #rrggbb colour: 85% white.
func tint(color string) string {
	v, err := strconv.ParseUint(strings.TrimPrefix(color, "#"), 16, 32)
	if err != nil {
		return "#ffffff"
	}
	mix := func(shift uint) uint64 { c := (v >> shift) & 0xff; return c + (255-c)*85/100 }
	return fmt.Sprintf("#%02x%02x%02x", mix(16), mix(8), mix(0))
}

// shimID is the node of a host's shim.
func shimID(h *Host, sh Shim) string { return h.Name + "/shim/" + sh.Iface }
