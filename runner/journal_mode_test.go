package runner

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/steps"
)

// The journal's directory is 0700 and its file 0600, also when they existed
// before with the default umask's 0755 and 0644 (the journal keeps copies of
// the files mvorch replaced). The command is run by a real sh, with the
// journal's paths moved into a temporary directory.
func TestJournalIsRootOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mvorch")
	file := filepath.Join(dir, "journal.jsonl")
	script := strings.ReplaceAll(appendCmd([]string{`{"type":"begin"}`}).String(), steps.JournalDir, dir)
	if strings.Contains(script, steps.JournalDir) {
		t.Fatalf("the command still names %s: %s", steps.JournalDir, script)
	}
	for _, existing := range []bool{false, true} {
		if existing {
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(file, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if out, err := exec.Command("sh", "-c", "umask 022; "+script).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		for path, want := range map[string]os.FileMode{dir: 0o700, file: 0o600} {
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Mode().Perm(); got != want {
				t.Errorf("existing=%v: %s has mode %o, want %o", existing, path, got, want)
			}
		}
	}
	if b, _ := os.ReadFile(file); strings.Count(string(b), "begin") != 2 {
		t.Errorf("journal after two appends: %q", b)
	}
}
