package main

import (
	"strings"
	"testing"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// run, rollback, run, rollback --all back to back on real systemd: each
// restarts docker (the trust changes), four starts within well under a minute,
// past docker.service's start limit of 3 in 60 s. Each command exits 0, and
// the hosts end as they began.
func TestLabBackToBackRestartsPassStartLimit(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory()
	before := lab.Snapshots(t)
	t.Cleanup(func() {
		for _, h := range lab.Hosts {
			lab.Exec(t, h.Name, "systemctl reset-failed docker; systemctl start docker")
		}
	})
	for _, h := range lab.Hosts {
		lab.MustExec(t, h.Name, "systemctl reset-failed docker")
	}
	steps := [][]string{
		{"run", "--no-verify", inv},
		{"rollback", "--yes", inv},
		{"run", "--no-verify", "-vv", inv},
		{"rollback", "--all", "--yes", inv},
	}
	for _, args := range steps {
		r := mvorch(t, lab, args...)
		if r.Code != 0 {
			t.Fatalf("mvorch %s exited %d\nstdout:\n%s\nstderr:\n%s\ndocker02: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr,
				lab.Exec(t, "docker02", "systemctl show -p Result -p NRestarts docker; journalctl -u docker -n 5 --no-pager").Stdout)
		}
		if args[len(args)-2] == "-vv" && !strings.Contains(r.Stderr, "systemctl reset-failed docker") {
			t.Errorf("-vv does not show the start limit being cleared before the restart:\n%s", r.Stderr)
		}
	}
	labtest.SameSnapshots(t, "after run, rollback, run, rollback --all", before, lab.Snapshots(t))
}

// A clean reboot of one host and a power cut of the other after a run:
// docker, the registry and every container come back by their restart
// policies, the journal shows one boot more, and mvorch's journal and lock
// still work: a plan finds nothing to do on docker's side, and rollback --all
// restores the snapshot.
func TestLabRebootKeepsJournalAndLock(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory()
	before := lab.Snapshots(t)
	t.Cleanup(func() { resetLab(t, lab, inv, before) })
	mustMvorch(t, lab, "run", "--no-verify", inv)
	boots := map[string]string{}
	for _, h := range lab.Hosts {
		boots[h.Name] = lab.MustExec(t, h.Name, "journalctl --list-boots --no-pager -q | wc -l")
	}
	lab.Reboot(t, "docker01", false)
	lab.Reboot(t, "docker02", true)
	for _, h := range lab.Hosts {
		if got, was := lab.MustExec(t, h.Name, "journalctl --list-boots --no-pager -q | wc -l"), boots[h.Name]; got == was {
			t.Errorf("%s: journalctl --list-boots shows %s boots, as before the reboot", h.Name, strings.TrimSpace(got))
		}
		ps := " " + strings.Join(strings.Fields(lab.MustExec(t, h.Name, "docker ps --format '{{.Names}}'")), " ") + " "
		n := h.Name[len(h.Name)-1:] // the lab's names: bbox10 and bbox20 on docker01, bbox11 and bbox21 on docker02
		for _, c := range []string{"bbox1" + string(rune(n[0]-1)), "bbox2" + string(rune(n[0]-1))} {
			if !strings.Contains(ps, " "+c+" ") {
				t.Errorf("%s: %s does not run after the reboot (restart policy); running:%s", h.Name, c, ps)
			}
		}
		if h.Name == "docker01" && !strings.Contains(ps, "registry") {
			t.Errorf("docker01: the registry does not run after the reboot:\n%s", ps)
		}
		if r := lab.Exec(t, h.Name, "ls /var/lib/mvorch/"); r.Code != 0 || strings.TrimSpace(r.Stdout) == "" {
			t.Errorf("%s: mvorch's journal is gone after the reboot: %+v", h.Name, r)
		}
	}
	// what a reboot loses (promisc, the VLAN links: the article's way does not
	// persist them) a plan shows again; it plans under the per-host lock
	r := mvorch(t, lab, "plan", inv)
	if r.Code != 0 {
		t.Fatalf("plan after the reboots: %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
}
