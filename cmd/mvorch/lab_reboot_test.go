package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mvorch/mvorch/testbed/labtest"
)

// hostAccess42 is the lab's 4.2 with host access on both networks for both
// hosts: addresses at the top of each /26, apart from the containers'.
func hostAccess42(t *testing.T, lab *labtest.Lab) string {
	t.Helper()
	return variant(t, lab.Inventory(),
		"vlan = 10\n", "vlan = 10\nhost_access = { docker01 = \"203.0.113.190\", docker02 = \"203.0.113.189\" }\n",
		"vlan = 20\n", "vlan = 20\nhost_access = { docker01 = \"203.0.113.254\", docker02 = \"203.0.113.253\" }\n")
}

type verifyOut struct {
	OK        bool
	Pairs     []json.RawMessage
	HostPairs []struct {
		From, To, FromHost, ToHost string
		FromKind                   string `json:"from_kind"`
		ToKind                     string `json:"to_kind"`
		ToAddr                     string `json:"to_addr"`
		Expect, Got                bool
	} `json:"host_pairs"`
	Problems []string
}

func verifyJSON(t *testing.T, lab *labtest.Lab, inv string) (verifyOut, labtest.Result) {
	t.Helper()
	var v verifyOut
	r := mvorch(t, lab, "verify", "--output", "json", inv)
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("verify json: %v\n%s\n%s", err, r.Stdout, r.Stderr)
	}
	return v, r
}

// settle waits until verify passes (labtest.VerifyUntilOK: after a reboot,
// docker is active before its containers have all started again) and
// returns its report.
func settle(t *testing.T, lab *labtest.Lab, inv string) verifyOut {
	t.Helper()
	var v verifyOut
	r := lab.VerifyUntilOK(t, inv, "the reboots", 60*time.Second)
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("verify json: %v\n%s", err, r.Stdout)
	}
	return v
}

// rebootBoth reboots docker01 cleanly and cuts docker02's power.
func rebootBoth(t *testing.T, lab *labtest.Lab) {
	t.Helper()
	lab.Reboot(t, "docker01", false)
	lab.Reboot(t, "docker02", true)
}

// checkHostPairs: every host pings each of its own containers and they ping
// its shim address, all answered, and verify lists exactly those pairs.
func checkHostPairs(t *testing.T, v verifyOut, containers map[string][]string) {
	t.Helper()
	seen := map[string]bool{}
	for _, p := range v.HostPairs {
		if !p.Expect || !p.Got {
			t.Errorf("host pair %+v: want expected and answered", p)
		}
		seen[p.FromKind+":"+p.From+">"+p.ToKind+":"+p.To] = true
	}
	n := 0
	for host, cs := range containers {
		for _, c := range cs {
			n += 2
			if !seen["host:"+host+">:"+c] || !seen[":"+c+">host:"+host] {
				t.Errorf("verify lacks %s <-> %s: %+v", host, c, v.HostPairs)
			}
		}
	}
	if len(v.HostPairs) != n {
		t.Errorf("%d host pairs, want %d: %+v", len(v.HostPairs), n, v.HostPairs)
	}
}

var lab42Containers = map[string][]string{"docker01": {"bbox10", "bbox20"}, "docker02": {"bbox11", "bbox21"}}

