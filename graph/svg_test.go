package graph

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner"
)

// manyHosts is an inventory of n hosts, each on VLANs 10 and 20 with one
// container on each of the two macvlan networks, plus a network on the NIC
// itself with a container on every third host.
func manyHosts(t *testing.T, n int) *inventory.Inventory {
	t.Helper()
	var b strings.Builder
	b.WriteString("[ssh]\nuser = \"root\"\n\n[defaults]\nparent = \"ens33\"\n\n[registry]\nhost = \"docker01\"\n\n[[image]]\nsource = \"busybox:latest\"\ntag = \"busybox:v1\"\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "\n[[host]]\nname = \"docker%02d\"\naddress = \"192.168.1.%d\"\n", i, 10+i)
	}
	for _, v := range []int{10, 20} {
		var hosts []string
		for i := 1; i <= n; i++ {
			hosts = append(hosts, fmt.Sprintf("docker%02d = \"192.168.%d.%d/24\"", i, v, 10+i))
		}
		fmt.Fprintf(&b, "\n[[vlan]]\nid = %d\ngateway = \"192.168.%d.2\"\nhosts = { %s }\n", v, v, strings.Join(hosts, ", "))
		fmt.Fprintf(&b, "\n[[network]]\nname = \"mac_net%d\"\nsubnet = \"172.16.%d.0/24\"\ngateway = \"172.16.%d.1\"\nvlan = %d\n", v, v, v, v)
	}
	b.WriteString("\n[[network]]\nname = \"flat\"\nsubnet = \"172.17.0.0/16\"\ngateway = \"172.17.0.1\"\n")
	for i := 1; i <= n; i++ {
		for _, v := range []int{10, 20} {
			fmt.Fprintf(&b, "\n[[container]]\nname = \"bbox%d-%02d\"\nhost = \"docker%02d\"\nnetwork = \"mac_net%d\"\nip = \"172.16.%d.%d\"\nimage = \"busybox:v1\"\n", v, i, i, v, v, 10+i)
		}
		if i%3 == 0 {
			fmt.Fprintf(&b, "\n[[container]]\nname = \"web%02d\"\nhost = \"docker%02d\"\nnetwork = \"flat\"\nip = \"172.17.1.%d\"\nimage = \"busybox\"\n", i, i, i)
		}
	}
	inv, err := inventory.Parse(fmt.Sprintf("hosts-%d.toml", n), []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// svgCases are the pictures the SVG tests draw: the article's 4.2 and 4.1,
// 4.2 with a verify result, and 2 and 50 generated hosts (the 50 with the
// containers of one host failing, as when it is down).
func svgCases(t *testing.T) map[string]*Topology {
	t.Helper()
	cases := map[string]*Topology{
		"article-4.2":               load(t, article42, ""),
		"article-4.1":               load(t, article41, ""),
		"article-4.2-verify":        load(t, article42, failLeak42),
		"article-4.2-access-router": article42AccessRouter(t),
	}
	for _, n := range []int{2, 50} {
		top, err := Build(manyHosts(t, n), nil)
		if err != nil {
			t.Fatal(err)
		}
		cases[fmt.Sprintf("hosts-%d", n)] = top
	}
	inv := manyHosts(t, 50)
	res := &Result{Mode: "sampled"}
	// As verify samples: each container pings the next of its network.
	byNet := map[string][]inventory.Container{}
	for _, c := range inv.Containers {
		byNet[c.Network] = append(byNet[c.Network], c)
	}
	for _, n := range inv.Networks {
		ring := byNet[n.Name]
		for i, c := range ring {
			next := ring[(i+1)%len(ring)]
			down := c.Host == "docker07" || next.Host == "docker07"
			res.Pairs = append(res.Pairs, runner.Pair{From: c.Name, FromHost: c.Host, To: next.Name, ToHost: next.Host, Expect: true, Got: !down})
		}
	}
	top, err := Build(inv, res)
	if err != nil {
		t.Fatal(err)
	}
	cases["hosts-50-verify"] = top
	return cases
}

// svgText is every text the SVG shows.
func svgText(t *testing.T, svg []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return b.String()
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
			b.WriteByte('\n')
		}
	}
}

