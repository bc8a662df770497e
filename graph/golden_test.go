package graph

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/inventory"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The article's inventories, as the project ships them.
const (
	article42 = "../inventory.toml.example"
	article41 = "../examples/section-4.1.toml"
	// verify-4.2-fail-leak.json: verify's JSON for article42 with bbox11
	// stopped (bbox10 <-> bbox11 FAIL) and, as if something routed,
	// bbox21 -> bbox10 answered (LEAK).
	failLeak42 = "testdata/verify-4.2-fail-leak.json"
)

func load(t *testing.T, path, verifyJSON string) *Topology {
	t.Helper()
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var res *Result
	if verifyJSON != "" {
		f, err := os.Open(verifyJSON)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if res, err = ReadResult(f); err != nil {
			t.Fatal(err)
		}
	}
	top, err := Build(inv, res)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// DOT and Mermaid of the article's 4.2 and 4.1, and of 4.2 with a verify
// result, are pinned byte for byte (go test ./graph -update rewrites them).
func TestGolden(t *testing.T) {
	cases := []struct{ name, inv, verify string }{
		{"article-4.2", article42, ""},
		{"article-4.1", article41, ""},
		{"article-4.2-verify", article42, failLeak42},
	}
	for _, c := range cases {
		for _, format := range []string{"dot", "mermaid"} {
			t.Run(c.name+"."+format, func(t *testing.T) {
				var got bytes.Buffer
				if err := Write(&got, load(t, c.inv, c.verify), format); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", c.name+"."+map[string]string{"dot": "dot", "mermaid": "mmd"}[format])
				if *update {
					if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (go test ./graph -update writes it)", err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("%s differs from %s (go test ./graph -update rewrites it):\n%s", format, golden, lineDiff(string(want), got.String()))
				}
			})
		}
	}
}

// lineDiff shows the first lines that differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

// Every renderer gives the same bytes for the same input.
func TestDeterministic(t *testing.T) {
	for _, format := range Formats {
		var a, b bytes.Buffer
		if err := Write(&a, load(t, article42, failLeak42), format); err != nil {
			t.Fatal(err)
		}
		if err := Write(&b, load(t, article42, failLeak42), format); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: two renderings differ", format)
		}
	}
	if err := Write(&bytes.Buffer{}, load(t, article42, ""), "png"); err == nil || !strings.Contains(err.Error(), "use svg, dot or mermaid") {
		t.Errorf("format png: %v", err)
	}
}

// Graphviz reads the DOT (where it is installed: it is not needed for
// anything else, so its absence only skips this).
func TestDOTParsesWithGraphviz(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("graphviz's dot is not installed (apt-get install graphviz)")
	}
	for _, c := range [][2]string{{article42, ""}, {article41, ""}, {article42, failLeak42}} {
		var src bytes.Buffer
		if err := WriteDOT(&src, load(t, c[0], c[1])); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(dot, "-Tsvg")
		cmd.Stdin = &src
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 || !bytes.Contains(out, []byte("<svg")) {
			t.Errorf("dot -Tsvg of %s %s: %v\n%s", c[0], c[1], err, stderr.String())
		}
	}
}

// The pictures the README shows are this code's SVG of the article's 4.2
// (docs/graph-4.2.svg, and with a verify result docs/graph-4.2-verify.svg);
// make graph-pictures renders them to the PNGs next to them.
func TestREADMEPictures(t *testing.T) {
	for name, verify := range map[string]string{"graph-4.2": "", "graph-4.2-verify": failLeak42} {
		var got bytes.Buffer
		if err := WriteSVG(&got, load(t, article42, verify)); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("..", "docs", name+".svg")
		if *update {
			if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s is not what graph draws now: go test ./graph -update && make graph-pictures\n%s", path, lineDiff(string(want), got.String()))
		}
	}
}
