package crash_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// ipNetns runs ip -n NS ... from the controller namespace.
func ipNetns(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip -n %s %s: %v\n%s", ns, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// A host's link cut in the middle of a run (at the trust change, just before
// the docker restart): mvorch notices the silent host by its SSH keepalive
// (5 s, 3 missed), exits 1 naming the host instead of hanging, and once the
// link is back a run converges and rollback --all restores the hosts.
func TestLabLinkCutMidRun(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory()
	h := lab.Host(t, "docker02")
	ns := lab.Name + "-" + h.Name
	before := lab.Snapshots(t)
	restored := false
	restore := func() {
		ipNetns(t, ns, "link", "set", "ens33", "up")
		if !strings.Contains(ipNetns(t, ns, "-4", "addr", "show", "dev", "ens33"), " "+h.Addr+"/24 ") {
			t.Logf("%s lost its address with the link; adding it back", h.Name)
			ipNetns(t, ns, "addr", "add", h.Addr+"/24", "dev", "ens33")
		}
		restored = true
	}
	t.Cleanup(func() {
		if !restored {
			restore()
		}
		waitLockFree(t, lab, h.Name)
		lab.Reset(t, inv, before)
	})

	p := startMvorch(t, lab, "run", inv)
	if _, ok := p.waitLine(stepLine("registry-trust"), 60*time.Second); !ok {
		t.Fatalf("no registry-trust line\nstderr:\n%s", p.Stderr())
	}
	ipNetns(t, ns, "link", "set", "ens33", "down")
	cut := time.Now()
	code, ok := p.waitTimeout(90 * time.Second)
	took := time.Since(cut)
	stderr := p.Stderr()
	if !ok {
		t.Fatalf("mvorch still ran 90s after %s's link was cut (killed it)\nstderr:\n%s", h.Name, stderr)
	}
	t.Logf("mvorch exited %d, %.1fs after %s's link was cut", code, took.Seconds(), h.Name)
	if code != 1 {
		t.Errorf("exit %d after a link cut, want 1\nstdout:\n%s\nstderr:\n%s", code, p.Stdout(), stderr)
	}
	if took > 40*time.Second {
		t.Errorf("mvorch took %.1fs to give up on %s (keepalive 5 s x 3: want about 30 s at most)", took.Seconds(), h.Name)
	}
	errText := stderr
	if i := strings.Index(stderr, "mvorch:"); i >= 0 {
		errText = stderr[i:]
	} else {
		t.Errorf("no error message on stderr:\n%s", stderr)
	}
	if !strings.Contains(errText, h.Name) {
		t.Errorf("the error does not name %s:\n%s", h.Name, errText)
	}

	restore()
	deadline := time.Now().Add(30 * time.Second)
	for lab.Exec(t, h.Name, "true").Code != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer ssh 30s after its link came back", h.Name)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The cut run's lock on docker02 is held by a session whose client is
	// gone; sshd learns it only when the controller's kernel retransmits the
	// FIN of the closed connection over the restored link (after an outage
	// longer than those retransmissions, not before TCP keepalive: hours).
	// A run started before is refused as "another mvorch is changing this
	// host", naming the dead mvorch.
	waitLockFree(t, lab, h.Name)
	waitDockerActive(t, lab, 60*time.Second, "after the link came back")
	convergeRun(t, lab, inv)
	requireDockerActive(t, lab, "after the run that followed the link cut")
	planClean(t, lab, inv)
}

// waitLockFree waits until no mvorch holds the host's lock.
func waitLockFree(t *testing.T, lab *labtest.Lab, host string) {
	t.Helper()
	start := time.Now()
	for lab.Exec(t, host, "flock -n /var/lib/mvorch/lock true").Code != 0 {
		if time.Since(start) > 90*time.Second {
			t.Fatalf("the cut run's lock on %s is still held 90s after the link came back: %s", host,
				lab.Exec(t, host, "cat /var/lib/mvorch/lock.info").Stdout)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if d := time.Since(start); d > time.Second {
		t.Logf("the cut run's lock on %s was released %.1fs after the link came back", host, d.Seconds())
	}
}
