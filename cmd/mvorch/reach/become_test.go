package reach_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/testbed/labtest"
)

func asUser(t *testing.T, lab *labtest.Lab, user string) string {
	t.Helper()
	return writeInventory(t, lab.Inventory(), `user = "root"`, "user = \""+user+"\"\nbecome = \"sudo\"")
}

func mvorchEnv(t *testing.T, lab *labtest.Lab, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(lab.Mvorch, args...)
	cmd.Env = append(os.Environ(), env...)
	out, code := labtest.CombinedOutput(t, cmd)
	return code, out
}

// As a non-root user with NOPASSWD sudo the article's run works, through the
// bastion, and the files it writes are root's.
func TestLabBecomeSudoNopasswd(t *testing.T) {
	lab := labtest.Get(t)
	inv := asUser(t, lab, "deploy")
	before := lab.Snapshots(t)
	t.Cleanup(func() {
		must(t, lab, "rollback", "--all", "--yes", inv)
		labtest.SameSnapshots(t, "after rollback as deploy", before, lab.Snapshots(t))
	})
	r := must(t, lab, "run", inv)
	if !strings.Contains(r.Stdout, "Verify: all 12 pairs as expected.") {
		t.Errorf("run as deploy:\n%s", r.Stdout)
	}
	owners := lab.MustExec(t, "docker02", "stat -c '%U:%G %a %n' /etc/sysconfig/network-scripts/ifcfg-ens33.10 "+
		"/etc/systemd/system/docker.service.d/mvorch-insecure-registry.conf /etc/modules-load.d/8021q.conf")
	for _, l := range strings.Split(strings.TrimSpace(owners), "\n") {
		if !strings.HasPrefix(l, "root:root 644 ") {
			t.Errorf("not root-owned 0644: %s", l)
		}
	}
}

// With password sudo: the password comes from MVORCH_BECOME_PASSWORD, is
// never printed (not even with -vv), and a missing or wrong one is a clear
// error before anything changes.
func TestLabBecomeSudoPassword(t *testing.T) {
	lab := labtest.Get(t)
	inv := asUser(t, lab, "ops")
	before := lab.Snapshots(t)
	const secret = "ops-sudo-secret"

	code, out := mvorchEnv(t, lab, nil, "plan", inv)
	if code != 1 || !strings.Contains(out, "user ops needs a password for sudo; set MVORCH_BECOME_PASSWORD or use --ask-become-pass") {
		t.Errorf("no password: exit %d\n%s", code, out)
	}
	code, out = mvorchEnv(t, lab, []string{"MVORCH_BECOME_PASSWORD=wrong-one"}, "run", inv)
	if code != 1 || !strings.Contains(out, "the sudo password for ops was not accepted") || strings.Contains(out, "wrong-one") {
		t.Errorf("wrong password: exit %d\n%s", code, out)
	}
	// A wrong password is one failed try for sudo (pam_faillock counts
	// them), not two: nothing else is written where sudo reads it.
	for _, host := range []string{"docker01", "docker02"} {
		if r := lab.Exec(t, host, "journalctl -q --no-pager -t sudo | grep -E 'ops : [0-9]+ incorrect password attempts? '"); r.Code != 0 || strings.Contains(r.Stdout, "attempts ") {
			t.Errorf("%s: sudo's log of the wrong password (exit %d):\n%s", host, r.Code, r.Stdout)
		}
	}
	labtest.SameSnapshots(t, "after refused runs", before, lab.Snapshots(t))

	code, out = mvorchEnv(t, lab, []string{"MVORCH_BECOME_PASSWORD=" + secret}, "run", "-vv", inv)
	if code != 0 || !strings.Contains(out, "Verify: all 12 pairs as expected.") || !strings.Contains(out, "$ docker run") {
		t.Fatalf("run with the password: exit %d\n%s", code, out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("the sudo password appears in -vv output")
	}
	// ops is outside the docker group: dockerd's API is read through
	// dial-stdio, one session through sudo kept open (and one more after
	// docker's restart), beside the one shell; sudo with a password never
	// spills commands onto sessions of their own.
	for _, host := range []string{"docker01", "docker02"} {
		var n int
		for _, l := range strings.Split(out, "\n") {
			if _, err := fmt.Sscanf(l, host+": %d ssh sessions", &n); err == nil {
				break
			}
		}
		if n < 2 || n > 3 || strings.Contains(out, host+": 1 of them for commands that found the one shell busy") {
			t.Errorf("%s: %d ssh sessions as ops; want the shell, dial-stdio and at most one more dial-stdio, and none for a busy shell", host, n)
		}
	}
	if r := lab.Exec(t, "docker01", "grep -r "+secret+" /var/lib/mvorch /etc/sysconfig /etc/systemd/system 2>/dev/null"); r.Code == 0 {
		t.Errorf("the sudo password was written on the host: %s", r.Stdout)
	}
	code, out = mvorchEnv(t, lab, []string{"MVORCH_BECOME_PASSWORD=" + secret}, "rollback", "--all", "--yes", inv)
	if code != 0 {
		t.Fatalf("rollback as ops: exit %d\n%s", code, out)
	}
	labtest.SameSnapshots(t, "after rollback as ops", before, lab.Snapshots(t))
}

// --ask-become-pass asks once on the terminal, for all hosts, and the
// typed password is neither echoed nor printed.
func TestLabBecomeAskPassOnTerminal(t *testing.T) {
	lab := labtest.Get(t)
	inv := asUser(t, lab, "ops")
	const secret = "ops-sudo-secret"
	// script(1) gives mvorch a real pseudo-terminal; the password is typed
	// once the prompt shows, as a person would.
	cmd := exec.Command("script", "-qec", lab.Mvorch+" plan --ask-become-pass --no-color "+inv, "/dev/null")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		chunk := make([]byte, 4096)
		typed := false
		for {
			n, err := pr.Read(chunk)
			buf.Write(chunk[:n])
			if !typed && strings.Contains(buf.String(), "sudo password:") {
				typed = true
				io.WriteString(stdin, secret+"\n")
			}
			if err != nil {
				return
			}
		}
	}()
	err = cmd.Wait()
	pw.Close()
	<-done
	out := buf.String()
	if err != nil {
		t.Fatalf("plan --ask-become-pass on a terminal: %v\n%s", err, out)
	}
	if n := strings.Count(out, "sudo password:"); n != 1 {
		t.Errorf("asked %d times, want once for both hosts:\n%s", n, out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("the password was echoed or printed:\n%s", out)
	}
	if !strings.Contains(out, "Plan: 23 to add") {
		t.Errorf("plan did not run:\n%s", out)
	}
}
