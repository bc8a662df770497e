package graph

import (
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
)

// The SVG is laid out here, not by a layout engine, so that it is the same
// bytes every time and its size is known: every label is monospace
// (DejaVu Sans Mono's advance is 0.6 em), so a text's width is its length
// times charW and nothing overlaps.
//
// How it scales: hosts are boxes in a grid of rows, at most maxCols per row
// (2 hosts: one row of 2; 50 hosts: 9 rows of 6), so the picture grows
// downwards, not into a hairball. Under each row every network that row's
// hosts carry is a horizontal line in its colour (the layer-2 segment),
// and each host drops one vertical line to each of its networks: lines
// stay local to their row, whatever the number of hosts. Containers are
// rows inside their host, in their network's section. Only pairs that
// differ from what is expected (FAIL, LEAK) are drawn as lines across
// hosts; every checked pair is in the matrix under the grid (up to
// matrixMax containers) or, beyond that, the pairs that differ are listed.
const (
	fontSize  = 12
	charW     = 7.3 // 12 px DejaVu Sans Mono: 7.22 px per character
	lineH     = 17
	headH     = 24
	pad       = 10
	margin    = 24
	colGap    = 100 // room for FAIL and LEAK lines between columns
	busGap    = 18
	rowGap    = 40
	maxCols   = 6
	matrixMax = 24 // as verify: beyond this it samples, and so does the picture
	listMax   = 40 // lines of pairs that differ, beyond the matrix
	monoFont  = "DejaVu Sans Mono, Menlo, Consolas, monospace"
	sansFont  = "DejaVu Sans, Helvetica, Arial, sans-serif"
)

// line kinds of a host box.
const (
	rowNIC = iota
	rowRegistry
	rowTrust
	rowNet
	rowVia
	rowContainer
	rowVLAN
)

// boxRow is one line of text in a host box.
type boxRow struct {
	kind      int
	text      string
	right     string // right-aligned text on the same line
	net       int    // the network of a rowNet, rowVia or rowContainer
	container int    // the container of a rowContainer
}

// hostBox is a host placed on the canvas.
type hostBox struct {
	x, y, h float64
	row     int
	col     int
	rows    []boxRow
	drops   []float64 // x of the line down to each network, as Attach
}

// layout is every position the SVG needs.
type layout struct {
	t        *Topology
	cols     int
	boxW     float64
	labelW   float64 // room left of the grid for the networks' names
	boxes    []hostBox
	rowTop   []float64
	corridor []float64         // y of the free lane under each row's networks
	rowNets  [][]int           // networks under each row, in order
	busY     []map[int]float64 // row -> network -> y of its line
	chipY    map[int]float64   // container -> y of its text's middle
	chipBox  map[int]int       // container -> index in boxes
	status   map[int]Status    // container -> worst status it is part of
	width    float64
	gridBot  float64
}

