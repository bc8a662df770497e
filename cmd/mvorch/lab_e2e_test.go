package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/testbed/labtest"
)

func TestMain(m *testing.M) { labtest.Main(m, 2) }

// mvorch, mustMvorch, resetLab and runJSON are the package's short names for
// labtest's helpers (one copy, in testbed/labtest).
func mvorch(t *testing.T, lab *labtest.Lab, args ...string) labtest.Result {
	t.Helper()
	return lab.RunMvorch(t, args...)
}

func mustMvorch(t *testing.T, lab *labtest.Lab, args ...string) labtest.Result {
	t.Helper()
	return lab.MustMvorch(t, args...)
}

func resetLab(t *testing.T, lab *labtest.Lab, inv string, before map[string]string) {
	t.Helper()
	lab.Reset(t, inv, before)
}

func runJSON(t *testing.T, lab *labtest.Lab, args ...string) labtest.RunOut {
	t.Helper()
	return lab.MustRunJSON(t, args...)
}

// builtArticle42 runs the article's 4.2 on the lab, checks that every pair
// answers as expected, and undoes it all when the test ends.
func builtArticle42(t *testing.T) (*labtest.Lab, string) {
	t.Helper()
	lab := labtest.Get(t)
	inv := lab.Inventory()
	before := lab.Snapshots(t)
	t.Cleanup(func() { lab.Reset(t, inv, before) })
	if out := lab.MustRunJSON(t, inv); !out.Verify.OK {
		t.Fatalf("run: verify not ok: %+v", out.Verify)
	}
	return lab, inv
}

func variant(t *testing.T, path string, repl ...string) string {
	t.Helper()
	return labtest.Variant(t, path, repl...)
}

// The article's section 4.2 on a fresh lab: the plan shows every change and
// changes nothing; run builds it; same-VLAN containers reach each other
// across hosts and cross-VLAN ones do not; a second run changes nothing and
// restarts nothing; rollback --all puts the hosts back as they were.
func TestLabArticle42EndToEnd(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory()
	before := lab.Snapshots(t)

	plan := lab.MustMvorch(t, "plan", "--no-color", inv)
	for _, want := range []string{
		"+++ /etc/sysconfig/network-scripts/ifcfg-ens33.10",
		"+DEVICE=ens33.10", "+VLAN=yes", "+IPADDR=203.0.113.11", "+GATEWAY=203.0.113.1",
		"+++ /etc/sysconfig/network-scripts/ifcfg-ens33.20",
		"--insecure-registry 198.51.100.11:5000",
		"systemctl daemon-reload && systemctl restart docker",
		"container registry", "network mac_net10", "container bbox21",
		"Plan: 23 to add, 4 to change, 0 to remove.",
	} {
		if !strings.Contains(plan.Stdout, want) {
			t.Errorf("plan output lacks %q:\n%s", want, plan.Stdout)
		}
	}
	labtest.SameSnapshots(t, "after plan", before, lab.Snapshots(t))
	if r := lab.RunMvorch(t, "plan", "--detailed-exitcode", inv); r.Code != 2 {
		t.Errorf("plan --detailed-exitcode with changes pending: exit %d, want 2", r.Code)
	}
	t.Cleanup(func() { lab.Reset(t, inv, before) })

	out := lab.MustRunJSON(t, inv)
	if out.Summary.Added != 23 || out.Summary.Changed != 4 || out.Summary.Failed != 0 || !out.Verify.OK {
		t.Fatalf("first run: %+v", out)
	}
	if len(out.Verify.Pairs) != 12 {
		t.Errorf("verify pairs: %d, want 12", len(out.Verify.Pairs))
	}
	// The journal keeps copies of replaced files: root's only.
	for _, h := range lab.Hosts {
		if got := strings.Fields(lab.MustExec(t, h.Name, "stat -c %a /var/lib/mvorch /var/lib/mvorch/journal.jsonl")); strings.Join(got, " ") != "700 600" {
			t.Errorf("%s: journal directory and file modes %v, want 700 600", h.Name, got)
		}
	}
	// Independently of mvorch's own verify: real pings between containers.
	if r := lab.Exec(t, "docker01", "docker exec bbox10 ping -c1 -W2 203.0.113.131"); r.Code != 0 {
		t.Errorf("bbox10 (docker01) -> bbox11 (docker02), same VLAN: %+v", r)
	}
	if r := lab.Exec(t, "docker01", "docker exec bbox20 ping -c1 -W2 203.0.113.195"); r.Code != 0 {
		t.Errorf("bbox20 (docker01) -> bbox21 (docker02), same VLAN: %+v", r)
	}
	if r := lab.Exec(t, "docker01", "docker exec bbox10 ping -c1 -W1 203.0.113.195"); r.Code == 0 {
		t.Errorf("bbox10 -> bbox21 crossed VLANs without a router")
	}
	ifcfg := lab.MustExec(t, "docker02", "cat /etc/sysconfig/network-scripts/ifcfg-ens33.20")
	for _, kv := range []string{"BOOTPROTO=none", "NAME=ens33.20", "DEVICE=ens33.20", "ONBOOT=yes", "IPADDR=203.0.113.76", "PREFIX=26", "GATEWAY=203.0.113.65", "VLAN=yes"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(kv) + `$`).MatchString(ifcfg) {
			t.Errorf("ifcfg-ens33.20 on docker02 lacks %s:\n%s", kv, ifcfg)
		}
	}

	pids := map[string]string{}
	for _, h := range lab.Hosts {
		pids[h.Name] = lab.DockerdPID(t, h.Name)
	}
	again := lab.MustRunJSON(t, inv)
	if again.Summary.Added+again.Summary.Changed+again.Summary.Removed != 0 || !again.Verify.OK {
		t.Errorf("second run changed something: %+v", again)
	}
	for _, h := range lab.Hosts {
		if pid := lab.DockerdPID(t, h.Name); pid != pids[h.Name] {
			t.Errorf("%s: dockerd restarted by a run with nothing to do (%s -> %s)", h.Name, pids[h.Name], pid)
		}
	}
	if r := lab.RunMvorch(t, "plan", "--detailed-exitcode", inv); r.Code != 0 || !strings.Contains(r.Stdout, "Plan: 0 to add, 0 to change, 0 to remove.") {
		t.Errorf("plan after run: exit %d\n%s", r.Code, r.Stdout)
	}
	if r := lab.RunMvorch(t, "run", "--dry-run", "--detailed-exitcode", inv); r.Code != 0 {
		t.Errorf("run --dry-run --detailed-exitcode after run: exit %d", r.Code)
	}
	v := lab.MustMvorch(t, "verify", inv)
	if !strings.Contains(v.Stdout, "Verify: all 12 pairs as expected.") {
		t.Errorf("verify:\n%s", v.Stdout)
	}
}

