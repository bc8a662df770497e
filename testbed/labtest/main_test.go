package labtest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// runSelf runs this package's test binary on its own, outside any lab,
// with env added, and returns its output and exit code.
func runSelf(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MVLAB_") && !strings.HasPrefix(kv, "CI=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	return labtest.CombinedOutput(t, cmd)
}

// TestPlainNeedsNoLab is a test of this package that is not a lab test.
func TestPlainNeedsNoLab(t *testing.T) {}

// A run that selects no lab test brings no lab up: a package's plain tests
// (cmd/mvorch's CLI tests) run in a second, not after a lab.
func TestNoLabForPlainTests(t *testing.T) {
	start := time.Now()
	for _, args := range [][]string{{"-test.run=^TestPlainNeedsNoLab$"}, {"-test.run=^TestPlainNeedsNoLab$|^TestLab", "-test.skip=^TestLab"}} {
		out, code := runSelf(t, nil, append(args, "-test.v")...)
		if code != 0 || strings.Contains(out, "labtest:") || strings.Contains(out, "lab:") || !strings.Contains(out, "--- PASS: TestPlainNeedsNoLab") {
			t.Errorf("%v: exit %d after %s; want 0, the test passed and no lab brought up:\n%s", args, code, time.Since(start), out)
		}
	}
}

// Where the lab cannot run, each lab test is skipped with the reason (go
// test -v shows it as SKIP) and a summary line goes to stdout; under CI=true
// the package fails instead: the lab tests must run there.
func TestSkipOfLabTestsIsVisibleAndNeverUnderCI(t *testing.T) {
	env := []string{"MVLAB_UNAVAILABLE=no lab here (test)"}
	out, code := runSelf(t, env, "-test.run=^TestLabSSHStrictHostKeys$", "-test.v")
	for _, want := range []string{"*** LAB TESTS SKIPPED: no lab here (test) ***", "--- SKIP: TestLabSSHStrictHostKeys", "lab unavailable: no lab here (test)"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	out, code = runSelf(t, append(env, "CI=true"), "-test.run=^TestLabSSHStrictHostKeys$")
	if code == 0 || !strings.Contains(out, "CI=true and the lab cannot run here: no lab here (test)") {
		t.Errorf("under CI=true: exit %d\n%s", code, out)
	}
}
