package crash_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// killPoint is a moment of a run at which mvorch is killed.
type killPoint struct {
	name string
	// at returns when it is time to kill; it fails the test when the run
	// never reaches that point.
	at func(t *testing.T, p *proc)
}

func afterFirstLine(step string) killPoint {
	return killPoint{name: "after-first-" + step + "-line", at: func(t *testing.T, p *proc) {
		t.Helper()
		if _, ok := p.waitLine(stepLine(step), 60*time.Second); !ok {
			t.Fatalf("no %s progress line before mvorch ended or 60s passed\nstderr:\n%s\nstdout:\n%s", step, p.Stderr(), p.Stdout())
		}
	}}
}

func killPoints() []killPoint {
	points := []killPoint{{name: "during-connect", at: func(t *testing.T, p *proc) {
		time.Sleep(30 * time.Millisecond)
	}}}
	for _, s := range runSteps {
		points = append(points, afterFirstLine(s))
		if s == "registry-trust" {
			// The restart takes about 3 s (slowDockerRestart); 1 s after
			// the trust lines, every host is in the middle of it.
			points = append(points, killPoint{name: "during-docker-restart", at: func(t *testing.T, p *proc) {
				t.Helper()
				if _, ok := p.waitLine(stepLine("registry-trust"), 60*time.Second); !ok {
					t.Fatalf("no registry-trust line\nstderr:\n%s", p.Stderr())
				}
				time.Sleep(time.Second)
				if p.hasLine(stepLine("docker-restart")) {
					t.Fatalf("the docker restart was over 1 s after the trust change: this kill point is not during the restart\nstderr:\n%s", p.Stderr())
				}
			}})
		}
	}
	return points
}

// kill -9 of mvorch run at many points: whatever the point, a new run
// converges (exit 0, verify ok), nothing is left to plan, docker runs on
// every host, and rollback --all puts the hosts back as before the first run.
func TestLabKill9AtManyPoints(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory()
	slowDockerRestart(t, lab)
	before := lab.Snapshots(t)
	points := killPoints()
	if len(points) < 10 {
		t.Fatalf("only %d kill points", len(points))
	}
	total := time.Now()
	for _, kp := range points {
		t.Run(kp.name, func(t *testing.T) {
			t0 := time.Now()
			// (c), also when (a) or (b) failed: rollback --all undoes both
			// runs and the hosts are as before the first run.
			t.Cleanup(func() {
				lab.Reset(t, inv, before)
				t.Logf("%s: %.1fs", kp.name, time.Since(t0).Seconds())
			})
			p := startMvorch(t, lab, "run", inv)
			kp.at(t, p)
			killedAt := time.Since(p.start)
			if err := p.cmd.Process.Kill(); err != nil {
				t.Logf("kill: %v (mvorch had already ended)", err)
			}
			code := p.wait()
			lines := p.Lines()
			last := ""
			if n := len(lines); n > 0 {
				last = lines[n-1]
			}
			t.Logf("killed %.2fs after start (exit %d), %d line(s) on stderr, last: %q", killedAt.Seconds(), code, len(lines), last)

			// A docker restart the killed run asked for goes on without it
			// (systemd runs the job). The new run starts at once, while the
			// restart may still be under way: it waits for docker.
			// (a) a new run finishes what the killed one left, verify ok;
			// docker runs everywhere afterwards.
			convergeRun(t, lab, inv)
			requireDockerActive(t, lab, "after kill -9 and a new run")
			// (b) nothing left to change.
			planClean(t, lab, inv)
		})
		if t.Failed() {
			// The next points start from what this one left: go on only
			// when that is the lab as it was.
			now := lab.Snapshots(t)
			for _, h := range lab.Hosts {
				if now[h.Name] != before[h.Name] {
					t.Fatalf("%s is not as before after the failed kill point: not going on", h.Name)
				}
			}
		}
	}
	t.Logf("%d kill points in %.1fs", len(points), time.Since(total).Seconds())
}

// The lab's systemctl stand-in behaves as systemd does for a restart: the job
// runs on whether or not the client that asked for it is still there, and
// while it runs is-active says so. The kill -9 test depends on it (mvorch
// killed during a restart).
func TestLabSystemctlRestartOutlivesKilledCaller(t *testing.T) {
	lab := labtest.Get(t)
	h := lab.Host(t, "docker02")
	mainPID := func() string { return lab.DockerdPID(t, h.Name) }
	pid := mainPID()
	if pid == "MainPID=0" {
		t.Fatalf("docker is not running on %s", h.Name)
	}
	// The ssh client (like mvorch's session) is killed once the restart is
	// under way on the host.
	t0 := time.Now()
	ssh := exec.Command("ssh", append(lab.SSHArgs(h.Addr), "systemctl restart docker")...)
	if err := ssh.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- ssh.Wait() }()
	for {
		st := strings.TrimSpace(lab.Exec(t, h.Name, "systemctl is-active docker").Stdout)
		if st == "deactivating" || st == "activating" {
			t.Logf("restart under way (%s) %.1fs after ssh started; killing ssh", st, time.Since(t0).Seconds())
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("ssh ... systemctl restart docker ended (%v) before is-active ever said the restart was under way (last: %q)", err, st)
		default:
		}
		if time.Since(t0) > 30*time.Second {
			t.Fatalf("is-active never said a restart was under way within 30s (last: %q)", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = ssh.Process.Kill()
	if err := <-exited; err == nil {
		t.Fatalf("ssh ... systemctl restart docker ended by itself before the kill: the test did not test anything")
	}
	killed := time.Now()
	for {
		now := mainPID()
		if now != pid && now != "MainPID=0" && lab.Exec(t, h.Name, dockerUp).Code == 0 {
			t.Logf("docker restarted (%s -> %s) %.1fs after its caller was killed", pid, now, time.Since(killed).Seconds())
			return
		}
		if time.Since(killed) > 30*time.Second {
			st := lab.Exec(t, h.Name, "systemctl status docker --no-pager; journalctl -u docker -n 10 --no-pager")
			t.Fatalf("docker did not come back within 30s of its restart's caller being killed (%s, now %s):\n%s", pid, now, st.Stdout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