// The SVG names every host, network and container, and needs nothing
// outside itself: no script, no link, no font or image to fetch.
func TestSVGNamesEverythingAndIsSelfContained(t *testing.T) {
	for name, top := range svgCases(t) {
		var svg bytes.Buffer
		if err := WriteSVG(&svg, top); err != nil {
			t.Fatal(err)
		}
		text := svgText(t, svg.Bytes())
		for _, h := range top.Hosts {
			if !strings.Contains(text, h.Name+"\n") {
				t.Errorf("%s: host %s is not in the SVG's text", name, h.Name)
			}
		}
		for _, n := range top.Networks {
			if !strings.Contains(text, n.Name+"\n") {
				t.Errorf("%s: network %s is not in the SVG's text", name, n.Name)
			}
		}
		for _, c := range top.Containers {
			if !strings.Contains(text, c.Name+"\n") || !strings.Contains(text, c.IP.String()+"\n") {
				t.Errorf("%s: container %s %s is not in the SVG's text", name, c.Name, c.IP)
			}
		}
		for _, bad := range []*regexp.Regexp{regexp.MustCompile(`(?i)<script|href=|@import|@font-face|<image|<foreignObject`), regexp.MustCompile(`url\([^#]`)} {
			if m := bad.Find(svg.Bytes()); m != nil {
				t.Errorf("%s: the SVG refers outside itself: %q", name, m)
			}
		}
	}
}

