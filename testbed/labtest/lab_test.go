package labtest_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mvorch/mvorch/testbed/labtest"
)

func TestMain(m *testing.M) { labtest.Main(m, 2) }

// The real OpenSSH client with StrictHostKeyChecking=yes reaches each host,
// and refuses a host whose key is not in known_hosts.
func TestLabSSHStrictHostKeys(t *testing.T) {
	lab := labtest.Get(t)
	for _, h := range lab.Hosts {
		got := strings.TrimSpace(lab.MustExec(t, h.Name, "hostname"))
		if got != h.Name {
			t.Errorf("hostname on %s = %q", h.Addr, got)
		}
	}
	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ssh", "-i", lab.Key(), "-o", "UserKnownHostsFile="+empty,
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "root@"+lab.Hosts[0].Addr, "true").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Host key verification failed") {
		t.Errorf("ssh with an empty known_hosts: err=%v, output %q; want host key verification to fail", err, out)
	}
}

// Each host's docker CLI talks to its own dockerd.
func TestLabDockerPerHost(t *testing.T) {
	lab := labtest.Get(t)
	ids := map[string]string{}
	for _, h := range lab.Hosts {
		out := strings.Fields(lab.MustExec(t, h.Name, "docker info --format '{{.Name}} {{.ID}}'"))
		if len(out) != 2 || out[0] != h.Name {
			t.Fatalf("%s: docker info = %q, want the host's own name", h.Name, out)
		}
		if other, dup := ids[out[1]]; dup {
			t.Errorf("%s and %s share dockerd %s", other, h.Name, out[1])
		}
		ids[out[1]] = h.Name
		images := lab.MustExec(t, h.Name, "docker images --format '{{.Repository}}:{{.Tag}}'")
		if !strings.Contains(images, "busybox:latest") {
			t.Errorf("%s: busybox:latest missing: %q", h.Name, images)
		}
		if hasRegistry := strings.Contains(images, "registry:latest"); hasRegistry != (h.Name == "docker01") {
			t.Errorf("%s: registry:latest present=%v, want only on docker01", h.Name, hasRegistry)
		}
	}
}

// A file written under /etc/sysconfig/network-scripts on one host exists on
// no other host and not on the machine.
func TestLabFilesArePerHost(t *testing.T) {
	lab := labtest.Get(t)
	name := fmt.Sprintf("ifcfg-labtest%d", time.Now().UnixNano())
	path := "/etc/sysconfig/network-scripts/" + name
	lab.MustExec(t, "docker01", "echo DEVICE=x > "+path)
	t.Cleanup(func() { lab.Exec(t, "docker01", "rm -f "+path) })
	if r := lab.Exec(t, "docker01", "cat "+path); r.Code != 0 || r.Stdout != "DEVICE=x\n" {
		t.Fatalf("docker01 does not read back its own file: %+v", r)
	}
	if r := lab.Exec(t, "docker02", "test -e "+path); r.Code == 0 {
		t.Errorf("%s written on docker01 exists on docker02", path)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s written on docker01 exists on the machine (stat: %v)", path, err)
	}
	if _, err := os.Stat("/etc/sysconfig/network-scripts"); err == nil {
		t.Errorf("/etc/sysconfig/network-scripts exists on the machine: the lab leaked into /etc")
	}
}

// Pushing to the private registry fails until docker.service trusts it;
// a restart without daemon-reload keeps the old ExecStart.
func TestLabRegistryTrustNeedsDaemonReload(t *testing.T) {
	lab := labtest.Get(t)
	reg := lab.Host(t, "docker01").Addr + ":5000"
	ref := reg + "/busybox:labtest"
	dropin := "/etc/systemd/system/docker.service.d/labtest.conf"
	t.Cleanup(func() {
		lab.Exec(t, "docker01", "docker rm -f labtest-registry; docker rmi "+ref+"; rm -f "+dropin+
			"; systemctl daemon-reload; systemctl restart docker")
	})
	lab.MustExec(t, "docker01", "docker run -itd --name labtest-registry -p 5000:5000 --restart=always registry:latest")
	waitFor(t, func() bool { return lab.Exec(t, "docker01", "wget -qO- http://"+reg+"/v2/").Code == 0 })
	lab.MustExec(t, "docker01", "docker tag busybox:latest "+ref)

	push := func() labtest.Result { return lab.Exec(t, "docker01", "docker push "+ref) }
	if r := push(); r.Code == 0 || !strings.Contains(r.Stderr, "server gave HTTP response to HTTPS client") {
		t.Fatalf("push before trust: %+v; want the HTTPS error", r)
	}
	lab.MustExec(t, "docker01", "mkdir -p /etc/systemd/system/docker.service.d && printf '[Service]\\nExecStart=\\nExecStart=/usr/sbin/dockerd -H unix:///var/run/docker.sock --insecure-registry "+reg+"\\n' > "+dropin)

	// (systemd 252 prints its "changed on disk" warning only for drop-in
	// directories it already knew: this one is new, so no warning)
	if r := lab.Exec(t, "docker01", "systemctl restart docker"); r.Code != 0 {
		t.Errorf("restart without daemon-reload: %+v; want success", r)
	}
	if cmdline := dockerdCmdline(t, lab); strings.Contains(cmdline, "--insecure-registry") {
		t.Errorf("dockerd runs %q after a restart without daemon-reload; want the old ExecStart", cmdline)
	}
	if r := push(); r.Code == 0 {
		t.Fatalf("push succeeded after a restart without daemon-reload")
	}

	lab.MustExec(t, "docker01", "systemctl daemon-reload && systemctl restart docker")
	if cmdline := dockerdCmdline(t, lab); !strings.Contains(cmdline, "--insecure-registry "+reg) {
		t.Errorf("dockerd runs %q after daemon-reload + restart", cmdline)
	}
	waitFor(t, func() bool { return lab.Exec(t, "docker01", "wget -qO- http://"+reg+"/v2/").Code == 0 })
	if r := push(); r.Code != 0 {
		t.Fatalf("push after trust: %+v", r)
	}
}

