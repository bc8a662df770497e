package labtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Variant writes a copy of the inventory at path with each old string
// replaced (once) by its new one, and returns the copy's path. A missing
// old string fails the test: the variant would not be what the test means.
func Variant(t testing.TB, path string, oldNew ...string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i+1 < len(oldNew); i += 2 {
		if !strings.Contains(s, oldNew[i]) {
			t.Fatalf("variant: %q not in %s", oldNew[i], path)
		}
		s = strings.Replace(s, oldNew[i], oldNew[i+1], 1)
	}
	out := filepath.Join(t.TempDir(), "inventory.toml")
	if err := os.WriteFile(out, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// MustMvorch runs mvorch and fails the test unless it exits 0.
func (l *Lab) MustMvorch(t testing.TB, args ...string) Result {
	t.Helper()
	r := l.RunMvorch(t, args...)
	if r.Code != 0 {
		t.Fatalf("mvorch %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r
}
