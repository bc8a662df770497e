package inventory

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/invalid/*.want from what Load reports (review every change by hand)")

// TestInvalidCorpus loads every testdata/invalid/NAME.toml, each an inventory
// that must be refused, and compares the full text of the Problems with
// NAME.want. The path in the messages is the one given to Load, relative to
// this package: testdata/invalid/NAME.toml.
//
// Besides the exact text, every case must hold to what a message owes the
// reader: the problems come back as Problems (never a panic, never an
// inventory), and each names its line unless it has no single place.
func TestInvalidCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Errorf("only %d cases in testdata/invalid; the corpus should keep at least 40", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".toml")
		t.Run(name, func(t *testing.T) {
			inv, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%s) accepted an invalid inventory", path)
			}
			if inv != nil {
				t.Error("Load returned an inventory along with its problems")
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load(%s) = %T %v, want Problems", path, err, err)
			}
			for _, p := range ps {
				if p.File != path || p.Msg == "" {
					t.Errorf("problem without file or message: %#v", p)
				}
				if p.Line == 0 && !strings.HasPrefix(p.Msg, "no [[host]]") {
					t.Errorf("problem without a line: %s", p)
				}
			}
			got := ps.Error() + "\n"
			wantFile := strings.TrimSuffix(path, ".toml") + ".want"
			if *update {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (run go test ./inventory/ -run TestInvalidCorpus -update, then review the .want)", err)
			}
			if got != string(want) {
				t.Errorf("Load(%s):\n%s\nwant (%s):\n%s", path, got, wantFile, want)
			}
		})
	}
}
