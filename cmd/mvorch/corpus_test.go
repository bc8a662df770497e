package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every invalid inventory of the corpus makes run (and plan) exit 1 with
// the corpus's expected problems, before any host is contacted: loading
// fails first, so nothing is dialled.
func TestInvalidCorpusStopsBeforeAnyHost(t *testing.T) {
	paths, _ := filepath.Glob("../../inventory/testdata/invalid/*.toml")
	if len(paths) < 40 {
		t.Fatalf("corpus has %d inventories, want at least 40", len(paths))
	}
	for _, p := range paths {
		want, err := os.ReadFile(strings.TrimSuffix(p, ".toml") + ".want")
		if err != nil {
			t.Fatal(err)
		}
		// The .want files name the file as the inventory package's tests see it.
		expected := strings.ReplaceAll(strings.TrimSpace(string(want)), "testdata/invalid/", "../../inventory/testdata/invalid/")
		for _, cmd := range []string{"run", "plan"} {
			code, stdout, stderr := runCLI(cmd, "--connect-timeout", "1ms", p)
			if code != 1 || !strings.Contains(stderr, expected) {
				t.Errorf("mvorch %s %s: exit %d\nstderr:\n%s\nwant:\n%s", cmd, filepath.Base(p), code, stderr, expected)
			}
			if stdout != "" || strings.Contains(stderr, "dialing") {
				t.Errorf("mvorch %s %s went past loading: %q %q", cmd, filepath.Base(p), stdout, stderr)
			}
		}
	}
}
