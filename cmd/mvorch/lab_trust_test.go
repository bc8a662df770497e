package main

import (
	"strings"
	"testing"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// trustArtifacts tells which trust method's files trust the registry on a host.
func trustArtifacts(t *testing.T, lab *labtest.Lab, host, reg string) map[string]bool {
	t.Helper()
	has := func(script string) bool { return lab.Exec(t, host, script).Code == 0 }
	return map[string]bool{
		"dropin":      has("test -f /etc/systemd/system/docker.service.d/mvorch-insecure-registry.conf"),
		"unit":        has("grep -q -- '--insecure-registry " + reg + "' /usr/lib/systemd/system/docker.service"),
		"daemon-json": has("grep -q '" + reg + "' /etc/docker/daemon.json"),
	}
}

// Each trust method works on its own (the push and pulls succeed only if
// docker trusts the registry), and switching methods converges with one
// docker restart per host and nothing left of the old method.
func TestLabTrustMethodsAndSwitching(t *testing.T) {
	lab := labtest.Get(t)
	base := lab.Inventory()
	before := lab.Snapshots(t)
	t.Cleanup(func() { lab.Reset(t, base, before) })
	reg := lab.Host(t, "docker01").Addr + ":5000"

	for i, method := range []string{"unit", "daemon-json", "dropin", "unit"} {
		inv := labtest.Variant(t, base, `trust = "dropin"`, `trust = "`+method+`"`)
		out := lab.MustRunJSON(t, inv)
		if !out.Verify.OK {
			t.Fatalf("%s: verify failed: %+v", method, out.Verify)
		}
		restarts := map[string]int{}
		for _, ch := range out.Changes {
			if ch.Step == "docker-restart" {
				restarts[ch.Host]++
			}
		}
		for _, h := range lab.Hosts {
			if restarts[h.Name] != 1 {
				t.Errorf("%s (run %d): %s restarted docker %d times, want once", method, i, h.Name, restarts[h.Name])
			}
			got := trustArtifacts(t, lab, h.Name, reg)
			for m, present := range got {
				if present != (m == method) {
					t.Errorf("after switching to %s: %s has %s artifacts = %v", method, h.Name, m, present)
				}
			}
			info := lab.MustExec(t, h.Name, "docker info --format '{{json .RegistryConfig.IndexConfigs}}'")
			if !strings.Contains(info, `"`+reg+`":{"Name":"`+reg+`","Mirrors":[],"Secure":false`) {
				t.Errorf("%s: %s's dockerd does not trust %s: %s", method, h.Name, reg, info)
			}
		}
		if r := lab.RunMvorch(t, "plan", "--detailed-exitcode", inv); r.Code != 0 {
			t.Errorf("%s: plan after run not empty (exit %d):\n%s", method, r.Code, r.Stdout)
		}
	}
	// The unit edit is the article's: ExecStart=/usr/sbin/dockerd --insecure-registry ADDR ...
	unit := lab.MustExec(t, "docker02", "grep ^ExecStart= /usr/lib/systemd/system/docker.service")
	if strings.TrimSpace(unit) != "ExecStart=/usr/sbin/dockerd --insecure-registry "+reg+" -H unix:///var/run/docker.sock" {
		t.Errorf("unit ExecStart after trust = unit: %q", unit)
	}
}

// A flag + daemon.json conflict that would stop dockerd is refused before
// anything changes; a registry already trusted by something mvorch did not
// make is left alone (no second trust, no restart).
func TestLabTrustDetectsOtherConfig(t *testing.T) {
	lab := labtest.Get(t)
	base := lab.Inventory()
	before := lab.Snapshots(t)
	reg := lab.Host(t, "docker01").Addr + ":5000"
	plant := func(addr string) {
		lab.MustExec(t, "docker02", `mkdir -p /etc/docker && echo '{"insecure-registries": ["`+addr+`"]}' > /etc/docker/daemon.json`)
	}
	t.Cleanup(func() {
		lab.Exec(t, "docker02", "rm -f /etc/docker/daemon.json")
		lab.Reset(t, base, before)
	})

	// daemon.json trusts another registry; the drop-in would add a flag, and
	// dockerd refuses insecure-registries set both ways.
	plant("198.51.100.99:5000")
	planted := lab.Snapshots(t)
	r := lab.RunMvorch(t, "plan", base)
	if r.Code != 1 || !strings.Contains(r.Stderr, "docker02") || !strings.Contains(r.Stderr, "both in /etc/docker/daemon.json and as a --insecure-registry flag") {
		t.Fatalf("plan with a conflicting daemon.json: exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if r := lab.RunMvorch(t, "run", base); r.Code != 1 {
		t.Fatalf("run with the conflict: exit %d", r.Code)
	}
	labtest.SameSnapshots(t, "after a refused run", planted, lab.Snapshots(t))

	// daemon.json trusts this registry already: docker02's configuration is
	// left as it is; its running dockerd predates the file, so it is
	// restarted once, for that reason.
	plant(reg)
	out := lab.MustRunJSON(t, base)
	restarts := 0
	for _, ch := range out.Changes {
		if ch.Host == "docker02" && ch.Step == "registry-trust" {
			t.Errorf("docker02 already trusted the registry, yet: %+v", ch)
		}
		if ch.Host == "docker02" && ch.Step == "docker-restart" {
			restarts++
			if !strings.Contains(ch.Detail, "the running dockerd does not yet") {
				t.Errorf("docker02 restart without the reason: %+v", ch)
			}
		}
	}
	if restarts != 1 {
		t.Errorf("docker02 restarted %d times, want once", restarts)
	}
	if !out.Verify.OK {
		t.Errorf("verify: %+v", out.Verify)
	}
	if r := lab.Exec(t, "docker02", "test -e /etc/systemd/system/docker.service.d/mvorch-insecure-registry.conf"); r.Code == 0 {
		t.Errorf("docker02 got a drop-in although daemon.json trusts the registry")
	}
}

// For each trust method on its own: a run, then rollback --all gives the
// hosts back exactly; a second rollback finds nothing to undo.
func TestLabRollbackEachTrustMethod(t *testing.T) {
	lab := labtest.Get(t)
	base := lab.Inventory()
	before := lab.Snapshots(t)
	for _, method := range []string{"dropin", "unit", "daemon-json"} {
		inv := labtest.Variant(t, base, `trust = "dropin"`, `trust = "`+method+`"`)
		lab.MustRunJSON(t, inv)
		r := lab.MustMvorch(t, "rollback", "--all", "--yes", inv)
		if !strings.Contains(r.Stdout, "Rollback complete") {
			t.Errorf("%s: rollback:\n%s", method, r.Stdout)
		}
		labtest.SameSnapshots(t, method+": after rollback --all", before, lab.Snapshots(t))
		again := lab.MustMvorch(t, "rollback", "--all", "--yes", inv)
		if !strings.Contains(again.Stdout, "Plan: 0 to add, 0 to change, 0 to remove.") {
			t.Errorf("%s: a second rollback had something to undo:\n%s", method, again.Stdout)
		}
	}
}
