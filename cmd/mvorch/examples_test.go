package main

import (
	"path/filepath"
	"testing"
)

// Every shipped example inventory is valid.
func TestExamplesValidate(t *testing.T) {
	paths, _ := filepath.Glob("../../examples/*.toml")
	if len(paths) < 3 {
		t.Fatalf("examples: %v", paths)
	}
	for _, p := range paths {
		if code, _, stderr := runCLI("validate", p); code != 0 {
			t.Errorf("validate %s: exit %d\n%s", p, code, stderr)
		}
	}
}
