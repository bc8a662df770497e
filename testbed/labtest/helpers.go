package labtest

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Helpers the lab test packages share: putting the lab back, and reading
// mvorch's JSON.

// Reset undoes everything mvorch did (rollback --all), so that each test
// starts from the lab as it came up, and checks that the hosts are back as
// they were (before: Snapshots taken at the test's start). What a killed
// run can leave that rollback does not clean is reported as an error and
// cleaned, so that the tests after this one start clean.
func (l *Lab) Reset(t testing.TB, inv string, before map[string]string) {
	t.Helper()
	args := []string{"rollback", "--all", "--yes", inv}
	r := l.RunMvorch(t, args...)
	for i := 0; r.Code != 0 && i < 4; i++ {
		m := rmdirMissing.FindStringSubmatch(r.Stderr)
		if m == nil {
			break
		}
		// A change journalled twice (begun by a run that was cut off before
		// it wrote the file, then made by the next run) has the same undo
		// twice, and the second rmdir of the directory fails: rollback is
		// not safe to repeat. Reported; the directory is put back so that
		// the rollback can finish and the next tests start clean.
		t.Errorf("rollback --all failed on %s: undoing a file's creation twice fails on rmdir of the already removed %s (the undo is not safe to repeat)\nstderr:\n%s", m[1], m[2], r.Stderr)
		l.MustExec(t, m[1], "mkdir -p "+m[2])
		r = l.RunMvorch(t, args...)
	}
	if r.Code != 0 {
		t.Fatalf("mvorch %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	l.removeLeftovers(t, before)
	SameSnapshots(t, "after rollback --all", before, l.Snapshots(t))
}

var rmdirMissing = regexp.MustCompile(`mvorch: (\S+): rollback: .*"rmdir --ignore-fail-on-non-empty -- (/[^"\s]+)" exited 1: rmdir: failed to remove '[^']*': No such file or directory`)

// removeLeftovers fails the test for temporary files of mvorch's atomic
// writes left on a host after rollback --all (".NAME.mvorch-RANDOM": a write
// cut short by kill -9 between creating it and renaming it), which keep the
// directory they are in from being removed. They are reported, then removed
// with the directories the snapshot before did not have.
func (l *Lab) removeLeftovers(t testing.TB, before map[string]string) {
	t.Helper()
	const find = `find /etc /usr/lib/systemd/system -name '.*.mvorch-*' 2>/dev/null`
	for _, h := range l.Hosts {
		found := strings.TrimSpace(l.MustExec(t, h.Name, find+" || true"))
		if found == "" {
			continue
		}
		t.Errorf("%s: temporary files of interrupted writes are left after rollback --all (nothing removes them, and their directory stays):\n%s", h.Name, found)
		l.MustExec(t, h.Name, find+" -delete || true")
		was := snapshotDirs(before[h.Name])
		for d := range snapshotDirs(l.Snapshot(t, h.Name)) {
			if !was[d] {
				l.MustExec(t, h.Name, "rmdir --ignore-fail-on-non-empty -- "+d)
			}
		}
	}
}

// snapshotDirs are the directories a snapshot lists (its "## dirs").
func snapshotDirs(snap string) map[string]bool {
	dirs := map[string]bool{}
	in := false
	for _, l := range strings.Split(snap, "\n") {
		switch {
		case strings.HasPrefix(l, "## "):
			in = l == "## dirs"
		case in && l != "":
			dirs[l] = true
		}
	}
	return dirs
}

// RunOut is what `mvorch run --output json` prints, as tests read it.
type RunOut struct {
	Summary struct{ Added, Changed, Removed, Unchanged, Failed int }
	Changes []struct{ Step, Host, Action, Target, Detail string }
	// Verify is nil when the run made no check (it stopped, --no-verify).
	Verify *struct {
		OK    bool
		Pairs []struct {
			From, To    string
			Expect, Got bool
		}
	}
	Error string
}

// DockerdPID is systemd's word for dockerd's main process on host
// ("MainPID=1234"; "MainPID=0" when docker is not running): a restart
// changes it.
func (l *Lab) DockerdPID(t testing.TB, host string) string {
	t.Helper()
	return strings.TrimSpace(l.MustExec(t, host, "systemctl show -p MainPID docker"))
}

// PlanOut is what `mvorch plan --output json` prints, the parts tests read.
type PlanOut struct {
	Summary       struct{ Add, Change, Remove int }
	Changes       []struct{ Step, Host, Action, Target, Diff string }
	NetworkConfig []struct{ Host, Backend, Why string } `json:"network_config"`
}

// PlanJSON runs `mvorch plan --output json INV`; it fails the test unless
// mvorch exits 0 and prints JSON.
func (l *Lab) PlanJSON(t testing.TB, inv string) PlanOut {
	t.Helper()
	var p PlanOut
	r := l.MustMvorch(t, "plan", "--output", "json", inv)
	if err := json.Unmarshal([]byte(r.Stdout), &p); err != nil {
		t.Fatalf("plan: output is not JSON (%v)\n%s", err, r.Stdout)
	}
	return p
}

// RunJSON runs `mvorch run --output json ARGS` and returns what it printed
// with its result; it fails the test when the output is not JSON.
func (l *Lab) RunJSON(t testing.TB, args ...string) (RunOut, Result) {
	t.Helper()
	var out RunOut
	r := l.RunMvorch(t, append([]string{"run", "--output", "json"}, args...)...)
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("run: exit %d, output is not JSON (%v)\nstdout:\n%s\nstderr:\n%s", r.Code, err, r.Stdout, r.Stderr)
	}
	return out, r
}

// MustRunJSON is RunJSON that fails the test unless mvorch exits 0 and,
// without --no-verify, reports a verify.
func (l *Lab) MustRunJSON(t testing.TB, args ...string) RunOut {
	t.Helper()
	out, r := l.RunJSON(t, args...)
	if r.Code != 0 || out.Verify == nil && !slices.Contains(args, "--no-verify") {
		t.Fatalf("mvorch run %s: exit %d, verify %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, out.Verify != nil, r.Stdout, r.Stderr)
	}
	return out
}

// envUnavailable, set, is taken as the reason the lab cannot run here.
const envUnavailable = "MVLAB_UNAVAILABLE"

// envListing marks the test binary run by labWanted to list test names.
const envListing = "MVLAB_LISTING"

// labWanted tells whether the tests this run selects (-test.run, less
// -test.skip) include a lab test (TestLab*): a package's plain tests (its
// CLI, say) run without bringing a lab up. It asks the test binary itself for the selected names
// (-test.list); when it cannot tell, it says yes.
func labWanted() bool {
	flag.Parse()
	pattern := "."
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		pattern = f.Value.String()
	}
	// -test.list matches top-level names: drop subtest parts ("A/b|C").
	parts := strings.Split(pattern, "|")
	for i, p := range parts {
		parts[i], _, _ = strings.Cut(p, "/")
	}
	cmd := exec.Command(os.Args[0], "-test.list", strings.Join(parts, "|"))
	cmd.Env = append(os.Environ(), envListing+"=1")
	out, err := cmd.Output()
	if err != nil {
		return true
	}
	var skip *regexp.Regexp
	if f := flag.Lookup("test.skip"); f != nil && f.Value.String() != "" {
		if skip, err = regexp.Compile(f.Value.String()); err != nil {
			return true
		}
	}
	for _, name := range strings.Fields(string(out)) {
		if strings.HasPrefix(name, "TestLab") && (skip == nil || !skip.MatchString(name)) {
			return true
		}
	}
	return false
}

// CombinedOutput runs cmd and returns its output (stdout and stderr) and
// exit code; it fails the test only when cmd cannot run at all.
func CombinedOutput(t testing.TB, cmd *exec.Cmd) (string, int) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", cmd.Path, err)
	}
	return string(out), 0
}
