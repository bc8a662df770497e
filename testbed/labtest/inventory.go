package labtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// VerifyUntilOK runs `mvorch verify --output json INVENTORY` until it exits
// 0 or within has passed, and returns its last result: after a reboot or a
// docker restart, containers and units come back a moment after docker is
// active. It fails the test when verify never passes, naming after.
func (l *Lab) VerifyUntilOK(t testing.TB, inv, after string, within time.Duration) Result {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := l.RunMvorch(t, "verify", "--output", "json", inv)
		if r.Code == 0 {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("verify after %s: exit %d\n%s\n%s\n%s", after, r.Code, r.Stdout, r.Stderr, l.RunMvorch(t, "verify", inv).Stdout)
		}
		time.Sleep(2 * time.Second)
	}
}
