package main

import (
	"sort"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// Changing the inventory (add a container, change a VLAN address, remove a
// network) gives a plan of exactly those changes and a run that makes
// exactly them; rollback then gives back the state after the first run.
func TestLabInventoryChangesAndRollbackToPreviousRun(t *testing.T) {
	lab := labtest.Get(t)
	base := lab.Inventory()
	before := lab.Snapshots(t)
	t.Cleanup(func() { lab.Reset(t, base, before) })
	lab.MustRunJSON(t, base)
	afterA := lab.Snapshots(t)

	changed := labtest.Variant(t, base,
		// VLAN 10 address of docker02 moves.
		`docker02 = "203.0.113.12/26"`, `docker02 = "203.0.113.40/26"`,
		// mac_net20 and its containers go.
		"[[network]]\nname = \"mac_net20\"\nsubnet = \"203.0.113.192/26\"\ngateway = \"203.0.113.193\"\nvlan = 20\n", "",
		"[[container]]\nname = \"bbox20\"\nhost = \"docker01\"\nnetwork = \"mac_net20\"\nip = \"203.0.113.194\"\nimage = \"busybox:v1\"\n", "",
		"[[container]]\nname = \"bbox21\"\nhost = \"docker02\"\nnetwork = \"mac_net20\"\nip = \"203.0.113.195\"\nimage = \"busybox:v1\"\n", "",
	)
	changed = labtest.Variant(t, changed, "[[container]]\nname = \"bbox10\"",
		"[[container]]\nname = \"bbox12\"\nhost = \"docker02\"\nnetwork = \"mac_net10\"\nip = \"203.0.113.140\"\nimage = \"busybox:v1\"\n\n[[container]]\nname = \"bbox10\"")

	p := lab.PlanJSON(t, changed)
	var got []string
	for _, ch := range p.Changes {
		got = append(got, ch.Host+" "+ch.Action+" "+ch.Target)
	}
	sort.Strings(got)
	want := []string{
		"docker01 remove container bbox20",
		"docker01 remove network mac_net20",
		"docker02 add container bbox12",
		"docker02 change /etc/sysconfig/network-scripts/ifcfg-ens33.10",
		"docker02 remove container bbox21",
		"docker02 remove network mac_net20",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("plan of the changed inventory:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, ch := range p.Changes {
		if strings.HasSuffix(ch.Target, "ifcfg-ens33.10") && (!strings.Contains(ch.Diff, "-IPADDR=203.0.113.12") || !strings.Contains(ch.Diff, "+IPADDR=203.0.113.40")) {
			t.Errorf("ifcfg diff:\n%s", ch.Diff)
		}
	}

	out := lab.MustRunJSON(t, changed)
	if out.Summary.Added != 1 || out.Summary.Changed != 1 || out.Summary.Removed != 4 || !out.Verify.OK {
		t.Errorf("run of the changed inventory: %+v", out.Summary)
	}
	if addr := lab.MustExec(t, "docker02", "ip -o -4 addr show dev ens33.10"); !strings.Contains(addr, "203.0.113.40/26") || strings.Contains(addr, "203.0.113.12/") {
		t.Errorf("ens33.10 on docker02 after the change: %s", addr)
	}
	if r := lab.RunMvorch(t, "plan", "--detailed-exitcode", changed); r.Code != 0 {
		t.Errorf("plan after the changed run: exit %d\n%s", r.Code, r.Stdout)
	}

	lab.MustMvorch(t, "rollback", "--yes", changed)
	labtest.SameSnapshots(t, "rollback of run B", afterA, lab.Snapshots(t))
	if r := lab.RunMvorch(t, "plan", "--detailed-exitcode", base); r.Code != 0 {
		t.Errorf("plan of inventory A after rolling back B: exit %d\n%s", r.Code, r.Stdout)
	}
}

// rollback undoes the fleet's last run: on a host that run left alone it
// undoes nothing, rather than that host's own last run (an older one). A
// second rollback then undoes the older run everywhere.
func TestLabRollbackUndoesOnlyTheFleetsLastRun(t *testing.T) {
	lab := labtest.Get(t)
	base := lab.Inventory()
	before := lab.Snapshots(t)
	t.Cleanup(func() { lab.Reset(t, base, before) })
	lab.MustRunJSON(t, base)
	afterA := lab.Snapshots(t)

	// Run B changes docker01 only: one more container there.
	onlyOne := labtest.Variant(t, base, "[[container]]\nname = \"bbox10\"",
		"[[container]]\nname = \"bbox12\"\nhost = \"docker01\"\nnetwork = \"mac_net10\"\nip = \"203.0.113.140\"\nimage = \"busybox:v1\"\n\n[[container]]\nname = \"bbox10\"")
	out := lab.MustRunJSON(t, "--no-verify", onlyOne)
	if out.Summary.Added != 1 || out.Summary.Changed != 0 || out.Summary.Removed != 0 {
		t.Fatalf("run B: %+v, want one container added", out.Summary)
	}

	r := lab.MustMvorch(t, "rollback", "--yes", onlyOne)
	if strings.Contains(r.Stdout, "docker02") {
		t.Errorf("rollback of run B touched docker02, which run B left alone:\n%s", r.Stdout)
	}
	labtest.SameSnapshots(t, "rollback of run B (docker02 untouched by B)", afterA, lab.Snapshots(t))

	lab.MustMvorch(t, "rollback", "--yes", base)
	labtest.SameSnapshots(t, "a second rollback (run A)", before, lab.Snapshots(t))
}

// A container mvorch did not make, on a network mvorch must make again (its
// gateway changed), comes through the run and the rollback as itself: the
// same container (ID), its environment, its other network, and its address
// on the new network; the run asks for --replace first.
func TestLabForeignContainerOnRecreatedNetworkIsKept(t *testing.T) {
	lab := labtest.Get(t)
	base := lab.Inventory()
	before := lab.Snapshots(t)
	t.Cleanup(func() {
		lab.Exec(t, "docker01", "docker rm -f foreign")
		lab.Reset(t, base, before)
	})
	lab.MustRunJSON(t, "--no-verify", base)
	lab.MustExec(t, "docker01", "docker run -d --init --name foreign --network mac_net10 --ip 203.0.113.150 -e KEEP=me --restart unless-stopped busybox:latest sleep 100000 >/dev/null && "+
		"docker network connect bridge foreign")
	state := func() string {
		return lab.MustExec(t, "docker01", `docker inspect -f '{{.Id}} {{.State.Status}} {{range .Config.Env}}{{.}} {{end}}' foreign; `+
			`docker inspect -f '{{range $n, $e := .NetworkSettings.Networks}}{{$n}}={{$e.IPAddress}} {{end}}' foreign`)
	}
	was := state()
	if !strings.Contains(was, "mac_net10=203.0.113.150") || !strings.Contains(was, "bridge=") || !strings.Contains(was, "KEEP=me") {
		t.Fatalf("the foreign container as made: %s", was)
	}
	afterA := lab.Snapshots(t)

	moved := labtest.Variant(t, base, `gateway = "203.0.113.129"`, `gateway = "203.0.113.190"`)
	if r := lab.RunMvorch(t, "run", "--no-verify", moved); r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, "foreign") {
		t.Fatalf("run without --replace: exit %d, want a refusal naming the foreign container\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	lab.MustRunJSON(t, "--replace", moved)
	if got := state(); got != was {
		t.Errorf("the foreign container after mac_net10 was made again:\n got %s\nwant %s", got, was)
	}
	if gw := lab.MustExec(t, "docker01", "docker network inspect -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' mac_net10"); strings.TrimSpace(gw) != "203.0.113.190" {
		t.Errorf("mac_net10's gateway after the run: %q", gw)
	}
	lab.MustExec(t, "docker01", "docker exec foreign ping -c 1 -W 2 203.0.113.131 >/dev/null") // bbox11 on docker02

	lab.MustMvorch(t, "rollback", "--yes", moved)
	if got := state(); got != was {
		t.Errorf("the foreign container after the rollback:\n got %s\nwant %s", got, was)
	}
	labtest.SameSnapshots(t, "rollback of the gateway change", afterA, lab.Snapshots(t))
}
