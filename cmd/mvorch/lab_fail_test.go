package main

import (
	"strings"
	"testing"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// A step that fails on one host: the other hosts finish that step, the run
// stops before the next, and the report names host, step, command and the
// command's stderr.
func TestLabFailedStepStopsTheRun(t *testing.T) {
	lab, inv := refuse8021qOnDocker02(t)
	r := lab.RunMvorch(t, "run", inv)
	if r.Code != 1 {
		t.Fatalf("run with a failing modprobe: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{"docker02: 8021q:", `"modprobe 8021q"`, "could not insert '8021q': Operation not permitted"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("error report lacks %q:\n%s", want, r.Stderr)
		}
	}
	if !strings.Contains(r.Stdout, "Apply stopped at step 8021q") {
		t.Errorf("summary does not name the step:\n%s", r.Stdout)
	}
	// docker01 finished the step; no host went on to the next one.
	if got := lab.Exec(t, "docker01", "test -d /sys/module/8021q && test -f /etc/modules-load.d/8021q.conf"); got.Code != 0 {
		t.Errorf("docker01 did not finish the 8021q step")
	}
	for _, h := range lab.Hosts {
		if got := lab.Exec(t, h.Name, "ls /etc/sysconfig/network-scripts/ifcfg-ens33.10"); got.Code == 0 {
			t.Errorf("%s went on to the vlan-ifcfg step after a failure", h.Name)
		}
	}
	// Once the cause is gone, a run converges.
	lab.MustExec(t, "docker02", "rm -f /etc/mvlab/refuse-modules")
	if out := lab.MustRunJSON(t, inv); !out.Verify.OK {
		t.Errorf("run after the fix: %+v", out.Summary)
	}
}

// Something of the same name that mvorch did not make is a conflict: shown
// as a replacement, refused by run without --replace, replaced with it.
func TestLabConflictNeedsReplace(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory41()
	before := lab.Snapshots(t)
	t.Cleanup(func() {
		// rollback --all puts back what mvorch replaced: the planted container.
		lab.MustMvorch(t, "rollback", "--all", "--yes", inv)
		labels := lab.MustExec(t, "docker01", "docker inspect -f '{{json .Config.Labels}}' bbox1")
		if strings.Contains(labels, "io.mvorch.managed") {
			t.Errorf("the container rollback put back carries mvorch's label: %s", labels)
		}
		lab.MustExec(t, "docker01", "docker rm -f bbox1 && docker network rm mac_net1")
		labtest.SameSnapshots(t, "after rollback and removing the planted container", before, lab.Snapshots(t))
	})
	lab.MustExec(t, "docker01", "docker network create -d macvlan --subnet 203.0.113.128/26 --gateway 203.0.113.129 -o parent=ens33 mac_net1 && "+
		"docker run -itd --name bbox1 --network mac_net1 --ip 203.0.113.150 busybox:latest")
	planted := lab.Snapshots(t)

	plan := lab.MustMvorch(t, "plan", "--no-color", inv)
	if !strings.Contains(plan.Stdout, "-/+ container bbox1") || !strings.Contains(plan.Stdout, "conflict: a container named bbox1 that mvorch did not make") {
		t.Errorf("plan does not show the conflict:\n%s", plan.Stdout)
	}
	r := lab.RunMvorch(t, "run", inv)
	if r.Code != 1 || !strings.Contains(r.Stderr, "the plan replaces things mvorch did not make") || !strings.Contains(r.Stderr, "--replace") {
		t.Fatalf("run without --replace: exit %d\n%s", r.Code, r.Stderr)
	}
	labtest.SameSnapshots(t, "after a refused run", planted, lab.Snapshots(t))

	out := lab.MustRunJSON(t, "--replace", inv)
	if !out.Verify.OK {
		t.Errorf("run --replace: %+v", out)
	}
	if ip := lab.MustExec(t, "docker01", "docker inspect -f '{{.NetworkSettings.Networks.mac_net1.IPAddress}}' bbox1"); strings.TrimSpace(ip) != "203.0.113.139" {
		t.Errorf("bbox1 after --replace has %q", ip)
	}
}

// verify exits 1 and marks the pair when a container stops answering.
func TestLabVerifyReportsFailures(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory41()
	before := lab.Snapshots(t)
	t.Cleanup(func() {
		lab.Exec(t, "docker02", "docker unpause bbox2")
		lab.Reset(t, inv, before)
	})
	lab.MustRunJSON(t, inv)
	lab.MustExec(t, "docker02", "docker pause bbox2")
	r := lab.RunMvorch(t, "verify", "--output", "json", inv)
	if r.Code != 1 || !strings.Contains(r.Stdout, `"ok": false`) || !strings.Contains(r.Stdout, "bbox2 on docker02") {
		t.Fatalf("verify with a paused container: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	lab.MustExec(t, "docker02", "docker unpause bbox2")
	if r := lab.RunMvorch(t, "verify", inv); r.Code != 0 || !strings.Contains(r.Stdout, "all 2 pairs as expected") {
		t.Errorf("verify after unpause: exit %d\n%s", r.Code, r.Stdout)
	}
}

// With --keep-going the healthy hosts finish the run while the failed one
// sits out; the failure is still reported and the exit code is 1.
func TestLabKeepGoing(t *testing.T) {
	lab, inv := refuse8021qOnDocker02(t)
	r := lab.RunMvorch(t, "run", "--keep-going", "--no-verify", inv)
	if r.Code != 1 || !strings.Contains(r.Stderr, "docker02: 8021q:") {
		t.Fatalf("run --keep-going: exit %d\n%s", r.Code, r.Stderr)
	}
	if got := lab.Exec(t, "docker01", "docker inspect -f '{{.State.Running}}' bbox10"); strings.TrimSpace(got.Stdout) != "true" {
		t.Errorf("docker01 did not finish the run: %+v", got)
	}
	if got := lab.Exec(t, "docker02", "test -e /etc/sysconfig/network-scripts/ifcfg-ens33.10"); got.Code == 0 {
		t.Errorf("docker02 went on after it failed")
	}
}

// refuse8021qOnDocker02 makes modprobe 8021q fail on docker02 (modinfo still
// succeeds, so only the apply fails) and undoes it, and the run, at the end.
func refuse8021qOnDocker02(t *testing.T) (*labtest.Lab, string) {
	t.Helper()
	lab := labtest.Get(t)
	inv := lab.Inventory()
	before := lab.Snapshots(t)
	lab.MustExec(t, "docker02", "echo 8021q > /etc/mvlab/refuse-modules")
	t.Cleanup(func() {
		lab.Exec(t, "docker02", "rm -f /etc/mvlab/refuse-modules")
		lab.Reset(t, inv, before)
	})
	return lab, inv
}

// A container mvorch did not make, replaced with --replace, is not
// destroyed: it is renamed aside and stopped, and rollback removes mvorch's
// container and puts the very same one back (same ID, so its published
// port, env, volume and both networks, bridge among them, are as they were).
func TestLabReplacedForeignContainerComesBackExactly(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory41()
	before := lab.Snapshots(t)
	t.Cleanup(func() {
		lab.MustMvorch(t, "rollback", "--all", "--yes", inv)
		lab.MustExec(t, "docker01", "docker rm -f bbox1 && docker network rm usernet && docker volume rm mvdata")
		labtest.SameSnapshots(t, "after rollback and removing the planted container", before, lab.Snapshots(t))
	})
	lab.MustExec(t, "docker01", "docker network create usernet >/dev/null && "+
		"docker run -itd --name bbox1 -p 8081:80 -e FOO=bar -v mvdata:/data --network usernet busybox:latest >/dev/null && "+
		"docker network connect bridge bbox1")
	const show = `docker inspect -f '{{.Id}} {{.State.Running}} {{.Config.Env}} {{json .HostConfig.PortBindings}} {{range .Mounts}}{{.Name}}:{{.Destination}}{{end}} {{range $n, $_ := .NetworkSettings.Networks}}{{$n}},{{end}}' bbox1`
	original := strings.TrimSpace(lab.MustExec(t, "docker01", show))
	for _, want := range []string{" true ", "FOO=bar", `"8081"`, "mvdata:/data", "bridge,usernet,"} {
		if !strings.Contains(original, want) {
			t.Fatalf("the planted container is not what the test means (%q): %s", want, original)
		}
	}

	out := lab.MustRunJSON(t, "--replace", inv)
	if !out.Verify.OK {
		t.Errorf("run --replace: %+v", out)
	}
	aside := strings.TrimSpace(lab.MustExec(t, "docker01", "docker inspect -f '{{.Id}} {{.State.Running}}' bbox1.mvorch-aside"))
	if id, _, _ := strings.Cut(original, " "); aside != id+" false" {
		t.Errorf("kept aside: %q, want the original %s, stopped", aside, id)
	}
	if j := lab.MustExec(t, "docker01", "cat /var/lib/mvorch/journal.jsonl"); !strings.Contains(j, "bbox1.mvorch-aside") {
		t.Errorf("the journal does not name the container kept aside:\n%s", j)
	}

	if r := lab.RunMvorch(t, "rollback", "--yes", inv); r.Code != 0 {
		t.Fatalf("rollback: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if back := strings.TrimSpace(lab.MustExec(t, "docker01", show)); back != original {
		t.Errorf("after rollback bbox1 is\n  %s\nwant the original\n  %s", back, original)
	}
	if r := lab.Exec(t, "docker01", "docker inspect bbox1.mvorch-aside"); r.Code == 0 {
		t.Errorf("bbox1.mvorch-aside still exists after rollback")
	}
}
