package labtest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// rootNS runs a command in the machine's root network namespace (the tests
// themselves run in the lab's controller namespace).
func rootNS(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"--net=" + labtest.Get(t).RootNetNS, "--"}, args...)...).Output()
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return string(out)
}

func rootSnapshot(t *testing.T) map[string]string {
	return map[string]string{
		"links":    rootNS(t, "ip", "-o", "link"),
		"addrs":    rootNS(t, "ip", "-o", "addr"),
		"routes":   rootNS(t, "ip", "route", "show", "table", "all"),
		"iptables": stripComments(rootNS(t, "iptables-save")),
	}
}

// iptables-save prints its own timestamps in comments.
func stripComments(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// A lab of its own goes up and down; the root network namespace is the same
// afterwards, and nothing of the lab is left: no namespace, process, mount,
// link or file.
func TestLabDownLeavesNothing(t *testing.T) {
	lab := labtest.Get(t)
	name := "mvlab-safety"
	dir := filepath.Join(t.TempDir(), "lab")
	env := append(os.Environ(), "MVLAB_NAME="+name, "MVLAB_DIR="+dir)
	script := func(args ...string) string {
		cmd := exec.Command("nsenter", append([]string{"--net=" + lab.RootNetNS, "--", lab.Script()}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("lab %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	script("down")
	before := rootSnapshot(t)
	script("up", "1")
	t.Cleanup(func() { script("down") })

	nsPids := strings.Fields(rootNS(t, "ip", "netns", "pids", name+"-docker01"))
	if len(nsPids) < 3 {
		t.Fatalf("lab host has %d processes (%v); want at least systemd, sshd, dockerd", len(nsPids), nsPids)
	}
	if out := script("ssh", "docker01", "docker run -d --name leftover busybox:latest sleep 1000 && hostname"); !strings.Contains(out, "docker01") {
		t.Fatalf("ssh into the safety lab: %q", out)
	}
	script("down")

	after := rootSnapshot(t)
	for k := range before {
		if before[k] != after[k] {
			t.Errorf("root namespace %s changed:\nbefore:\n%s\nafter:\n%s", k, before[k], after[k])
		}
	}
	for _, ns := range strings.Fields(rootNS(t, "ip", "netns", "list")) {
		if strings.HasPrefix(ns, name+"-") {
			t.Errorf("namespace %s left behind", ns)
		}
	}
	for _, pid := range nsPids {
		if _, err := os.Stat("/proc/" + pid); err == nil {
			t.Errorf("process %s of the lab host still runs", pid)
		}
	}
	ps, _ := exec.Command("ps", "-eo", "pid,args").Output()
	for _, line := range strings.Split(string(ps), "\n") {
		if strings.Contains(line, dir) || strings.Contains(line, "sleep 1000") {
			t.Errorf("process left behind: %s", line)
		}
	}
	// nspawn's cgroups: one per host in every hierarchy
	cgroups, _ := exec.Command("find", "/sys/fs/cgroup", "-maxdepth", "5", "-type", "d", "-name", name+"-*").Output()
	if s := strings.TrimSpace(string(cgroups)); s != "" {
		t.Errorf("cgroups left behind:\n%s", s)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), dir) || strings.Contains(string(mounts), "/run/netns/"+name+"-") {
		t.Errorf("mount left behind:\n%s", mounts)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("lab directory %s left behind", dir)
	}
}
