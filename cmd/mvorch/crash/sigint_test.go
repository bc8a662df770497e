package crash_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// Ctrl-C during the docker restart: the restart in flight is finished and
// recorded, no new change starts, mvorch exits 130 saying what it did not
// make, docker runs on every host, and every change begun is journalled as
// done. A new run then converges and rollback --all restores the hosts.
func TestLabSigintFinishesCurrentChange(t *testing.T) {
	lab := labtest.Get(t)
	inv := lab.Inventory()
	slowDockerRestart(t, lab)
	before := lab.Snapshots(t)
	t.Cleanup(func() { resetLab(t, lab, inv, before) })
	seen := map[string]int{}
	for _, h := range lab.Hosts {
		seen[h.Name] = len(journal(t, lab, h.Name))
	}

	p := startMvorch(t, lab, "run", inv)
	if _, ok := p.waitLine(stepLine("registry-trust"), 60*time.Second); !ok {
		t.Fatalf("no registry-trust line\nstderr:\n%s", p.Stderr())
	}
	time.Sleep(time.Second)
	if p.hasLine(stepLine("docker-restart")) {
		t.Fatalf("the docker restart was over 1 s after the trust change; the interrupt would not land during it\nstderr:\n%s", p.Stderr())
	}
	sent := time.Now()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("SIGINT: %v", err)
	}
	code, ok := p.waitTimeout(2 * time.Minute)
	if !ok {
		t.Fatalf("mvorch did not end within 2 minutes of SIGINT\nstderr:\n%s", p.Stderr())
	}
	t.Logf("exit %d, %.2fs after SIGINT", code, time.Since(sent).Seconds())
	stdout, stderr := p.Stdout(), p.Stderr()
	if code != 130 {
		t.Errorf("exit %d after SIGINT, want 130\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	all := stdout + "\n" + stderr
	if !strings.Contains(strings.ToLower(all), "stopped") && !strings.Contains(strings.ToLower(all), "interrupted") {
		t.Errorf("the output does not say the run stopped\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	if !strings.Contains(all, "not made") {
		t.Errorf("the output does not say what was not made\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	// The restart in flight finished on every host; nothing after it began.
	for _, h := range lab.Hosts {
		if !p.hasLine(hostStepLine(h.Name, "docker-restart", "ok")) {
			t.Errorf("%s: no \"docker-restart ... ok\" line: the restart in flight was not finished\nstderr:\n%s", h.Name, stderr)
		}
	}
	for _, s := range runSteps[5:] {
		if p.hasLine(stepLine(s)) {
			t.Errorf("step %s began after the interrupt\nstderr:\n%s", s, stderr)
		}
	}
	// Right away, without waiting: docker runs on every host.
	requireDockerActive(t, lab, "after SIGINT")

	// No half change: every change begun by the interrupted run is done.
	for _, h := range lab.Hosts {
		lines := journal(t, lab, h.Name)
		if len(lines) < seen[h.Name] {
			t.Fatalf("%s: the journal shrank from %d to %d lines", h.Name, seen[h.Name], len(lines))
		}
		begun, done := map[string]journalRec{}, map[string]bool{}
		for i, l := range lines[seen[h.Name]:] {
			var rec journalRec
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Errorf("%s: journal line %d is not JSON (%v): %s", h.Name, seen[h.Name]+i+1, err, l)
				continue
			}
			key := fmt.Sprintf("%s/%d", rec.Run, rec.Seq)
			switch rec.Type {
			case "begin":
				begun[key] = rec
			case "done":
				done[key] = true
			}
		}
		if len(begun) == 0 {
			t.Errorf("%s: the interrupted run journalled nothing", h.Name)
		}
		restart := false
		for key, rec := range begun {
			if !done[key] {
				t.Errorf("%s: journal has \"begin\" without \"done\" for %s %s (%s): a half change", h.Name, rec.Step, rec.Target, key)
			}
			restart = restart || rec.Step == "docker-restart"
		}
		if !restart {
			t.Errorf("%s: the interrupted run's journal has no docker-restart change", h.Name)
		}
	}

	// Run again: it finishes; then nothing is left to change.
	convergeRun(t, lab, inv)
	planClean(t, lab, inv)
}
