package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// graph prints what the graph package renders, to stdout or -o FILE, with
// a saved verify result (verify's JSON or run's), and refuses what makes no
// sense before it reads anything.
func TestGraphCommand(t *testing.T) {
	const inv42, verify42 = "../../inventory.toml.example", "../../graph/testdata/verify-4.2-fail-leak.json"
	for _, c := range []struct {
		args   []string
		golden string
	}{
		{[]string{"graph", "--format", "dot", inv42}, "article-4.2.dot"},
		{[]string{"graph", "--format", "mermaid", "../../examples/section-4.1.toml"}, "article-4.1.mmd"},
		{[]string{"graph", "--format", "dot", "--from-verify", verify42, inv42}, "article-4.2-verify.dot"},
	} {
		code, out, stderr := runCLI(c.args...)
		want, err := os.ReadFile(filepath.Join("../../graph/testdata", c.golden))
		if err != nil {
			t.Fatal(err)
		}
		if code != 0 || out != string(want) {
			t.Errorf("mvorch %v: exit %d, output differs from %s\n%s%s", c.args, code, c.golden, out, stderr)
		}
	}

	// run --output json holds verify's result under "verify".
	data, err := os.ReadFile(verify42)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	runOut := filepath.Join(dir, "run.json")
	if err := os.WriteFile(runOut, []byte(`{"summary": {"added": 0}, "changes": [], "verify": `+string(data)+`}`), 0o644); err != nil {
		t.Fatal(err)
	}
	svg := filepath.Join(dir, "out.svg")
	if code, out, stderr := runCLI("graph", "--from-verify", runOut, "-o", svg, inv42); code != 0 || out != "" {
		t.Fatalf("graph -o: exit %d, stdout %q\n%s", code, out, stderr)
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.HasPrefix(string(b), "<svg ") || !strings.Contains(string(b), "3 of 12 pairs differ") {
		t.Errorf("graph -o %s: %v\n%.200s", svg, err, b)
	}

	other := filepath.Join(dir, "other.json")
	if err := os.WriteFile(other, []byte(`{"ok": true, "pairs": [{"from": "bbox1", "to": "bbox2", "expect": true, "got": true, "from_host": "docker01", "to_host": "docker02"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"graph", "--format", "png", inv42}, `--format "png": use svg, dot, mermaid`},
		{[]string{"graph", "--verify", "--from-verify", verify42, inv42}, "give one of them"},
		{[]string{"graph", "--full", inv42}, "--full goes with --verify"},
		{[]string{"graph"}, "graph needs exactly one argument"},
		{[]string{"graph", "--from-verify", other, inv42}, "names container bbox1 on docker01, which the inventory does not have"},
		{[]string{"graph", "--from-verify", inv42, inv42}, "--from-verify ../../inventory.toml.example: reading verify's JSON"},
		{[]string{"graph", "--from-verify", "/nonexistent.json", inv42}, "--from-verify: open /nonexistent.json"},
	} {
		if code, out, stderr := runCLI(c.args...); code != 1 || out != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("mvorch %v: exit %d, stdout %q, stderr %q; want exit 1 and %q", c.args, code, out, stderr, c.want)
		}
	}
}
