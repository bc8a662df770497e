package reach_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An inventory that names only ssh_config aliases — no addresses, no [ssh]
// section — runs the article: HostName, User, IdentityFile,
// UserKnownHostsFile and ProxyJump come from ~/.ssh/config (with an Include),
// as they would for plain ssh.
func TestLabAliasesFromSSHConfig(t *testing.T) {
	lab := labtestGet(t)
	home := t.TempDir()
	sshDir := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(filepath.Join(sshDir, "conf.d"), 0o700); err != nil {
		t.Fatal(err)
	}
	var hosts strings.Builder
	for _, h := range lab.Hosts {
		fmt.Fprintf(&hosts, "Host %s\n  HostName %s\n", h.Name, h.Addr)
	}
	main := "Include conf.d/*.conf\n\n" + hosts.String() + fmt.Sprintf(`
Host docker*
  ProxyJump lab-bastion

Host lab-bastion
  HostName %s

Host *
  User root
  IdentityFile %s
  UserKnownHostsFile %s
`, lab.Bastion, lab.Key(), lab.KnownHosts())
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(sshDir, "config"), main)
	write(filepath.Join(sshDir, "conf.d", "10-timeouts.conf"), "Host *\n  ConnectTimeout 5\n")

	var inv strings.Builder
	for _, h := range lab.Hosts {
		fmt.Fprintf(&inv, "[[host]]\nname = %q\n\n", h.Name)
	}
	inv.WriteString(`[[network]]
name = "mac_net1"
subnet = "203.0.113.128/26"
gateway = "203.0.113.129"

[[container]]
name = "bbox1"
host = "docker01"
network = "mac_net1"
ip = "203.0.113.139"
image = "busybox:latest"

[[container]]
name = "bbox2"
host = "docker02"
network = "mac_net1"
ip = "203.0.113.149"
image = "busybox:latest"
`)
	invPath := filepath.Join(t.TempDir(), "aliases.toml")
	write(invPath, inv.String())

	// ssh reads ~/.ssh/config from the password database's home, not
	// $HOME, and so does mvorch: the file is named here. $HOME still
	// places the Include (glob(3) expands ~ with it, for ssh too).
	env := []string{"HOME=" + home}
	cfgFlag := []string{"--ssh-config", filepath.Join(sshDir, "config")}
	before := lab.Snapshots(t)
	code, out := mvorchEnv(t, lab, env, append([]string{"run"}, append(cfgFlag, invPath)...)...)
	if code != 0 || !strings.Contains(out, "Verify: all 2 pairs as expected.") {
		t.Fatalf("run with ssh_config aliases: exit %d\n%s", code, out)
	}
	if code, out := mvorchEnv(t, lab, env, append([]string{"rollback", "--all", "--yes"}, append(cfgFlag, invPath)...)...); code != 0 {
		t.Fatalf("rollback: exit %d\n%s", code, out)
	}
	sameSnapshots(t, before, lab.Snapshots(t))

	// Without the config the aliases mean nothing.
	if code, out := mvorchEnv(t, lab, env, "plan", "--ssh-config", "none", "--connect-timeout", "3s", invPath); code != 1 {
		t.Errorf("plan ignoring ssh_config: exit %d\n%s", code, out)
	}
}