func dockerdCmdline(t *testing.T, lab *labtest.Lab) string {
	t.Helper()
	return strings.TrimSpace(lab.MustExec(t, "docker01", "tr '\\0' ' ' < /proc/$(systemctl show -p MainPID --value docker)/cmdline"))
}

// Containers on a macvlan network on ens33 ping each other across hosts.
func TestLabMacvlanAcrossHosts(t *testing.T) {
	lab := labtest.Get(t)
	for i, h := range []string{"docker01", "docker02"} {
		h := h
		t.Cleanup(func() { lab.Exec(t, h, "docker rm -f labtest-c; docker network rm labtest-net") })
		lab.MustExec(t, h, "ip link set ens33 promisc on && docker network create -d macvlan --subnet 203.0.113.128/26 "+
			"--gateway 203.0.113.129 -o parent=ens33 labtest-net")
		lab.MustExec(t, h, fmt.Sprintf("docker run -itd --name labtest-c --network labtest-net --ip 203.0.113.%d busybox:latest", 140+i))
	}
	if r := lab.Exec(t, "docker01", "docker exec labtest-c ping -c1 -W2 203.0.113.141"); r.Code != 0 {
		t.Errorf("docker01 -> docker02 ping failed: %+v", r)
	}
	if r := lab.Exec(t, "docker02", "docker exec labtest-c ping -c1 -W2 203.0.113.140"); r.Code != 0 {
		t.Errorf("docker02 -> docker01 ping failed: %+v", r)
	}
	// A macvlan child cannot reach its own parent (the article's section 3).
	if r := lab.Exec(t, "docker01", "docker exec labtest-c ping -c1 -W1 "+lab.Host(t, "docker01").Addr); r.Code == 0 {
		t.Errorf("container reached its parent host; the lab's macvlan does not behave like the article's")
	}
}

// ifup brings a VLAN=yes ifcfg file up as an interface of that name; ifdown
// removes it. modprobe 8021q shows in /sys/module on that host only.
func TestLabIfupAndModprobe(t *testing.T) {
	lab := labtest.Get(t)
	cfg := "/etc/sysconfig/network-scripts/ifcfg-ens33.30"
	t.Cleanup(func() { lab.Exec(t, "docker01", "ifdown ifcfg-ens33.30; rm -f "+cfg+"; modprobe -r 8021q") })
	lab.MustExec(t, "docker01", "printf 'BOOTPROTO=none\\nNAME=ens33.30\\nDEVICE=ens33.30\\nONBOOT=yes\\nIPADDR=203.0.113.20\\nPREFIX=26\\nGATEWAY=203.0.113.1\\nVLAN=yes\\n' > "+cfg)
	lab.MustExec(t, "docker01", "ifup ifcfg-ens33.30")
	if out := lab.MustExec(t, "docker01", "ip -o addr show dev ens33.30"); !strings.Contains(out, "203.0.113.20/26") {
		t.Errorf("ens33.30 after ifup: %q", out)
	}
	lab.MustExec(t, "docker01", "ifdown ifcfg-ens33.30")
	if r := lab.Exec(t, "docker01", "ip link show ens33.30"); r.Code == 0 {
		t.Errorf("ens33.30 still exists after ifdown")
	}
	if r := lab.Exec(t, "docker01", "ifup ifcfg-nosuch"); r.Code == 0 || !strings.Contains(r.Stderr, "not found") {
		t.Errorf("ifup of a missing file: %+v", r)
	}

	if r := lab.Exec(t, "docker01", "test -d /sys/module/8021q"); r.Code == 0 {
		t.Fatalf("8021q loaded before modprobe")
	}
	lab.MustExec(t, "docker01", "modinfo 8021q >/dev/null && modprobe 8021q && test -d /sys/module/8021q")
	if r := lab.Exec(t, "docker02", "test -d /sys/module/8021q"); r.Code == 0 {
		t.Errorf("modprobe on docker01 shows 8021q on docker02")
	}
}

// waitFor polls cond with a short backoff for up to 30 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	delay := 50 * time.Millisecond
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if cond() {
			return
		}
		time.Sleep(delay)
		delay = min(delay*2, time.Second)
	}
	t.Fatal("condition not met in 30 s")
}
