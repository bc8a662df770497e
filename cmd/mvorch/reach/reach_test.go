// Package reach_test runs mvorch against hosts it can only reach the way
// people reach real fleets: through a bastion (jump host), and with
// docker02's sshd serving no SFTP (as hardened hosts do), so every test
// here also moves docker02's files over exec sessions.
package reach_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/testbed/labtest"
)

func TestMain(m *testing.M) {
	labtest.MainWith(m, labtest.Options{Hosts: 2, Bastion: true, NoSFTP: []string{"docker02"}})
}

func must(t *testing.T, lab *labtest.Lab, args ...string) labtest.Result {
	t.Helper()
	return lab.MustMvorch(t, args...)
}

// The controller has no route to the docker hosts; the article's section
// 4.2 runs through the bastion all the same, and rolls back.
func TestLabRunThroughBastion(t *testing.T) {
	lab := labtest.Get(t)
	if lab.Bastion == "" {
		t.Fatal("lab without a bastion")
	}
	inv := lab.Inventory()
	before := lab.Snapshots(t)
	if r := lab.RunMvorch(t, "plan", strings.Replace(inv, "lab.toml", "lab.toml", 1)); r.Code != 0 {
		t.Fatalf("plan through the bastion: %d\n%s", r.Code, r.Stderr)
	}
	direct := writeInventory(t, inv, `jump = "root@`+lab.Bastion+`"`, "")
	if r := lab.RunMvorch(t, "plan", "--connect-timeout", "3s", direct); r.Code != 1 || !strings.Contains(r.Stderr, "docker01") {
		t.Errorf("without the jump the hosts must be unreachable: exit %d\n%s", r.Code, r.Stderr)
	}
	r := must(t, lab, "run", inv)
	if !strings.Contains(r.Stdout, "Verify: all 12 pairs as expected.") {
		t.Errorf("run through the bastion:\n%s", r.Stdout)
	}
	must(t, lab, "rollback", "--all", "--yes", inv)
	labtest.SameSnapshots(t, "after rollback through the bastion", before, lab.Snapshots(t))
}

// The bastion's own host key is checked under its own name: unknown, it is
// refused before any host is touched; --accept-new-host-keys adds it.
func TestLabBastionHostKeyIsChecked(t *testing.T) {
	lab := labtest.Get(t)
	data, err := os.ReadFile(lab.KnownHosts())
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.HasPrefix(l, lab.Bastion+" ") {
			keep = append(keep, l)
		}
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(strings.Join(keep, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inv := writeInventory(t, lab.Inventory(), lab.KnownHosts(), kh)
	r := lab.RunMvorch(t, "plan", inv)
	if r.Code != 1 || !strings.Contains(r.Stderr, "jump host "+lab.Bastion) || !strings.Contains(r.Stderr, "--accept-new-host-keys") {
		t.Fatalf("unknown bastion key: exit %d\n%s", r.Code, r.Stderr)
	}
	must(t, lab, "plan", "--accept-new-host-keys", inv)
	after, _ := os.ReadFile(kh)
	if !strings.Contains(string(after), lab.Bastion+" ") {
		t.Errorf("the bastion's key was not added:\n%s", after)
	}
	must(t, lab, "plan", inv)
}

func writeInventory(t *testing.T, path, old, new string) string {
	t.Helper()
	return labtest.Variant(t, path, old, new)
}

func labtestGet(t *testing.T) *labtest.Lab { return labtest.Get(t) }

func sameSnapshots(t *testing.T, want, got map[string]string) {
	t.Helper()
	labtest.SameSnapshots(t, "after rollback", want, got)
}
