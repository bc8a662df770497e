package reach_test

import (
	"strings"
	"testing"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// docker02's sshd has no Subsystem sftp line in this package's lab
// (TestMain). The article's 4.2 runs end to end all the same, its files
// written over exec sessions: as root and as the sudo user deploy, a second
// run changes nothing and rollback --all restores the hosts' snapshots;
// -v says which transfer each host used: SFTP where the host serves it,
// else exec sessions (MVORCH_ONE_SHELL=0); with one shell per host (the
// default) both hosts' files go through it, SFTP or not.
func TestLabNoSFTP(t *testing.T) {
	lab := labtest.Get(t)
	// The knob works: real ssh is refused the subsystem on docker02 only.
	for host, refused := range map[string]bool{"docker01": false, "docker02": true} {
		r := lab.RunSSH(t, lab.Host(t, host).Addr, "-s", "sftp")
		if got := strings.Contains(r.Stderr, "subsystem request failed"); got != refused || (r.Code == 0) == refused {
			t.Fatalf("%s: ssh -s sftp: exit %d, stderr %q; want refused=%v", host, r.Code, r.Stderr, refused)
		}
	}
	for _, tc := range []struct {
		name, inv          string
		oneShell           string // MVORCH_ONE_SHELL
		docker01, docker02 string // the transfers -v must name
	}{
		{"root", lab.Inventory(), "0", "sftp", "exec (no SFTP)"},
		{"deploy with sudo", asUser(t, lab, "deploy"), "0", "sftp via sudo", "exec via sudo (no SFTP)"},
		{"root, one shell", lab.Inventory(), "", "the host's one shell", "the host's one shell"},
		{"deploy with sudo, one shell", asUser(t, lab, "deploy"), "", "the host's one shell via sudo", "the host's one shell via sudo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("MVORCH_ONE_SHELL", tc.oneShell)
			before := lab.Snapshots(t)
			r := must(t, lab, "run", "-v", tc.inv)
			if !strings.Contains(r.Stdout, "Verify: all 12 pairs as expected.") {
				t.Errorf("run:\n%s", r.Stdout)
			}
			out := r.Stdout + r.Stderr
			for host, want := range map[string]string{"docker01": tc.docker01, "docker02": tc.docker02} {
				if line := host + ": files over " + want + "\n"; !strings.Contains(out, line) {
					t.Errorf("-v output lacks %q:\n%s", line, out)
				}
			}
			// What the exec transfer wrote is what SFTP would have: the
			// content, mode 0644 and root's ownership.
			got := lab.MustExec(t, "docker02", "stat -c '%U:%G %a' /etc/sysconfig/network-scripts/ifcfg-ens33.10 && cat /etc/sysconfig/network-scripts/ifcfg-ens33.10")
			if !strings.HasPrefix(got, "root:root 644\n") || !strings.Contains(got, "VLAN=yes") {
				t.Errorf("ifcfg-ens33.10 on docker02:\n%s", got)
			}
			if left := lab.MustExec(t, "docker02", "find /etc -name '.*.mvorch-*'"); left != "" {
				t.Errorf("temp files left on docker02:\n%s", left)
			}

			again := must(t, lab, "run", tc.inv)
			if !strings.Contains(again.Stdout, "Apply complete: 0 added, 0 changed, 0 removed") {
				t.Errorf("second run changed something:\n%s", again.Stdout)
			}
			must(t, lab, "rollback", "--all", "--yes", tc.inv)
			labtest.SameSnapshots(t, "after rollback ("+tc.name+")", before, lab.Snapshots(t))
		})
	}
}
