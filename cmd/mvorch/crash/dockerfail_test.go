package crash_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// dockerdCmdline is the running dockerd's command line on a host.
const dockerdCmdline = `tr '\0' ' ' < /proc/$(systemctl show -p MainPID docker | cut -d= -f2)/cmdline`

// RHEL's docker unit takes its flags from $OPTIONS in /etc/sysconfig/docker,
// which mvorch does not see as a flag of ExecStart. With trust = "daemon-json"
// mvorch writes insecure-registries to daemon.json and dockerd refuses to
// start (a directive both as a flag and in the file); it refuses the reload
// that applies daemon.json the same way, and runs on as it was. The run must
// fail naming the host with dockerd's own message, put the previous
// configuration back and leave docker running on it, not restarted (a
// restart would not start).
func TestLabDockerFailsAfterTrustChangeIsRestored(t *testing.T) {
	lab := labtest.Get(t)
	inv := labtest.Variant(t, lab.Inventory(), `trust = "dropin"`, `trust = "daemon-json"`)
	const host = "docker02"
	const other = "198.51.100.99:5000"
	before := lab.Snapshots(t)
	t.Cleanup(func() {
		lab.MustExec(t, host, "rm -f /etc/systemd/system/docker.service.d/10-options.conf /etc/sysconfig/docker && "+
			"rmdir --ignore-fail-on-non-empty /etc/systemd/system/docker.service.d && systemctl daemon-reload && systemctl restart docker")
		lab.Reset(t, inv, before)
	})
	lab.MustExec(t, host, `set -e
mkdir -p /etc/systemd/system/docker.service.d /etc/sysconfig
printf '[Service]\nEnvironmentFile=-/etc/sysconfig/docker\nExecStart=\nExecStart=/usr/sbin/dockerd -H unix:///var/run/docker.sock $OPTIONS\n' > /etc/systemd/system/docker.service.d/10-options.conf
echo "OPTIONS='--insecure-registry `+other+`'" > /etc/sysconfig/docker
systemctl daemon-reload
systemctl restart docker`)
	if cl := lab.MustExec(t, host, dockerdCmdline); !strings.Contains(cl, "--insecure-registry "+other) {
		t.Fatalf("the planted $OPTIONS did not reach dockerd on %s: %q", host, cl)
	}
	if r := lab.Exec(t, host, "test -e /etc/docker/daemon.json"); r.Code == 0 {
		t.Fatalf("%s has a daemon.json before the run", host)
	}

	pid := lab.DockerdPID(t, host)
	r := lab.RunMvorch(t, "run", inv)
	t.Logf("run: exit %d\nstderr:\n%s", r.Code, r.Stderr)
	if r.Code != 1 {
		t.Errorf("run with a dockerd that refuses the new configuration: exit %d, want 1\nstdout:\n%s", r.Code, r.Stdout)
	}
	errText := r.Stderr
	if i := strings.Index(r.Stderr, "mvorch:"); i >= 0 {
		errText = r.Stderr[i:]
	}
	for _, want := range []string{host, "insecure-registries", "previous configuration is restored", "without a restart"} {
		if !strings.Contains(errText, want) {
			t.Errorf("the error lacks %q:\n%s", want, errText)
		}
	}
	// docker runs on its old configuration, and daemon.json is gone as
	// before the run.
	if r := lab.Exec(t, host, dockerUp); r.Code != 0 {
		t.Errorf("docker is not active on %s after the failed restart: %s", host, lab.Exec(t, host, "systemctl status docker").Stdout)
	} else if cl := lab.MustExec(t, host, dockerdCmdline); !strings.Contains(cl, "--insecure-registry "+other) {
		t.Errorf("dockerd on %s runs without its own --insecure-registry %s: %q", host, other, cl)
	}
	if now := lab.DockerdPID(t, host); now != pid {
		t.Errorf("docker on %s was restarted (%s -> %s)", host, pid, now)
	}
	if r := lab.Exec(t, host, "cat /etc/docker/daemon.json"); r.Code == 0 {
		t.Errorf("/etc/docker/daemon.json is still on %s:\n%s", host, r.Stdout)
	}
}

// A dockerd that runs but does not answer yet (starting, or restarting out
// of systemd's sight: docker.service says inactive, /var/run/docker.pid
// names a live process, the socket is not there yet) is waited for: the
// plan made once it answers is a real one, not "docker is not running".
// Here dockerd is started by hand, held (SIGSTOP) just before it starts,
// for 3 s after mvorch starts.
func TestLabPlanWaitsForStartingDocker(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory()
	const host = "docker01"
	cl := strings.TrimSpace(lab.MustExec(t, host, dockerdCmdline))
	if !strings.Contains(cl, "dockerd") {
		t.Fatalf("dockerd's command line on %s: %q", host, cl)
	}
	t.Cleanup(func() {
		lab.MustExec(t, host, `p=$(cat /var/run/docker.pid 2>/dev/null) && { kill -CONT "$p"; kill "$p"; while [ -d /proc/$p ]; do sleep 0.1; done; }; rm -f /var/run/docker.pid; systemctl start docker`)
		requireDockerActive(t, lab, "after the hand-started dockerd")
	})
	// The shell that becomes dockerd names itself in docker.pid, as dockerd
	// does early in its start, and stops; dockerd keeps its own pid file
	// elsewhere, so that it does not find ours.
	lab.MustExec(t, host, `systemctl stop docker && rm -f /var/run/docker.pid /var/run/docker.sock &&
(setsid sh -c 'echo $$ >/var/run/docker.pid; kill -STOP $$; exec `+cl+` --pidfile /var/run/docker-by-hand.pid' </dev/null >/var/log/docker-by-hand.log 2>&1 &) &&
i=0; until p=$(cat /var/run/docker.pid 2>/dev/null) && grep -q '^State:.*stopped' /proc/$p/status 2>/dev/null; do i=$((i+1)); [ $i -lt 300 ] || exit 1; sleep 0.01; done`)
	p := startMvorch(t, lab, "plan", "--no-color", inv)
	time.Sleep(3 * time.Second)
	lab.MustExec(t, host, `kill -CONT "$(cat /var/run/docker.pid)"`)
	code, ok := p.waitTimeout(2 * time.Minute)
	if !ok || code != 0 || !strings.Contains(p.Stdout(), "Plan: ") {
		t.Errorf("plan while dockerd starts: exit %d\nstdout:\n%s\nstderr:\n%s", code, p.Stdout(), p.Stderr())
	}
}
