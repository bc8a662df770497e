package reach_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A host whose key differs from known_hosts is refused before any command
// runs on any host, loudly, and --accept-new-host-keys does not override it.
func TestLabChangedHostKeyRefused(t *testing.T) {
	lab := labtestGet(t)
	data, err := os.ReadFile(lab.KnownHosts())
	if err != nil {
		t.Fatal(err)
	}
	// docker02's entries carry docker01's keys: what a man in the middle
	// presenting another machine's key would look like.
	d1, d2 := lab.Hosts[0].Addr, lab.Hosts[1].Addr
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(l, d2+" ") {
			continue
		}
		lines = append(lines, l)
		if strings.HasPrefix(l, d1+" ") {
			lines = append(lines, d2+strings.TrimPrefix(l, d1))
		}
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inv := writeInventory(t, lab.Inventory(), lab.KnownHosts(), kh)
	before := lab.Snapshots(t)
	journalBefore := lab.Exec(t, "docker01", "cat /var/lib/mvorch/journal.jsonl 2>/dev/null | wc -l").Stdout
	for _, args := range [][]string{{"run", inv}, {"run", "--accept-new-host-keys", inv}} {
		r := lab.RunMvorch(t, args...)
		if r.Code != 1 || !strings.Contains(r.Stderr, "docker02") || !strings.Contains(strings.ToLower(r.Stderr), "changed") {
			t.Errorf("mvorch %v with a changed key: exit %d\n%s", args, r.Code, r.Stderr)
		}
	}
	sameSnapshots(t, before, lab.Snapshots(t))
	if got := lab.Exec(t, "docker01", "cat /var/lib/mvorch/journal.jsonl 2>/dev/null | wc -l").Stdout; got != journalBefore {
		t.Errorf("docker01's journal grew (%s -> %s): something ran although docker02's key changed", journalBefore, got)
	}
	after, _ := os.ReadFile(kh)
	if string(after) != strings.Join(lines, "\n")+"\n" {
		t.Errorf("known_hosts was rewritten for a changed key")
	}
}