// Host access on both networks for both hosts: after run each host and its
// own containers ping each other (checked with real pings besides verify).
// Then docker01 reboots cleanly and docker02 loses power, and without
// mvorch: promisc is on, the shims and their routes are back, every
// container runs, verify passes and a plan has nothing to do. rollback --all
// then restores the snapshot from before the run.
func TestLabHostAccessSurvivesReboot(t *testing.T) {
	lab := labtest.Get(t)
	inv := hostAccess42(t, lab)
	before := lab.Snapshots(t)
	t.Cleanup(func() { resetLab(t, lab, inv, before) })

	out := runJSON(t, lab, inv)
	if !out.Verify.OK {
		t.Fatalf("run: %+v", out)
	}
	v, _ := verifyJSON(t, lab, inv)
	checkHostPairs(t, v, lab42Containers)
	for _, c := range []struct{ host, cmd string }{
		{"docker01", "ping -c1 -W2 203.0.113.130"},                    // docker01 -> bbox10
		{"docker01", "ping -c1 -W2 203.0.113.194"},                    // docker01 -> bbox20
		{"docker02", "ping -c1 -W2 203.0.113.195"},                    // docker02 -> bbox21
		{"docker01", "docker exec bbox10 ping -c1 -W2 203.0.113.190"}, // bbox10 -> docker01's shim
		{"docker02", "docker exec bbox11 ping -c1 -W2 203.0.113.189"}, // bbox11 -> docker02's shim
	} {
		if r := lab.Exec(t, c.host, c.cmd); r.Code != 0 {
			t.Errorf("%s: %s: %+v", c.host, c.cmd, r)
		}
	}
	text := mustMvorch(t, lab, "verify", inv).Stdout
	if !strings.Contains(text, "host docker01 -> bbox10: ok") || !strings.Contains(text, "bbox21 -> host docker02 (203.0.113.253): ok") {
		t.Errorf("verify's text does not show the host pairs:\n%s", text)
	}

	rebootBoth(t, lab)
	v = settle(t, lab, inv)
	checkHostPairs(t, v, lab42Containers)
	shims := map[string][][2]string{
		"docker01": {{"mv-ens33.10", "203.0.113.190/32"}, {"mv-ens33.20", "203.0.113.254/32"}},
		"docker02": {{"mv-ens33.10", "203.0.113.189/32"}, {"mv-ens33.20", "203.0.113.253/32"}},
	}
	for host, ss := range shims {
		checkPromisc(t, lab, host)
		for i, s := range ss {
			subnet := []string{"203.0.113.128/26", "203.0.113.192/26"}[i]
			link := lab.MustExec(t, host, "ip -d -o link show dev "+s[0]+"; ip -o -4 addr show dev "+s[0]+"; ip -o -4 route show dev "+s[0])
			for _, want := range []string{"macvlan mode bridge", s[1], subnet} {
				if !strings.Contains(link, want) {
					t.Errorf("%s after the reboot: %s lacks %q:\n%s", host, s[0], want, link)
				}
			}
		}
		checkRunning(t, lab, host)
	}
	if r := mvorch(t, lab, "plan", "--detailed-exitcode", inv); r.Code != 0 {
		t.Errorf("plan after the reboots: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
}

func checkPromisc(t *testing.T, lab *labtest.Lab, host string) {
	t.Helper()
	if l := lab.MustExec(t, host, "ip -o link show dev ens33"); !strings.Contains(l, "PROMISC") {
		t.Errorf("%s: ens33 is not promiscuous after the reboot: %s", host, l)
	}
}

func checkRunning(t *testing.T, lab *labtest.Lab, host string) {
	t.Helper()
	if r := lab.MustExec(t, host, "docker ps -a --filter status=exited --filter status=created --format '{{.Names}}'"); strings.TrimSpace(r) != "" {
		t.Errorf("%s: containers not running after the reboot: %s", host, r)
	}
}

// The article's 4.2 and 4.1 as they are (no host access) survive the same
// reboots: promisc on, the VLAN sub-interfaces and containers back, verify
// passes (each host's ping of its own container unanswered, as macvlan is),
// and a plan has nothing to do.
func TestLabRebootWithoutHostAccess(t *testing.T) {
	lab := labtest.Get(t)
	for _, c := range []struct {
		name, inv string
		vlan      bool
	}{{"4.2", lab.Inventory(), true}, {"4.1", lab.Inventory41(), false}} {
		t.Run(c.name, func(t *testing.T) {
			before := lab.Snapshots(t)
			t.Cleanup(func() { resetLab(t, lab, c.inv, before) })
			mustMvorch(t, lab, "run", c.inv)
			rebootBoth(t, lab)
			v := settle(t, lab, c.inv)
			if len(v.HostPairs) == 0 {
				t.Errorf("verify has no host pairs")
			}
			for _, p := range v.HostPairs {
				if p.Expect || p.Got || p.FromKind != "host" {
					t.Errorf("host pair without host access: %+v", p)
				}
			}
			for _, h := range lab.Hosts {
				checkPromisc(t, lab, h.Name)
				checkRunning(t, lab, h.Name)
				if c.vlan {
					if a := lab.MustExec(t, h.Name, "ip -o -4 addr show dev ens33.10; ip -o -4 addr show dev ens33.20"); strings.Count(a, "inet ") != 2 {
						t.Errorf("%s: VLAN sub-interfaces after the reboot:\n%s", h.Name, a)
					}
				}
			}
			if r := mvorch(t, lab, "plan", "--detailed-exitcode", c.inv); r.Code != 0 {
				t.Errorf("plan after the reboots: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
			}
		})
	}
}
