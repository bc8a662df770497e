package labtest_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// Each host's PID 1 is a real systemd, with docker.service, sshd and journald
// as units, and the hosts are separate machines to systemd (own machine-id).
func TestLabHostsRunSystemd(t *testing.T) {
	lab := labtest.Get(t)
	ids := map[string]string{}
	for _, h := range lab.Hosts {
		out := lab.MustExec(t, h.Name, "ps -p 1 -o comm=; systemctl is-system-running; systemctl is-active docker ssh systemd-journald; cat /etc/machine-id")
		f := strings.Fields(out)
		if len(f) != 6 || f[0] != "systemd" || f[1] != "running" || f[2] != "active" || f[3] != "active" || f[4] != "active" {
			t.Errorf("%s: PID 1, system state, docker/ssh/journald = %q; want systemd, running, active x3\n%s", h.Name, out,
				lab.Exec(t, h.Name, "systemctl --failed --no-pager").Stdout)
			continue
		}
		if other, dup := ids[f[5]]; dup {
			t.Errorf("%s and %s share machine-id %s", other, h.Name, f[5])
		}
		ids[f[5]] = h.Name
	}
	for _, stub := range []string{"systemctl", "journalctl", "hostnamectl"} {
		if p := strings.TrimSpace(lab.MustExec(t, "docker01", "command -v "+stub)); strings.HasPrefix(p, "/etc/mvlab/") {
			t.Errorf("%s is the lab's stand-in %s; want the real one", stub, p)
		}
	}
}

// systemd, not the lab, decides when a changed unit needs daemon-reload. (Seen
// with systemd 252: a drop-in in a docker.service.d directory that did not
// exist at the last daemon-reload leaves NeedDaemonReload at "no", so mvorch
// always reloads after writing one rather than asking.)
func TestLabNeedDaemonReload(t *testing.T) {
	lab := labtest.Get(t)
	dir := "/etc/systemd/system/docker.service.d"
	dropin := dir + "/labtest-reload.conf"
	t.Cleanup(func() {
		lab.Exec(t, "docker02", "rm -f "+dir+"/labtest-*.conf; rmdir "+dir+"; systemctl daemon-reload")
	})
	need := func() string {
		return strings.TrimSpace(lab.MustExec(t, "docker02", "systemctl show -p NeedDaemonReload --value docker"))
	}
	lab.MustExec(t, "docker02", "mkdir -p "+dir+" && printf '[Unit]\\nDescription=labtest\\n' > "+dir+"/labtest-first.conf && systemctl daemon-reload")
	if got := need(); got != "no" {
		t.Fatalf("NeedDaemonReload after daemon-reload = %q", got)
	}
	lab.MustExec(t, "docker02", "printf '[Unit]\\nDescription=labtest\\n' > "+dropin)
	if got := need(); got != "yes" {
		t.Errorf("NeedDaemonReload after a new drop-in = %q, want yes", got)
	}
	lab.MustExec(t, "docker02", "systemctl daemon-reload")
	if got := need(); got != "no" {
		t.Errorf("NeedDaemonReload after daemon-reload = %q, want no", got)
	}
	if got := lab.MustExec(t, "docker02", "systemctl show -p DropInPaths --value docker"); !strings.Contains(got, dropin) {
		t.Errorf("DropInPaths = %q, want %s", got, dropin)
	}
}

// docker.service's start limit (3 starts in 60 s) refuses a fourth quick
// restart, as on a real host; reset-failed and start recover it.
func TestLabDockerStartLimit(t *testing.T) {
	lab := labtest.Get(t)
	t.Cleanup(func() { lab.Exec(t, "docker02", "systemctl reset-failed docker; systemctl start docker") })
	lab.MustExec(t, "docker02", "systemctl reset-failed docker")
	var refused bool
	for i := 1; i <= 4; i++ {
		r := lab.Exec(t, "docker02", "systemctl restart docker")
		if r.Code != 0 {
			if i < 3 {
				t.Fatalf("restart %d failed: %+v", i, r)
			}
			if !strings.Contains(r.Stderr, "too often") && !strings.Contains(r.Stderr, "start-limit") {
				t.Errorf("restart %d failed without systemd's start limit: %+v", i, r)
			}
			refused = true
			break
		}
	}
	if !refused {
		t.Fatalf("four restarts of docker in a row all succeeded; want systemd's start limit to refuse one")
	}
	if got := strings.TrimSpace(lab.MustExec(t, "docker02", "systemctl show -p Result --value docker")); got != "start-limit-hit" {
		t.Errorf("Result = %q, want start-limit-hit", got)
	}
	lab.MustExec(t, "docker02", "systemctl reset-failed docker && systemctl start docker && systemctl is-active docker")
}

// testbed/lab reboot, clean and as a power cut: the host boots again with its
// disk (enabled units, containers with a restart policy) and without what a
// reboot loses (promisc, links made by hand, loaded modules), and the journal
// shows one boot more.
func TestLabReboot(t *testing.T) {
	lab := labtest.Get(t)
	const host = "docker02"
	t.Cleanup(func() { lab.Exec(t, host, "docker rm -f labtest-always labtest-no") })
	lab.MustExec(t, host, "docker run -d --init --name labtest-always --restart=always busybox:latest sleep 100000 >/dev/null && "+
		"docker run -d --init --name labtest-no busybox:latest sleep 100000 >/dev/null")
	boots := func() int {
		n, err := strconv.Atoi(strings.TrimSpace(lab.MustExec(t, host, "journalctl --list-boots --no-pager -q | wc -l")))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, hard := range []bool{false, true} {
		lab.MustExec(t, host, "ip link set ens33 promisc on && ip link add labtest-m link ens33 type macvlan mode bridge && modprobe 8021q && "+
			"echo kept > /etc/labtest-kept")
		before := boots()
		lab.Reboot(t, host, hard)
		if got := boots(); got != before+1 {
			t.Errorf("hard=%v: journalctl --list-boots has %d boots, want %d", hard, got, before+1)
		}
		state := lab.MustExec(t, host, "ip -o link show ens33; ip -o link show labtest-m 2>&1; test -d /sys/module/8021q && echo 8021q-loaded; "+
			"cat /etc/labtest-kept; docker ps -a --format '{{.Names}} {{.State}}' | sort")
		if strings.Contains(state, "PROMISC") {
			t.Errorf("hard=%v: promisc survived the reboot:\n%s", hard, state)
		}
		if !strings.Contains(state, "does not exist") {
			t.Errorf("hard=%v: a macvlan made by hand survived the reboot:\n%s", hard, state)
		}
		if strings.Contains(state, "8021q-loaded") {
			t.Errorf("hard=%v: 8021q still loaded after the reboot", hard)
		}
		for _, want := range []string{"kept", "labtest-always running", "labtest-no exited"} {
			if !strings.Contains(state, want) {
				t.Errorf("hard=%v: after the reboot, want %q in:\n%s", hard, want, state)
			}
		}
		lab.MustExec(t, host, "docker start labtest-no >/dev/null")
	}
	lab.Exec(t, host, "rm -f /etc/labtest-kept")
}