// Renders each SVG to PNG with a real renderer (librsvg's rsvg-convert)
// and checks that a picture came out: the size the SVG asks for, and far
// from blank. Under CI=true a missing renderer fails the test.
func TestSVGRendersWithRsvg(t *testing.T) {
	rsvg, err := exec.LookPath("rsvg-convert")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true and rsvg-convert is missing: testbed/install-deps installs librsvg2-bin")
		}
		t.Skip("rsvg-convert is missing (apt-get install librsvg2-bin, or make deps): the SVG is not rendered")
	}
	dir := t.TempDir()
	for name, top := range svgCases(t) {
		var svg bytes.Buffer
		if err := WriteSVG(&svg, top); err != nil {
			t.Fatal(err)
		}
		in, out := filepath.Join(dir, name+".svg"), filepath.Join(dir, name+".png")
		if err := os.WriteFile(in, svg.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if msg, err := exec.Command(rsvg, "-o", out, in).CombinedOutput(); err != nil || len(msg) > 0 {
			t.Fatalf("%s: rsvg-convert: %v\n%s", name, err, msg)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w, h := svgSize(t, svg.Bytes())
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h || w < 600 || h < 300 {
			t.Errorf("%s: PNG is %dx%d, SVG asks for %dx%d", name, b.Dx(), b.Dy(), w, h)
		}
		inked, colors := ink(img)
		if inked < 0.03 || colors < 8 {
			t.Errorf("%s: the PNG looks blank: %.1f%% of pixels not white, %d colours", name, 100*inked, colors)
		}
		t.Logf("%s: %dx%d, %.1f%% inked, %d colours", name, w, h, 100*inked, colors)
		if os.Getenv("GRAPH_KEEP_PNG") != "" {
			_ = os.WriteFile(filepath.Join(os.Getenv("GRAPH_KEEP_PNG"), name+".png"), mustRead(t, out), 0o644)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func svgSize(t *testing.T, svg []byte) (int, int) {
	t.Helper()
	var w, h int
	m := regexp.MustCompile(`<svg [^>]*width="(\d+)" height="(\d+)"`).FindSubmatch(svg)
	if m == nil {
		t.Fatal("the SVG has no width and height")
	}
	fmt.Sscan(string(m[1]), &w)
	fmt.Sscan(string(m[2]), &h)
	return w, h
}

// ink is the share of pixels that are not white and the number of
// distinct colours (to the nearest 16 levels per channel).
func ink(img image.Image) (float64, int) {
	b := img.Bounds()
	colors := map[[3]uint32]bool{}
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				n++
			}
			colors[[3]uint32{r >> 12, g >> 12, bl >> 12}] = true
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy()), len(colors)
}

// Nothing overlaps: host boxes are apart, every line of text fits its box,
// each row's network lines run between its boxes and the next row, and
// everything is inside the picture, at 2 hosts and at 50.
func TestSVGLayoutDoesNotOverlap(t *testing.T) {
	for name, top := range svgCases(t) {
		l := newLayout(top)
		for i, a := range l.boxes {
			if a.x < 0 || a.x+l.boxW > l.width {
				t.Errorf("%s: box %d is outside the picture (x %g..%g, width %g)", name, i, a.x, a.x+l.boxW, l.width)
			}
			for _, r := range a.rows {
				need := textW(r.text) + 2*pad
				if r.right != "" {
					need += textW(r.right) + charW
				}
				if need > l.boxW {
					t.Errorf("%s: %q %q does not fit a box %g wide", name, r.text, r.right, l.boxW)
				}
			}
			for j := i + 1; j < len(l.boxes); j++ {
				b := l.boxes[j]
				if a.x < b.x+l.boxW && b.x < a.x+l.boxW && a.y < b.y+b.h && b.y < a.y+a.h {
					t.Errorf("%s: boxes %d and %d overlap", name, i, j)
				}
			}
			for k, x := range a.drops {
				if x <= a.x || x >= a.x+l.boxW || (k > 0 && x <= a.drops[k-1]) {
					t.Errorf("%s: box %d's drops %v are not in order inside it", name, i, a.drops)
				}
			}
		}
		for r, ys := range l.busY {
			for i := r * l.cols; i < min(len(l.boxes), (r+1)*l.cols); i++ {
				for _, y := range ys {
					if b := l.boxes[i]; y <= b.y+b.h {
						t.Errorf("%s: a network line of row %d (y %g) runs through box %d", name, r, y, i)
					}
					if r+1 < len(l.rowTop) && y >= l.rowTop[r+1] {
						t.Errorf("%s: a network line of row %d (y %g) runs into row %d", name, r, y, r+1)
					}
				}
			}
		}
		if len(top.Hosts) == 50 && (l.cols != 6 || len(l.rowTop) != 9) {
			t.Errorf("%s: %d columns, %d rows; want 6 and 9", name, l.cols, len(l.rowTop))
		}
	}
}

// With a check, the containers of a pair that differs are marked, FAIL and
// LEAK lines are drawn between them, and the others are not marked.
func TestSVGMarksBadPairs(t *testing.T) {
	top := load(t, article42, failLeak42)
	var svg bytes.Buffer
	if err := WriteSVG(&svg, top); err != nil {
		t.Fatal(err)
	}
	l := newLayout(top)
	marked := map[string]string{}
	for ci, s := range l.status {
		marked[top.Containers[ci].Name] = s.Cell()
	}
	want := map[string]string{"bbox10": "FAIL", "bbox11": "FAIL", "bbox21": "LEAK"}
	if fmt.Sprint(marked) != fmt.Sprint(want) {
		t.Errorf("marked containers %v, want %v", marked, want)
	}
	s := svg.String()
	if n := strings.Count(s, `marker-end="url(#fail-end)"`); n != 2 { // the line and the legend
		t.Errorf("%d FAIL lines, want 1 (bbox10 <-> bbox11) and the legend's", n)
	}
	if !strings.Contains(s, `marker-start="url(#fail-start)"`) {
		t.Error("the FAIL line between bbox10 and bbox11 is not drawn both ways")
	}
	if n := strings.Count(s, `marker-end="url(#leak-end)"`); n != 2 {
		t.Errorf("%d LEAK lines, want 1 (bbox21 -> bbox10) and the legend's", n)
	}
	for _, want := range []string{"verify: 3 of 12 pairs differ from what is expected", "could not ping from bbox11 on docker02: container is not running"} {
		if !strings.Contains(svgText(t, svg.Bytes()), want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
}
