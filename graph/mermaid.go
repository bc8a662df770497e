package graph

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteMermaid writes t as a Mermaid flowchart (GitHub and GitLab draw it
// inside a ```mermaid block): the same nodes and lines as WriteDOT. Node
// ids are positions (h0, n1, c2), so that any name is safe in them.
func WriteMermaid(w io.Writer, t *Topology) error {
	b := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	title := t.title()
	if t.Check != nil {
		title += "; " + t.Check.summary()
	}
	p("---\ntitle: %s\n---\nflowchart LR\n", strconv.Quote(title))
	links := 0 // linkStyle counts every link in the order written
	var styles []string
	indent := "  "
	link := func(from, arrow, to, style string) {
		p("%s%s %s %s\n", indent, from, arrow, to)
		if style != "" {
			styles = append(styles, fmt.Sprintf("  linkStyle %d %s\n", links, style))
		}
		links++
	}
	for hi := range t.Hosts {
		h := &t.Hosts[hi]
		hid := "h" + strconv.Itoa(hi)
		p("  subgraph %s[%s]\n", hid, mmLabel(h.Name, h.Address))
		p("    %s[%s]\n", hid+"_nic", mmLabel(strings.Split(nicLabel(h), "\n")...))
		for _, v := range h.VLANs {
			p("    %s[%s]\n", vlanMID(hi, v.ID), mmLabel(v.Name, v.Addr.String()))
		}
		if h.Registry {
			p("    reg[(%s)]\n", mmLabel("registry", t.Registry.Addr))
		}
		for _, ci := range h.hostContainers() {
			c := &t.Containers[ci]
			p("    c%d[%s]\n", ci, mmLabel(c.Name, c.IP.String()))
		}
		for si, sh := range h.Shims {
			p("    %s[/%s/]\n", shimMID(hi, si), mmLabel(sh.Describe()))
		}
		indent = "    "
		for _, v := range h.VLANs {
			link(hid+"_nic", `---|"VLAN `+strconv.Itoa(v.ID)+`"|`, vlanMID(hi, v.ID), "")
		}
		indent = "  "
		p("  end\n")
	}
	for i := range t.Networks {
		p("  n%d{{%s}}\n", i, mmLabel(strings.Split(netLabel(&t.Networks[i], "\n"), "\n")...))
	}
	for hi := range t.Hosts {
		h := &t.Hosts[hi]
		for _, a := range h.Attach {
			n := &t.Networks[a.Net]
			from := "h" + strconv.Itoa(hi) + "_nic"
			if n.VLAN != 0 {
				from = vlanMID(hi, n.VLAN)
			}
			link(from, "---", "n"+strconv.Itoa(a.Net), "stroke:"+n.Color+",stroke-width:3px")
			for _, ci := range a.Containers {
				link("n"+strconv.Itoa(a.Net), "---", "c"+strconv.Itoa(ci), "stroke:"+n.Color+",stroke-width:2px")
			}
		}
	}
	for hi := range t.Hosts {
		for si, sh := range t.Hosts[hi].Shims {
			n := &t.Networks[sh.Net]
			link(shimMID(hi, si), "-.-", "n"+strconv.Itoa(sh.Net), "stroke:"+n.Color)
		}
		for _, pr := range routedPairs(&t.Hosts[hi]) {
			link(netMID(t, pr[0]), "==>|\"routed by "+t.Hosts[hi].Name+"\"|", netMID(t, pr[1]), "stroke:#555555")
		}
	}
	if t.Registry != nil {
		for hi := range t.Hosts {
			if t.Hosts[hi].Trusts != "" {
				link("h"+strconv.Itoa(hi)+"_nic", "-.->|trusts|", "reg", "stroke:#8a6d00")
			}
		}
	}
	if t.Check != nil {
		for _, l := range t.Check.links(false) {
			arrow := "-->"
			if l.Both {
				arrow = "<-->"
			}
			style := "stroke:" + l.Status.color()
			switch l.Status {
			case StatusFail:
				style += ",stroke-width:4px,stroke-dasharray:6 4"
			case StatusLeak:
				style += ",stroke-width:4px"
			}
			link("c"+strconv.Itoa(l.A), arrow+"|"+l.Status.Cell()+"|", "c"+strconv.Itoa(l.B), style)
		}
	}
	for i := range t.Networks {
		n := &t.Networks[i]
		members := []string{"n" + strconv.Itoa(i)}
		for ci, c := range t.Containers {
			if c.Net == i {
				members = append(members, "c"+strconv.Itoa(ci))
			}
		}
		p("  classDef net%d stroke:%s,fill:%s,stroke-width:2px\n", i, n.Color, tint(n.Color))
		p("  class %s net%d\n", strings.Join(members, ","), i)
	}
	if t.Registry != nil {
		p("  classDef registry fill:#fff3c4,stroke:#8a6d00\n  class reg registry\n")
	}
	for _, s := range styles {
		p("%s", s)
	}
	return b.Flush()
}

func vlanMID(host, vlan int) string { return fmt.Sprintf("h%d_v%d", host, vlan) }

func shimMID(host, shim int) string { return fmt.Sprintf("h%d_s%d", host, shim) }

// netMID is the node of the named network.
func netMID(t *Topology, name string) string {
	for i := range t.Networks {
		if t.Networks[i].Name == name {
			return "n" + strconv.Itoa(i)
		}
	}
	return ""
}

// mmLabel is a quoted Mermaid label of lines; names are validated (no
// quotes), but a quote would end the label, so it is written as an entity.
func mmLabel(lines ...string) string {
	return `"` + strings.ReplaceAll(strings.Join(lines, "<br/>"), `"`, "#quot;") + `"`
}