// Section 4.1: one macvlan network on the NIC itself, no VLAN, no registry.
func TestLabArticle41EndToEnd(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory41()
	before := lab.Snapshots(t)
	t.Cleanup(func() { lab.Reset(t, inv, before) })
	out := lab.MustRunJSON(t, inv)
	// promisc x2 and its boot unit x2, network x2, container x2; no VLAN, no trust, no restart.
	if out.Summary.Added != 6 || out.Summary.Changed != 2 || !out.Verify.OK || len(out.Verify.Pairs) != 2 {
		t.Fatalf("4.1 run: %+v", out)
	}
	for _, ch := range out.Changes {
		if ch.Step == "docker-restart" || ch.Step == "vlan-ifcfg" || ch.Step == "8021q" {
			t.Errorf("4.1 run made a %s change: %+v", ch.Step, ch)
		}
	}
	if r := lab.RunMvorch(t, "plan", "--detailed-exitcode", inv); r.Code != 0 {
		t.Errorf("plan after the 4.1 run: exit %d\n%s", r.Code, r.Stdout)
	}
	pid := lab.DockerdPID(t, "docker01")
	if again := lab.MustRunJSON(t, inv); again.Summary.Added+again.Summary.Changed+again.Summary.Removed != 0 || !again.Verify.OK {
		t.Errorf("second 4.1 run: %+v", again.Summary)
	}
	if lab.DockerdPID(t, "docker01") != pid {
		t.Errorf("second 4.1 run restarted docker")
	}
	if r := lab.Exec(t, "docker02", "docker exec bbox2 ping -c1 -W2 203.0.113.139"); r.Code != 0 {
		t.Errorf("bbox2 -> bbox1 across hosts on ens33: %+v", r)
	}
}