// WriteSVG writes t as one self-contained SVG: no scripts, fonts, images
// or links outside it.
func WriteSVG(w io.Writer, t *Topology) error {
	l := newLayout(t)
	c := &canvas{}
	y := l.gridBot + rowGap/2
	var panel func(*canvas, float64) float64
	switch {
	case t.Check == nil:
	case len(t.Containers) <= matrixMax && t.Check.Mode != "sampled":
		panel = l.matrix
	default:
		panel = l.badList
	}
	body := &canvas{}
	l.drawTitle(body)
	l.drawBuses(body)
	for i := range l.boxes {
		l.drawHost(body, i)
	}
	l.drawLinks(body)
	if panel != nil {
		y = panel(body, y) + rowGap/2
	}
	y = l.legend(body, y)
	width := math.Ceil(l.width)
	height := math.Ceil(y + margin)
	c.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="%s" font-size="%d">`+"\n",
		width, height, width, height, monoFont, fontSize)
	c.printf("<title>%s</title>\n", esc(t.title()))
	c.printf("<desc>The network of the inventory %s as mvorch builds it: hosts, their NIC and VLAN sub-interfaces, macvlan networks, containers, the registry%s.</desc>\n",
		esc(t.Name), map[bool]string{true: ", and verify's result", false: ""}[t.Check != nil])
	c.defs()
	c.printf(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	c.b.WriteString(body.b.String())
	c.printf("</svg>\n")
	_, err := io.WriteString(w, c.b.String())
	return err
}

func newLayout(t *Topology) *layout {
	l := &layout{t: t, chipY: map[int]float64{}, chipBox: map[int]int{}, status: map[int]Status{}}
	if t.Check != nil {
		for _, p := range t.Check.Pairs {
			if s := p.Status(); s.Bad() {
				for _, ci := range []int{p.From, p.To} {
					if old, ok := l.status[ci]; !ok || s == StatusFail || old != StatusFail {
						l.status[ci] = s
					}
				}
			}
		}
	}
	rows := max(1, (len(t.Hosts)+maxCols-1)/maxCols)
	l.cols = max(1, (len(t.Hosts)+rows-1)/rows)
	for _, n := range t.Networks {
		l.labelW = max(l.labelW, textW(busLabel(&n)))
	}
	l.labelW += 30
	l.boxW = 250
	for i := range t.Hosts {
		b := hostBox{row: i / l.cols, col: i % l.cols, rows: l.hostRows(&t.Hosts[i])}
		for _, r := range b.rows {
			w := textW(r.text) + 2*pad + 16
			if r.right != "" {
				w += textW(r.right) + charW
			}
			l.boxW = max(l.boxW, w)
		}
		b.h = headH + float64(len(b.rows))*lineH + pad
		l.boxes = append(l.boxes, b)
	}
	l.boxW = math.Ceil(l.boxW)
	l.place()
	return l
}

// hostRows are the lines of a host's box, top to bottom.
func (l *layout) hostRows(h *Host) []boxRow {
	t := l.t
	nic := h.Parent
	if h.Promisc {
		nic += " · promisc on"
	}
	rows := []boxRow{{kind: rowNIC, text: nic}}
	if h.Registry {
		rows = append(rows, boxRow{kind: rowRegistry, text: "registry " + t.Registry.Addr})
	}
	if h.Trusts != "" {
		rows = append(rows, boxRow{kind: rowTrust, text: "trusts " + h.Trusts})
	}
	for _, a := range h.Attach {
		n := &t.Networks[a.Net]
		right := "no VLAN"
		if n.VLAN != 0 {
			right = "VLAN " + strconv.Itoa(n.VLAN)
		}
		rows = append(rows, boxRow{kind: rowNet, text: n.Name, right: right, net: a.Net})
		via := "on " + a.Parent
		if a.ParentAddr.IsValid() {
			via += " " + a.ParentAddr.String()
		}
		rows = append(rows, boxRow{kind: rowVia, text: via, net: a.Net})
		for _, sh := range h.shimsOn(a.Net) {
			rows = append(rows, boxRow{kind: rowVia, text: sh.Describe(), net: a.Net})
		}
		for _, ci := range a.Containers {
			c := &t.Containers[ci]
			r := boxRow{kind: rowContainer, text: c.Name, right: c.IP.String(), net: a.Net, container: ci}
			if t.Check != nil {
				r.right += "     " // room for the FAIL / LEAK badge
			}
			rows = append(rows, r)
		}
	}
	for _, sh := range h.Shims {
		if !sh.Attached { // a plain router: the network is not created here
			rows = append(rows, boxRow{kind: rowVia, text: t.Networks[sh.Net].Name + ": " + sh.Describe(), net: sh.Net})
		}
	}
	if len(h.Routes) > 0 {
		rows = append(rows, boxRow{kind: rowTrust, text: "forwards " + strings.Join(h.Routes, " <-> ")})
	}
	for _, v := range h.VLANs {
		if !v.Used {
			rows = append(rows, boxRow{kind: rowVLAN, text: v.Name + " " + v.Addr.String(), right: "VLAN " + strconv.Itoa(v.ID)})
		}
	}
	return rows
}

// place puts the boxes in rows and the networks' lines under them.
func (l *layout) place() {
	x0 := margin + l.labelW
	top := float64(margin + 52)
	nrows := (len(l.boxes) + l.cols - 1) / l.cols
	l.width = x0 + float64(l.cols)*l.boxW + float64(l.cols-1)*colGap + colGap/2 + margin
	for r := 0; r < nrows; r++ {
		l.rowTop = append(l.rowTop, top)
		bottom := top
		on := map[int]bool{}
		for i := r * l.cols; i < min(len(l.boxes), (r+1)*l.cols); i++ {
			b := &l.boxes[i]
			b.x = x0 + float64(b.col)*(l.boxW+colGap)
			b.y = top
			bottom = max(bottom, top+b.h)
			h := &l.t.Hosts[i]
			for k, a := range h.Attach {
				on[a.Net] = true
				b.drops = append(b.drops, math.Round(b.x+l.boxW*float64(k+1)/float64(len(h.Attach)+1)))
			}
			y := b.y + headH
			for _, row := range b.rows {
				if row.kind == rowContainer {
					l.chipY[row.container] = y + lineH/2
					l.chipBox[row.container] = i
				}
				y += lineH
			}
		}
		var nets []int
		ys := map[int]float64{}
		for n := range l.t.Networks {
			if on[n] {
				ys[n] = bottom + 26 + float64(len(nets))*busGap
				nets = append(nets, n)
			}
		}
		l.rowNets = append(l.rowNets, nets)
		l.busY = append(l.busY, ys)
		last := bottom + 26 + float64(max(len(nets)-1, 0))*busGap
		l.corridor = append(l.corridor, last+rowGap/2)
		top = last + rowGap
	}
	l.gridBot = top - rowGap + 10
	if len(l.boxes) == 0 {
		l.gridBot = top
	}
	l.width = max(l.width, textW(l.t.title())*1.25+2*margin)
}

func (l *layout) drawTitle(c *canvas) {
	c.printf(`<text x="%d" y="%d" font-family="%s" font-size="17" font-weight="bold" fill="#222222">%s</text>`+"\n", margin, margin+10, sansFont, esc(l.t.title()))
	sub, color := "the network as the inventory describes it (mvorch graph --verify adds verify's result)", "#555555"
	if ch := l.t.Check; ch != nil {
		sub, color = ch.summary(), colorOK
		if ch.Bad() > 0 {
			sub += ": drawn in red (FAIL) and orange (LEAK)"
			color = colorFail
		}
	}
	c.printf(`<text x="%d" y="%d" font-family="%s" font-size="13" fill="%s">%s</text>`+"\n", margin, margin+32, sansFont, color, esc(sub))
}

// drawBuses draws, under each row, each network as a line with its name,
// and each host's drop to it.
func (l *layout) drawBuses(c *canvas) {
	x0 := margin + l.labelW
	for r, nets := range l.rowNets {
		for _, n := range nets {
			net := &l.t.Networks[n]
			y := l.busY[r][n]
			right := x0
			for i := r * l.cols; i < min(len(l.boxes), (r+1)*l.cols); i++ {
				for k, a := range l.t.Hosts[i].Attach {
					if a.Net == n {
						right = max(right, l.boxes[i].drops[k])
					}
				}
			}
			c.printf(`<text x="%g" y="%g" text-anchor="end" fill="%s"><tspan font-weight="bold">%s</tspan> %s</text>`+"\n", x0-14, y+4, net.Color, esc(net.Name), net.Subnet)
			c.printf(`<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="4" stroke-linecap="round"/>`+"\n", x0-8, y, right+12, y, net.Color)
		}
		for i := r * l.cols; i < min(len(l.boxes), (r+1)*l.cols); i++ {
			b := &l.boxes[i]
			for k, a := range l.t.Hosts[i].Attach {
				color := l.t.Networks[a.Net].Color
				x, y := b.drops[k], l.busY[r][a.Net]
				c.printf(`<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="2.5"/>`+"\n", x, b.y+b.h, x, y, color)
				c.printf(`<circle cx="%g" cy="%g" r="4.5" fill="%s" stroke="#ffffff" stroke-width="1.5"/>`+"\n", x, y, color)
			}
		}
	}
}

// drawHost draws one host's box and its lines.
func (l *layout) drawHost(c *canvas, i int) {
	b := &l.boxes[i]
	h := &l.t.Hosts[i]
	c.printf(`<g><title>%s</title>`+"\n", esc("host "+h.Name+" ("+h.Address+")"))
	c.printf(`<rect x="%g" y="%g" width="%g" height="%g" rx="6" fill="#fafafa" stroke="#555555" stroke-width="1.5"/>`+"\n", b.x, b.y, l.boxW, b.h)
	// The header band: rounded at the top like the box, square below.
	c.printf(`<rect x="%g" y="%g" width="%g" height="%d" rx="5.5" fill="#e4e4e4"/>`+"\n", b.x+0.75, b.y+0.75, l.boxW-1.5, headH-1)
	c.printf(`<rect x="%g" y="%g" width="%g" height="6" fill="#e4e4e4"/>`+"\n", b.x+0.75, b.y+headH-6, l.boxW-1.5)
	c.printf(`<text x="%g" y="%g" font-weight="bold" font-size="13" fill="#111111">%s</text>`+"\n", b.x+pad, b.y+17, esc(h.Name))
	c.printf(`<text x="%g" y="%g" text-anchor="end" fill="#444444">%s</text>`+"\n", b.x+l.boxW-pad, b.y+17, esc(h.Address))
	y := b.y + headH
	for _, r := range b.rows {
		l.drawRow(c, b, r, y)
		y += lineH
	}
	c.printf("</g>\n")
}

func (l *layout) drawRow(c *canvas, b *hostBox, r boxRow, y float64) {
	base := y + 12.5
	left, right := b.x+pad, b.x+l.boxW-pad
	text := func(x float64, anchor, attrs, s string) {
		c.printf(`<text x="%g" y="%g"%s%s>%s</text>`+"\n", x, base, map[bool]string{true: ` text-anchor="end"`, false: ""}[anchor == "end"], attrs, esc(s))
	}
	switch r.kind {
	case rowNIC:
		text(left, "", ` fill="#333333"`, r.text)
	case rowRegistry:
		c.printf(`<rect x="%g" y="%g" width="%g" height="%d" rx="3" fill="#fff3c4" stroke="#8a6d00" stroke-width="0.8"/>`+"\n", left-4, y+1, l.boxW-2*pad+8, lineH-2)
		text(left, "", ` fill="#6b5400" font-weight="bold"`, r.text)
	case rowTrust:
		text(left, "", ` fill="#8a6d00"`, r.text)
	case rowNet:
		n := &l.t.Networks[r.net]
		c.printf(`<rect x="%g" y="%g" width="%g" height="%d" fill="%s"/>`+"\n", b.x+1, y+1, l.boxW-2, lineH-1, tint(n.Color))
		c.printf(`<rect x="%g" y="%g" width="5" height="%d" fill="%s"/>`+"\n", b.x+1, y+1, lineH-1, n.Color)
		text(left+2, "", fmt.Sprintf(` font-weight="bold" fill="%s"`, n.Color), r.text)
		text(right, "end", fmt.Sprintf(` fill="%s"`, n.Color), r.right)
	case rowVia:
		c.printf(`<rect x="%g" y="%g" width="5" height="%d" fill="%s"/>`+"\n", b.x+1, y, lineH, l.t.Networks[r.net].Color)
		text(left+12, "", ` fill="#555555"`, r.text)
	case rowContainer:
		n := &l.t.Networks[r.net]
		c.printf(`<rect x="%g" y="%g" width="5" height="%d" fill="%s"/>`+"\n", b.x+1, y, lineH, n.Color)
		c.printf(`<circle cx="%g" cy="%g" r="4" fill="%s"/>`+"\n", left+16, y+lineH/2, n.Color)
		ipRight := right
		if s, ok := l.status[r.container]; ok {
			c.printf(`<rect x="%g" y="%g" width="%g" height="%d" rx="3" fill="none" stroke="%s" stroke-width="2"/>`+"\n", left+6, y+0.5, l.boxW-2*pad-4, lineH-1, s.color())
			c.printf(`<text x="%g" y="%g" text-anchor="end" font-weight="bold" fill="%s">%s</text>`+"\n", right-2, base, s.color(), s.Cell())
		}
		if l.t.Check != nil {
			ipRight = right - 5*charW
		}
		c.printf(`<g><title>%s</title>`, esc("container "+l.t.Containers[r.container].Name+" on "+b.hostName(l)+": "+l.t.Containers[r.container].Image))
		text(left+26, "", ` fill="#111111"`, r.text)
		c.printf("</g>")
		text(ipRight, "end", ` fill="#111111"`, strings.TrimSpace(r.right))
	case rowVLAN:
		text(left, "", ` fill="#555555"`, r.text)
		text(right, "end", ` fill="#555555"`, r.right)
	}
}

func (b *hostBox) hostName(l *layout) string {
	return l.t.Hosts[b.row*l.cols+b.col].Name
}

// drawLinks draws the pairs that differ from what is expected, from
// container to container. Between neighbours in a row a curve crosses the
// gap between them; any other line keeps off the boxes: out into the gap
// beside its box, along the free lane under a row's networks, and in
// through the gap beside the other box. Lines that share a gap or a lane
// are set a few pixels apart.
func (l *layout) drawLinks(c *canvas) {
	if l.t.Check == nil {
		return
	}
	for i, k := range l.t.Check.links(true) {
		a, b := &l.boxes[l.chipBox[k.A]], &l.boxes[l.chipBox[k.B]]
		ay, by := l.chipY[k.A], l.chipY[k.B]
		var d string
		var mx, my float64
		switch {
		case a.row == b.row && (b.col-a.col == 1 || a.col-b.col == 1):
			ax, bx := a.x+l.boxW, b.x
			if b.col < a.col {
				ax, bx = a.x, b.x+l.boxW
			}
			c1, c2 := (ax+bx)/2, (ax+bx)/2
			d = fmt.Sprintf("M%g %g C%g %g %g %g %g %g", ax, ay, c1, ay, c2, by, bx, by)
			mx, my = (ax+bx)/2, (ay+by)/2
		case a == b:
			x := a.x + l.boxW
			d = fmt.Sprintf("M%g %g C%g %g %g %g %g %g", x, ay, x+60, ay, x+60, by, x, by)
			mx, my = x+45, (ay+by)/2
		default:
			off := float64(i%6) * 7
			// Out of A on the side towards B (right when in one column),
			// into B on the side towards A.
			ax, gxA := a.x+l.boxW, a.x+l.boxW+22+off
			if b.col < a.col {
				ax, gxA = a.x, a.x-22-off
			}
			bx, gxB := b.x+l.boxW, b.x+l.boxW+22+off
			if a.col < b.col {
				bx, gxB = b.x, b.x-22-off
			}
			cy := l.corridor[min(a.row, b.row)] + float64(i%4)*4 - 6
			d = fmt.Sprintf("M%g %g H%g V%g H%g V%g H%g", ax, ay, gxA, cy, gxB, by, bx)
			// Labels of lines that share the lane are set apart along it.
			mx, my = gxA+(gxB-gxA)*(0.25+0.12*float64(i%5)), cy
			if gxA == gxB {
				mx, my = gxA, (cy+by)/2
			}
		}
		l.drawLink(c, k, d, mx, my)
	}
}

// drawLink draws one FAIL or LEAK line along the path d, labelled at (mx, my).
func (l *layout) drawLink(c *canvas, k Link, d string, mx, my float64) {
	color := k.Status.color()
	dash := ""
	if k.Status == StatusFail {
		dash = ` stroke-dasharray="8 5"`
	}
	name := strings.ToLower(k.Status.Cell())
	start := ""
	if k.Both {
		start = ` marker-start="url(#` + name + `-start)"`
	}
	c.printf(`<path d="%s" fill="none" stroke="%s" stroke-width="3" stroke-linejoin="round"%s%s marker-end="url(#%s-end)"/>`+"\n", d, color, dash, start, name)
	w := textW(k.Status.Cell()) + 8
	c.printf(`<rect x="%g" y="%g" width="%g" height="16" rx="3" fill="#ffffff" stroke="%s"/>`+"\n", mx-w/2, my-8, w, color)
	c.printf(`<text x="%g" y="%g" text-anchor="middle" font-weight="bold" fill="%s">%s</text>`+"\n", mx, my+4, color, k.Status.Cell())
}

// matrix draws verify's matrix: rows ping, columns answer.
func (l *layout) matrix(c *canvas, y float64) float64 {
	t := l.t
	cell := map[[2]int]Status{}
	for _, p := range t.Check.Pairs {
		cell[[2]int{p.From, p.To}] = p.Status()
	}
	labW := 0.0
	colW := textW("LEAK") + 14
	for _, ct := range t.Containers {
		labW = max(labW, textW(ct.Label))
		colW = max(colW, textW(ct.Label)+14)
	}
	labW += 16
	x0 := float64(margin)
	c.printf(`<text x="%g" y="%g" font-family="%s" font-size="14" font-weight="bold" fill="#222222">%s</text>`+"\n", x0, y+14, sansFont, "verify: ping from each container (rows) to each other container (columns)")
	y += 26
	for j, ct := range t.Containers {
		c.printf(`<text x="%g" y="%g" text-anchor="middle" font-weight="bold" fill="%s">%s</text>`+"\n", x0+labW+float64(j)*colW+colW/2, y+12, t.Networks[ct.Net].Color, esc(ct.Label))
	}
	y += lineH + 2
	for i, from := range t.Containers {
		c.printf(`<text x="%g" y="%g" font-weight="bold" fill="%s">%s</text>`+"\n", x0, y+14, t.Networks[from.Net].Color, esc(from.Label))
		for j := range t.Containers {
			x := x0 + labW + float64(j)*colW
			s, ok := cell[[2]int{i, j}]
			fill, ink, txt := "#ffffff", "#bbbbbb", "."
			if ok {
				txt = s.Cell()
				switch s {
				case StatusOK:
					fill, ink = "#dff0d8", "#1e6b1e"
				case StatusQuiet:
					fill, ink = "#f0f0f0", "#777777"
				case StatusFail:
					fill, ink = colorFail, "#ffffff"
				case StatusLeak:
					fill, ink = colorLeak, "#ffffff"
				}
			}
			c.printf(`<rect x="%g" y="%g" width="%g" height="20" fill="%s" stroke="#ffffff" stroke-width="2"/>`+"\n", x, y, colW, fill)
			weight := ""
			if ok && s.Bad() {
				weight = ` font-weight="bold"`
			}
			c.printf(`<text x="%g" y="%g" text-anchor="middle" fill="%s"%s>%s</text>`+"\n", x+colW/2, y+14, ink, weight, txt)
		}
		y += 20
	}
	l.width = max(l.width, x0+labW+float64(len(t.Containers))*colW+margin)
	return l.problems(c, y+8)
}

// badList lists the pairs that differ, for checks too big for a matrix.
func (l *layout) badList(c *canvas, y float64) float64 {
	t := l.t
	x0 := float64(margin)
	c.printf(`<text x="%g" y="%g" font-family="%s" font-size="14" font-weight="bold" fill="#222222">%s</text>`+"\n", x0, y+14, sansFont,
		esc(fmt.Sprintf("verify: %d pings, %s; the pairs that differ:", len(t.Check.Pairs), map[bool]string{true: "each container to the next of its network and to one of each other network", false: "every pair"}[t.Check.Mode == "sampled"])))
	y += 24
	n := 0
	for _, p := range t.Check.Pairs {
		s := p.Status()
		if !s.Bad() {
			continue
		}
		n++
		if n > listMax {
			continue
		}
		from, to := &t.Containers[p.From], &t.Containers[p.To]
		why := "no answer, but they share " + t.Networks[from.Net].Name
		if s == StatusLeak {
			why = "answered, but they are on different networks"
		}
		line := fmt.Sprintf("%s -> %s (%s -> %s): %s", from.Label, to.Label, from.Host, to.Host, why)
		c.printf(`<text x="%g" y="%g" font-weight="bold" fill="%s">%s</text><text x="%g" y="%g" fill="#222222">%s</text>`+"\n", x0, y+12, s.color(), s.Cell(), x0+6*charW, y+12, esc(line))
		l.width = max(l.width, x0+textW(line)+7*charW+margin)
		y += lineH
	}
	if n > listMax {
		c.printf(`<text x="%g" y="%g" fill="#555555">%s</text>`+"\n", x0, y+12, esc(fmt.Sprintf("... and %d more (mvorch verify lists them all)", n-listMax)))
		y += lineH
	}
	if n == 0 {
		c.printf(`<text x="%g" y="%g" fill="%s">none: every pair as expected</text>`+"\n", x0, y+12, colorOK)
		y += lineH
	}
	return l.problems(c, y+4)
}

// problems lists why containers could not ping at all.
func (l *layout) problems(c *canvas, y float64) float64 {
	for _, p := range l.t.Check.Problems {
		s := "could not ping from " + p
		c.printf(`<text x="%d" y="%g" fill="%s">%s</text>`+"\n", margin, y+12, colorFail, esc(s))
		l.width = max(l.width, margin*2+textW(s))
		y += lineH
	}
	return y
}

// legend says what every colour and line means.
func (l *layout) legend(c *canvas, y float64) float64 {
	t := l.t
	x0 := float64(margin)
	type item struct {
		draw func(x, y float64)
		text string
	}
	var items []item
	for i := range t.Networks {
		n := &t.Networks[i]
		text := fmt.Sprintf("%s · %s · gateway %s · ", n.Name, n.Subnet, n.Gateway)
		if n.VLAN != 0 {
			text += fmt.Sprintf("VLAN %d: on each host's <NIC>.%d", n.VLAN, n.VLAN)
		} else {
			text += "no VLAN: on each host's NIC itself"
		}
		items = append(items, item{func(x, y float64) {
			c.printf(`<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="4" stroke-linecap="round"/><circle cx="%g" cy="%g" r="4.5" fill="%s"/>`+"\n", x, y, x+36, y, n.Color, x+18, y, n.Color)
		}, text})
	}
	items = append(items,
		item{func(x, y float64) {
			c.printf(`<circle cx="%g" cy="%g" r="4" fill="#555555"/>`+"\n", x+18, y)
		}, "container: name and address, in its network's colour (a macvlan network is one layer-2 segment across its hosts)"})
	if t.Registry != nil {
		items = append(items, item{func(x, y float64) {
			c.printf(`<rect x="%g" y="%g" width="36" height="12" rx="3" fill="#fff3c4" stroke="#8a6d00" stroke-width="0.8"/>`+"\n", x, y-6)
		}, fmt.Sprintf("registry on %s; \"trusts\": that host's docker trusts it over HTTP (%s)", t.Registry.Host, t.Registry.Trust)})
	}
	if t.Check != nil {
		items = append(items,
			item{func(x, y float64) {
				c.printf(`<path d="M%g %gH%g" stroke="%s" stroke-width="3" stroke-dasharray="8 5" marker-end="url(#fail-end)"/>`+"\n", x, y, x+32, colorFail)
			}, "FAIL: expected to answer (same network), got no answer"},
			item{func(x, y float64) {
				c.printf(`<path d="M%g %gH%g" stroke="%s" stroke-width="3" marker-end="url(#leak-end)"/>`+"\n", x, y, x+32, colorLeak)
			}, "LEAK: expected no answer (different networks), answered: something routes between them"},
			item{func(x, y float64) {
				c.printf(`<rect x="%g" y="%g" width="17" height="14" fill="#dff0d8"/><rect x="%g" y="%g" width="17" height="14" fill="#f0f0f0"/>`+"\n", x, y-7, x+19, y-7)
			}, "matrix: ok answered as expected, -- no answer as expected, . not checked"})
	}
	c.printf(`<text x="%g" y="%g" font-family="%s" font-size="14" font-weight="bold" fill="#222222">legend</text>`+"\n", x0, y+14, sansFont)
	y += 24
	for _, it := range items {
		it.draw(x0, y+8)
		c.printf(`<text x="%g" y="%g" fill="#222222">%s</text>`+"\n", x0+48, y+12, esc(it.text))
		l.width = max(l.width, x0+48+textW(it.text)+margin)
		y += lineH + 3
	}
	return y
}

// canvas collects SVG elements.
type canvas struct{ b strings.Builder }

func (c *canvas) printf(format string, a ...any) { fmt.Fprintf(&c.b, format, a...) }

// defs are the arrow heads of FAIL and LEAK lines.
func (c *canvas) defs() {
	c.printf("<defs>\n")
	for _, m := range []struct{ name, color string }{{"fail", colorFail}, {"leak", colorLeak}} {
		c.printf(`<marker id="%s-end" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" orient="auto"><path d="M0 0L10 5L0 10z" fill="%s"/></marker>`+"\n", m.name, m.color)
		c.printf(`<marker id="%s-start" viewBox="0 0 10 10" refX="1" refY="5" markerWidth="5" markerHeight="5" orient="auto"><path d="M10 0L0 5L10 10z" fill="%s"/></marker>`+"\n", m.name, m.color)
	}
	c.printf("</defs>\n")
}

// busLabel is what stands left of a network's line: its name and subnet.
func busLabel(n *Network) string { return n.Name + " " + n.Subnet.String() }

func textW(s string) float64 { return float64(len([]rune(s))) * charW }

func esc(s string) string { return html.EscapeString(s) }
