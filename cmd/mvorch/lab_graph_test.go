package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// dotLinks are the verify lines of a DOT graph: "A -> B STATUS dir".
func dotLinks(dot string) []string {
	re := regexp.MustCompile(`(?m)^  "([^"]+)" -> "([^"]+)" \[dir=(\w+), .*label="(ok|FAIL|LEAK)"`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(dot, -1) {
		out = append(out, m[1]+" -> "+m[2]+" "+m[4]+" "+m[3])
	}
	sort.Strings(out)
	return out
}

// After a run of the article's 4.2, one container stopped on purpose:
// graph --verify pings for real and marks exactly that container's pairs
// (bbox10 and bbox11, both ways) as FAIL, exits 1 as verify does, and a
// result saved by verify --output json draws the same.
func TestLabGraphVerifyMarksStoppedContainer(t *testing.T) {
	lab, inv := builtArticle42(t)
	r := mustMvorch(t, lab, "graph", "--verify", "--format", "dot", inv)
	healthy := []string{"docker01/container/bbox10 -> docker02/container/bbox11 ok both", "docker01/container/bbox20 -> docker02/container/bbox21 ok both"}
	if got := dotLinks(r.Stdout); strings.Join(got, "\n") != strings.Join(healthy, "\n") {
		t.Errorf("graph --verify on a healthy lab draws\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(healthy, "\n"))
	}

	lab.MustExec(t, "docker02", "docker stop -t 1 bbox11")
	t.Cleanup(func() { lab.Exec(t, "docker02", "docker start bbox11") })
	want := []string{
		"docker01/container/bbox10 -> docker02/container/bbox11 FAIL both",
		"docker01/container/bbox20 -> docker02/container/bbox21 ok both",
	}
	live := mvorch(t, lab, "graph", "--verify", "--format", "dot", inv)
	if live.Code != 1 || !strings.Contains(live.Stderr, "verify: 2 of 12 pairs differ from what is expected (drawn in the graph)") {
		t.Errorf("graph --verify with bbox11 stopped: exit %d, stderr %q; want 1 and the count", live.Code, live.Stderr)
	}
	if got := dotLinks(live.Stdout); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("graph --verify with bbox11 stopped draws\n%s\nwant\n%s\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), live.Stdout)
	}

	saved := mvorch(t, lab, "verify", "--output", "json", inv)
	path := filepath.Join(t.TempDir(), "verify.json")
	if err := os.WriteFile(path, []byte(saved.Stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	fromFile := mustMvorch(t, lab, "graph", "--from-verify", path, "--format", "dot", inv)
	if got := dotLinks(fromFile.Stdout); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("graph --from-verify draws\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	svg := filepath.Join(t.TempDir(), "lab.svg")
	mvorch(t, lab, "graph", "--verify", "-o", svg, inv)
	data, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"verify: 2 of 12 pairs differ from what is expected", "could not ping from bbox11 on docker02: container is not running", `marker-start="url(#fail-start)"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("graph --verify -o %s lacks %q", svg, want)
		}
	}
	if n := strings.Count(string(data), `marker-end="url(#leak-end)"`); n != 1 {
		t.Errorf("the SVG has %d LEAK arrows, want only the legend's: nothing leaks", n)
	}
}
