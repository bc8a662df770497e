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

// dockerApply counts a run's docker-restart changes per host, by kind.
func dockerApply(out labtest.RunOut) (restarts, reloads map[string]int) {
	restarts, reloads = map[string]int{}, map[string]int{}
	for _, ch := range out.Changes {
		if ch.Step != "docker-restart" {
			continue
		}
		if strings.HasPrefix(ch.Detail, "systemctl reload docker:") {
			reloads[ch.Host]++
		} else {
			restarts[ch.Host]++
		}
	}
	return restarts, reloads
}

// Each trust method works on its own (the push and pulls succeed only if
// docker trusts the registry), and switching methods converges with at most
// one docker restart per host, and a restart only where a dockerd flag
// changes (to or from "dropin" or "unit"); daemon-json alone is a reload,
// and dockerd keeps its pid. Nothing is left of the old method.
func TestLabTrustMethodsAndSwitching(t *testing.T) {
	lab := labtest.Get(t)
	base := lab.Inventory()
	before := lab.Snapshots(t)
	t.Cleanup(func() { lab.Reset(t, base, before) })
	reg := lab.Host(t, "docker01").Addr + ":5000"

	flagged := map[string]bool{"dropin": true, "unit": true}
	prev := "" // nothing trusted yet
	for i, method := range []string{"daemon-json", "unit", "daemon-json", "dropin", "unit", "daemon-json"} {
		inv := variant(t, base, `trust = "dropin"`, `trust = "`+method+`"`)
		pids := map[string]string{}
		for _, h := range lab.Hosts {
			pids[h.Name] = lab.DockerdPID(t, h.Name)
		}
		out := runJSON(t, lab, inv)
		if !out.Verify.OK {
			t.Fatalf("%s: verify failed: %+v", method, out.Verify)
		}
		flagChange := flagged[prev] || flagged[method]
		restarts, reloads := dockerApply(out)
		for _, h := range lab.Hosts {
			wantRestarts, wantReloads := 0, 1
			if flagChange {
				wantRestarts, wantReloads = 1, 0
			}
			if restarts[h.Name] != wantRestarts || reloads[h.Name] != wantReloads {
				t.Errorf("%s -> %s (run %d): %s restarted docker %d times and reloaded it %d times, want %d and %d",
					prev, method, i, h.Name, restarts[h.Name], reloads[h.Name], wantRestarts, wantReloads)
			}
			if pid := lab.DockerdPID(t, h.Name); (pid != pids[h.Name]) != flagChange {
				t.Errorf("%s -> %s: %s dockerd %s -> %s (a flag changed: %v)", prev, method, h.Name, pids[h.Name], pid, flagChange)
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
		prev = method
		if method == "unit" {
			// The unit edit is the article's: ExecStart=/usr/sbin/dockerd --insecure-registry ADDR ...
			unit := lab.MustExec(t, "docker02", "grep ^ExecStart= /usr/lib/systemd/system/docker.service")
			if strings.TrimSpace(unit) != "ExecStart=/usr/sbin/dockerd --insecure-registry "+reg+" -H unix:///var/run/docker.sock" {
				t.Errorf("unit ExecStart after trust = unit: %q", unit)
			}
		}
	}
}

// containerStarts maps each running container of a host to its start time.
func containerStarts(t *testing.T, lab *labtest.Lab, host string) map[string]string {
	t.Helper()
	out := lab.MustExec(t, host, `ids=$(docker ps -q); [ -z "$ids" ] || docker inspect -f '{{.Name}} {{.State.StartedAt}}' $ids`)
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if name, at, ok := strings.Cut(l, " "); ok {
			m[name] = at
		}
	}
	return m
}

// stillRunning fails unless every container of before runs now, started
// at the same time.
func stillRunning(t *testing.T, lab *labtest.Lab, what string, before map[string]map[string]string) {
	t.Helper()
	for host, starts := range before {
		now := containerStarts(t, lab, host)
		for name, at := range starts {
			if now[name] != at {
				t.Errorf("%s: %s's container %s started at %s, now %q (interrupted)", what, host, name, at, now[name])
			}
		}
	}
}

// otherProjects starts a container on every host that mvorch knows nothing
// of, without a restart policy (a restart of docker leaves it down), and
// returns every running container's start time per host.
func otherProjects(t *testing.T, lab *labtest.Lab) map[string]map[string]string {
	t.Helper()
	starts := map[string]map[string]string{}
	for _, h := range lab.Hosts {
		lab.MustExec(t, h.Name, "docker run -d --name other-project --restart no busybox:latest sleep 1000000")
		t.Cleanup(func() { lab.Exec(t, h.Name, "docker rm -f other-project") })
		starts[h.Name] = containerStarts(t, lab, h.Name)
		if starts[h.Name]["/other-project"] == "" {
			t.Fatalf("%s: other-project does not run: %v", h.Name, starts[h.Name])
		}
	}
	return starts
}

// The article's 4.2 with trust = "daemon-json" on hosts whose containers
// already run: the plan says reload, and names no interrupted container;
// the run reloads dockerd (same MainPID), every container that ran still
// runs from the same start, and the push and pulls through the registry
// work. Rollback --all undoes the trust by a reload as well.
func TestLabTrustDaemonJSONReloads(t *testing.T) {
	lab := labtest.Get(t)
	base := lab.Inventory()
	before := lab.Snapshots(t)
	inv := variant(t, base, `trust = "dropin"`, `trust = "daemon-json"`)
	reg := lab.Host(t, "docker01").Addr + ":5000"
	starts := otherProjects(t, lab)
	t.Cleanup(func() {
		for _, h := range lab.Hosts {
			lab.Exec(t, h.Name, "docker rm -f other-project")
		}
		resetLab(t, lab, inv, before)
	})
	pids := map[string]string{}
	for _, h := range lab.Hosts {
		pids[h.Name] = lab.DockerdPID(t, h.Name)
	}
	samePIDs := func(what string) {
		t.Helper()
		for _, h := range lab.Hosts {
			if pid := lab.DockerdPID(t, h.Name); pid != pids[h.Name] {
				t.Errorf("%s: %s's dockerd %s -> %s: docker was restarted", what, h.Name, pids[h.Name], pid)
			}
		}
	}

	plan := mustMvorch(t, lab, "plan", inv).Stdout
	for _, h := range lab.Hosts {
		if !strings.Contains(plan, "  "+h.Name+"\n    ~   docker.service  systemctl reload docker: dockerd re-reads daemon.json, no container is interrupted\n") {
			t.Errorf("plan does not say %s reloads docker:\n%s", h.Name, plan)
		}
	}
	if strings.Contains(plan, "interrupts") {
		t.Errorf("plan warns of interrupted containers:\n%s", plan)
	}

	out := runJSON(t, lab, inv)
	if !out.Verify.OK {
		t.Fatalf("verify: %+v", out.Verify)
	}
	pushed := map[string]bool{}
	for _, ch := range out.Changes {
		if ch.Step == "image-push" || ch.Step == "image-pull" {
			pushed[ch.Step+" "+ch.Host] = true
		}
	}
	if !pushed["image-push docker01"] || !pushed["image-pull docker02"] {
		t.Errorf("no push or pull through the registry: %+v", out.Changes)
	}
	restarts, reloads := dockerApply(out)
	for _, h := range lab.Hosts {
		if restarts[h.Name] != 0 || reloads[h.Name] != 1 {
			t.Errorf("%s: %d restarts, %d reloads; want one reload", h.Name, restarts[h.Name], reloads[h.Name])
		}
		info := lab.MustExec(t, h.Name, "docker info --format '{{json .RegistryConfig.IndexConfigs}}'")
		if !strings.Contains(info, `"`+reg+`":{"Name":"`+reg+`","Mirrors":[],"Secure":false`) {
			t.Errorf("%s's dockerd does not trust %s: %s", h.Name, reg, info)
		}
	}
	samePIDs("after run")
	stillRunning(t, lab, "after run", starts)
	// A pull on its own, by the docker CLI, through the reloaded trust.
	lab.MustExec(t, "docker02", "docker rmi "+reg+"/busybox:v1 >/dev/null 2>&1; docker pull -q "+reg+"/busybox:v1")

	r := mustMvorch(t, lab, "rollback", "--all", "--yes", inv)
	if !strings.Contains(r.Stderr+r.Stdout, "docker.service (reload)") {
		t.Errorf("rollback did not reload docker:\n%s\n%s", r.Stdout, r.Stderr)
	}
	samePIDs("after rollback")
	stillRunning(t, lab, "after rollback", starts)
	for _, h := range lab.Hosts {
		info := lab.MustExec(t, h.Name, "docker info --format '{{json .RegistryConfig.IndexConfigs}}'")
		if strings.Contains(info, reg) {
			t.Errorf("after rollback %s's dockerd still trusts %s: %s", h.Name, reg, info)
		}
	}
}

// live_restore = true with the drop-in method: daemon.json gets
// "live-restore": true and a reload before the restart the flag needs, so
// the containers keep running across it (same start times; the restart is
// real: dockerd's MainPID changes). Rollback puts daemon.json back byte for
// byte (a file of the host's own on docker02, none on docker01) and keeps
// the containers running across its restart too.
func TestLabTrustLiveRestoreKeepsContainers(t *testing.T) {
	lab := labtest.Get(t)
	base := lab.Inventory()
	inv := variant(t, base, `trust = "dropin"`, "trust = \"dropin\"\nlive_restore = true")
	const own = `{"debug":false,  "log-level": "info"}`
	lab.MustExec(t, "docker02", "printf '%s' '"+own+"' > /etc/docker/daemon.json && chmod 600 /etc/docker/daemon.json")
	before := lab.Snapshots(t)
	jsonState := func(host string) string {
		return lab.MustExec(t, host, "if [ -e /etc/docker/daemon.json ]; then stat -c %a /etc/docker/daemon.json; cat /etc/docker/daemon.json; else echo absent; fi")
	}
	jsonBefore := map[string]string{"docker01": jsonState("docker01"), "docker02": jsonState("docker02")}
	starts := otherProjects(t, lab)
	t.Cleanup(func() {
		for _, h := range lab.Hosts {
			lab.Exec(t, h.Name, "docker rm -f other-project")
		}
		resetLab(t, lab, inv, before)
		lab.Exec(t, "docker02", "rm -f /etc/docker/daemon.json")
	})
	pids := map[string]string{}
	for _, h := range lab.Hosts {
		pids[h.Name] = lab.DockerdPID(t, h.Name)
	}

	plan := mustMvorch(t, lab, "plan", inv).Stdout
	if strings.Contains(plan, "interrupts") || strings.Count(plan, "live-restore keeps the containers running") != 2 {
		t.Errorf("plan does not say live-restore keeps the containers running on both hosts:\n%s", plan)
	}
	out := runJSON(t, lab, inv)
	if !out.Verify.OK {
		t.Fatalf("verify: %+v", out.Verify)
	}
	restarts, _ := dockerApply(out)
	for _, h := range lab.Hosts {
		if restarts[h.Name] != 1 {
			t.Errorf("%s: %d restarts, want 1 (the drop-in changes dockerd's flags)", h.Name, restarts[h.Name])
		}
		if pid := lab.DockerdPID(t, h.Name); pid == pids[h.Name] {
			t.Errorf("%s: dockerd was not restarted (MainPID %s)", h.Name, pid)
		}
		if lr := lab.MustExec(t, h.Name, "docker info --format '{{.LiveRestoreEnabled}}'"); strings.TrimSpace(lr) != "true" {
			t.Errorf("%s: live-restore %s after run", h.Name, lr)
		}
	}
	stillRunning(t, lab, "after the restart with live-restore", starts)

	mustMvorch(t, lab, "rollback", "--all", "--yes", inv)
	for _, h := range lab.Hosts {
		if got := jsonState(h.Name); got != jsonBefore[h.Name] {
			t.Errorf("%s: daemon.json after rollback:\n%s\nwant:\n%s", h.Name, got, jsonBefore[h.Name])
		}
		if lr := lab.MustExec(t, h.Name, "docker info --format '{{.LiveRestoreEnabled}}'"); strings.TrimSpace(lr) != "false" {
			t.Errorf("%s: live-restore %s after rollback", h.Name, lr)
		}
	}
	stillRunning(t, lab, "after rollback", starts)
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
	// reloaded once, for that reason (the trust is in daemon.json).
	plant(reg)
	out := lab.MustRunJSON(t, base)
	restarts := 0
	for _, ch := range out.Changes {
		if ch.Host == "docker02" && ch.Step == "registry-trust" {
			t.Errorf("docker02 already trusted the registry, yet: %+v", ch)
		}
		if ch.Host == "docker02" && ch.Step == "docker-restart" {
			restarts++
			if !strings.Contains(ch.Detail, "the running dockerd does not yet") || !strings.HasPrefix(ch.Detail, "systemctl reload docker:") {
				t.Errorf("docker02 restart without the reason: %+v", ch)
			}
		}
	}
	if restarts != 1 {
		t.Errorf("docker02 reloaded or restarted docker %d times, want once", restarts)
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

// Switching from the drop-in to daemon-json with live_restore = true: the
// drop-in's flag goes, so docker restarts once, after a reload that turns
// live-restore on while the running dockerd still has the flag (daemon.json's
// insecure-registries is left out for that reload: dockerd refuses a key set
// both ways); every container keeps running, mvorch's own included.
func TestLabTrustSwitchWithLiveRestore(t *testing.T) {
	lab := labtest.Get(t)
	base := lab.Inventory()
	before := lab.Snapshots(t)
	inv := variant(t, base, `trust = "dropin"`, "trust = \"daemon-json\"\nlive_restore = true")
	t.Cleanup(func() {
		for _, h := range lab.Hosts {
			lab.Exec(t, h.Name, "docker rm -f other-project")
		}
		resetLab(t, lab, inv, before)
	})
	runJSON(t, lab, base)
	starts := otherProjects(t, lab)
	pids := map[string]string{}
	for _, h := range lab.Hosts {
		pids[h.Name] = lab.DockerdPID(t, h.Name)
	}
	out := runJSON(t, lab, inv)
	if !out.Verify.OK {
		t.Fatalf("verify: %+v", out.Verify)
	}
	restarts, _ := dockerApply(out)
	for _, h := range lab.Hosts {
		if restarts[h.Name] != 1 || lab.DockerdPID(t, h.Name) == pids[h.Name] {
			t.Errorf("%s: %d restarts (MainPID %s before), want one", h.Name, restarts[h.Name], pids[h.Name])
		}
	}
	for _, ch := range out.Changes {
		if ch.Step == "docker-restart" && !strings.HasPrefix(ch.Detail, "systemctl reload docker (live-restore on), then") {
			t.Errorf("%s: %s", ch.Host, ch.Detail)
		}
	}
	stillRunning(t, lab, "after switching with live-restore", starts)
}
