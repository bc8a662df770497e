package inventory

import (
	"fmt"
	"strings"
	"testing"
)

// The refusals are pinned in TestRules; these are values people really
// write, which must pass.
func TestChecksAccept(t *testing.T) {
	tests := []struct {
		name   string
		check  func(string) string
		values []string
	}{
		{"host name", checkHostName, []string{"docker01", "d", "docker-01.lab", "node_7", strings.Repeat("a", 63)}},
		{"docker name", checkDockerName, []string{"bbox10", "mac_net10", "my.app-1", "n", strings.Repeat("c", 128)}},
		{"container name", checkContainerName, []string{"bbox10", "c1", "my.app-1", strings.Repeat("c", 128)}},
		{"parent", checkParent, []string{"ens33", "eth0", "enp0s31f6", "bond0.100", "br_lan", strings.Repeat("e", 15)}},
		{"address", checkAddress, []string{"192.168.1.11", "docker01", "docker01.example.com", "ssh_alias", "10.0.0.1", "127.0.0.1", "198.51.100.11"}},
		{"user", checkUser, []string{"root", "admin", "_svc", "deploy.bot", "ops-1"}},
		{"jump", checkJump, []string{"bastion", "admin@bastion.example.com", "admin@10.0.0.1:2222", "a@b,c@d:22"}},
		{"path", checkPath, []string{"~/.ssh/id_ed25519", "/home/ops/.ssh/known_hosts", "/Users/Jane Doe/.ssh/id", "/home/jöns/.ssh/id (2)", "./-i"}},
		{"image", checkImageRef, []string{
			"busybox", "busybox:latest", "library/busybox:1.36", "registry:2",
			"192.168.1.11:5000/busybox:v1", "localhost:5000/a/b:c", "Registry.Example.com/team/app:v1.2_3",
			"busybox@sha256:" + strings.Repeat("ab", 32), "ghcr.io/o/r:t@sha256:" + strings.Repeat("0", 64),
		}},
		{"image tag", checkImageTag, []string{"busybox:v1", "team/app:1.0", "busybox"}},
		{"restart", checkRestart, []string{"no", "always", "unless-stopped", "on-failure"}},
		{"trust", checkTrust, []string{"dropin", "unit", "daemon-json"}},
		{"become", checkBecome, []string{"", "sudo"}},
	}
	for _, tt := range tests {
		for _, v := range tt.values {
			if msg := tt.check(v); msg != "" {
				t.Errorf("%s %q refused: %s", tt.name, v, msg)
			}
		}
	}
}

// Addresses of ordinary LANs, including the documentation ranges the lab
// uses, pass; the special ranges do not.
func TestIPv4Ranges(t *testing.T) {
	for _, s := range []string{"192.168.10.2", "10.0.0.1", "172.16.10.1", "203.0.113.129", "198.51.100.11", "169.254.1.1", "100.64.0.1"} {
		if _, msg := parseIPv4(s); msg != "" {
			t.Errorf("parseIPv4(%q) refused: %s", s, msg)
		}
	}
	for _, s := range []string{"0.0.0.0", "127.0.0.1", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255"} {
		if _, msg := parseIPv4(s); msg == "" {
			t.Errorf("parseIPv4(%q) accepted", s)
		}
	}
	for _, s := range []string{"172.16.0.0/12", "10.0.0.0/8", "192.168.0.0/16", "203.0.113.128/26"} {
		if _, msg := parseIPv4Prefix(s); msg != "" {
			t.Errorf("parseIPv4Prefix(%q) refused: %s", s, msg)
		}
	}
	for _, s := range []string{"0.0.0.0/0", "64.0.0.0/2", "127.1.0.0/16", "224.0.0.0/24", "192.0.0.0/2"} {
		if _, msg := parseIPv4Prefix(s); msg == "" {
			t.Errorf("parseIPv4Prefix(%q) accepted", s)
		}
	}
}

func TestImageNameLength(t *testing.T) {
	long := strings.Repeat("a", 256) + ":v1"
	if got, want := checkImageRef(long), "the image name is 256 characters; docker allows at most 255"; got != want {
		t.Errorf("checkImageRef(256 chars) = %q, want %q", got, want)
	}
}

func TestSplitDomain(t *testing.T) {
	tests := []struct{ ref, domain, rest string }{
		{"busybox:v1", "", "busybox:v1"},
		{"library/busybox", "", "library/busybox"},
		{"docker01/busybox:v1", "", "docker01/busybox:v1"},
		{"192.168.1.11/busybox:v1", "192.168.1.11", "busybox:v1"},
		{"docker01:5000/busybox:v1", "docker01:5000", "busybox:v1"},
		{"localhost/busybox", "localhost", "busybox"},
	}
	for _, tt := range tests {
		if d, r := splitDomain(tt.ref); d != tt.domain || r != tt.rest {
			t.Errorf("splitDomain(%q) = %q, %q; want %q, %q", tt.ref, d, r, tt.domain, tt.rest)
		}
	}
}

// Every optional [[container]] key decodes to what was written; MAC
// addresses are kept in lowercase, as docker reports them.
func TestContainerKeys(t *testing.T) {
	inv, err := Load("testdata/container-keys.toml")
	if err != nil {
		t.Fatal(err)
	}
	c := inv.Containers[0]
	got := fmt.Sprintf("%q %q %q %q %s %s %q %q %q %v", c.Entrypoint, c.Command, c.Env, c.Volumes, c.MACAddress, c.Hostname, c.Labels, c.CapAdd, c.DNS, c.Init)
	want := `["/bin/sh"] ["-c" "echo \"$TZ\" 'it''s'\nsleep 1d"] map["GREETING":"a 'quoted' $HOME\nline" "TZ":"Asia/Tokyo"] ["/srv/dns:/etc/dns:ro" "dnsdata:/var/lib/dns"] 02:42:ac:10:01:0a dns1.example.internal map["com.example.role":"dns"] ["NET_ADMIN" "NET_RAW"] ["192.0.2.53" "192.0.2.54"] true`
	if got != want {
		t.Errorf("decoded:\n%s\nwant:\n%s", got, want)
	}
	d := inv.Containers[1]
	if d.Command != nil || d.Entrypoint != nil || d.Env != nil || d.Volumes != nil || d.MACAddress != "" || d.Hostname != "" || d.Labels != nil || d.CapAdd != nil || d.DNS != nil || d.Init {
		t.Errorf("a container without the optional keys: %+v", d)
	}
}
