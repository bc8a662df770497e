package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/runner"
	"github.com/mvorch/mvorch/testbed/labtest"
)

// Beyond runner.FullMatrixMax containers verify samples: each container
// pings the next of its network (a ring over both hosts) rather than every
// other one. Real pings, real containers: all answer, then a paused
// container is reported and the ring's ping to it fails, naming the pair.
func TestLabVerifySampledBeyondFullMatrix(t *testing.T) {
	lab := labtest.Get(t)
	base := lab.Inventory41()
	data, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	var extra strings.Builder
	n := runner.FullMatrixMax // with the two of section 4.1: FullMatrixMax+2 containers
	for i := 0; i < n; i++ {
		fmt.Fprintf(&extra, "\n[[container]]\nname = \"many%02d\"\nhost = \"docker%02d\"\nnetwork = \"mac_net1\"\nip = \"203.0.113.%d\"\nimage = \"busybox:latest\"\n",
			i, 1+i%2, 160+i)
	}
	inv := filepath.Join(t.TempDir(), "many.toml")
	if err := os.WriteFile(inv, append(data, extra.String()...), 0o644); err != nil {
		t.Fatal(err)
	}
	before := lab.Snapshots(t)
	t.Cleanup(func() {
		lab.Exec(t, "docker02", "docker unpause many01")
		resetLab(t, lab, inv, before)
	})
	out := runJSON(t, lab, inv)
	if !out.Verify.OK || len(out.Verify.Pairs) != n+2 {
		t.Fatalf("run: verify ok %v with %d pairs, want true with %d (one per container)", out.Verify.OK, len(out.Verify.Pairs), n+2)
	}
	// --full still gives the whole matrix.
	full := mustMvorch(t, lab, "verify", "--full", inv)
	if want := fmt.Sprintf("Verify: all %d pairs as expected.", (n+2)*(n+1)); !strings.Contains(full.Stdout, want) {
		t.Errorf("verify --full lacks %q:\n%s", want, full.Stdout)
	}
	lab.MustExec(t, "docker02", "docker pause many01")
	r := mvorch(t, lab, "verify", inv)
	if r.Code != 1 {
		t.Fatalf("verify with a paused container: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{
		"could not ping from many01 on docker02: container is paused",
		"FAIL  many01 -> many02: no answer, but they share a network",
		"pairs differ from what is expected",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, r.Stdout)
		}
	}
}

// A router between the two VLANs (docker02 holding both macvlan networks'
// gateway addresses, forwarding between its VLAN interfaces) makes
// containers of different networks answer each other. verify must see
// every one of those answers as a LEAK: pings that are expected to go
// unanswered get a bounded wait, and this is what that wait must not miss.
func TestLabVerifyReportsLeakThroughRouter(t *testing.T) {
	lab, inv := builtArticle42(t)
	forward := strings.TrimSpace(lab.MustExec(t, "docker02", "sysctl -n net.ipv4.ip_forward"))
	// Registered after resetLab, so it runs before it: the snapshot has the
	// addresses. The lab's VLAN interfaces are macvlans of ens33 (its kernel
	// has no 8021q), and routed frames may come in on ens33 itself: the
	// router forwards between all of them.
	t.Cleanup(func() {
		lab.Exec(t, "docker02", "ip addr del 203.0.113.129/26 dev ens33.10; ip addr del 203.0.113.193/26 dev ens33.20; "+
			"iptables -D FORWARD -i ens33+ -o ens33+ -j ACCEPT; sysctl -qw net.ipv4.ip_forward="+forward)
	})
	lab.MustExec(t, "docker02", "ip addr add 203.0.113.129/26 dev ens33.10 && ip addr add 203.0.113.193/26 dev ens33.20 && "+
		"sysctl -qw net.ipv4.ip_forward=1 && iptables -I FORWARD 1 -i ens33+ -o ens33+ -j ACCEPT")
	// The run's own verify asked, in vain then, for the gateways' addresses:
	// for about 3 s a container's kernel holds such an entry as INCOMPLETE
	// and asks again only at its next ARP retry, up to a second later, past
	// verify's wait. A router that is there all along answers the first
	// request, so the containers are made to ask anew.
	for _, h := range []string{"docker01", "docker02"} {
		lab.MustExec(t, h, `for c in $(docker ps -q); do nsenter -t "$(docker inspect -f '{{.State.Pid}}' "$c")" -n ip neigh flush all; done`)
	}
	r := mvorch(t, lab, "verify", "--output", "json", inv)
	var v runner.VerifyReport
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil || r.Code != 1 || v.OK {
		t.Fatalf("verify through a router: exit %d, ok %v, %v\n%s\n%s", r.Code, v.OK, err, r.Stdout, r.Stderr)
	}
	leaks := 0
	for _, p := range v.Pairs {
		switch {
		case p.Expect && !p.Got:
			t.Errorf("%s -> %s: same network, no answer", p.From, p.To)
		case !p.Expect && !p.Got:
			t.Errorf("%s -> %s: answered through the router, but verify saw no answer", p.From, p.To)
		case !p.Expect:
			leaks++
		}
	}
	if leaks != 8 {
		t.Errorf("%d leaks, want 8 (every pair of different networks)", leaks)
	}
	text := mvorch(t, lab, "verify", inv)
	for _, want := range []string{"bbox10  .       LEAK    ok      LEAK", "Verify: 8 of 12 pairs differ from what is expected."} {
		if !strings.Contains(text.Stdout, want) {
			t.Errorf("verify text lacks %q:\n%s", want, text.Stdout)
		}
	}
}

// Container names are unique per host, not across hosts. With the same two
// names on both hosts every ping still goes to the right address and is
// credited to the right pair, and the output tells the containers apart.
func TestLabVerifySameNamesOnBothHosts(t *testing.T) {
	lab := labtest.Get(t)
	inv := variant(t, lab.Inventory(), `name = "bbox11"`, `name = "bbox10"`, `name = "bbox21"`, `name = "bbox20"`)
	before := lab.Snapshots(t)
	t.Cleanup(func() { resetLab(t, lab, inv, before) })
	out := runJSON(t, lab, inv)
	if !out.Verify.OK || len(out.Verify.Pairs) != 12 {
		t.Fatalf("run: verify ok %v with %d pairs, want true with 12: %+v", out.Verify.OK, len(out.Verify.Pairs), out.Verify)
	}
	lab.MustExec(t, "docker02", "docker pause bbox20")
	t.Cleanup(func() { lab.Exec(t, "docker02", "docker unpause bbox20") })
	// A paused container's network namespace still answers; it only cannot
	// ping: the one pair that differs is its ping to its namesake's peer.
	r := mvorch(t, lab, "verify", inv)
	rows := map[string]string{}
	for _, line := range strings.Split(r.Stdout, "\n") {
		if f := strings.Fields(line); len(f) == 5 {
			rows[f[0]] = strings.Join(f[1:], " ")
		}
	}
	for row, want := range map[string]string{
		"bbox10@docker01": ". -- ok --",
		"bbox20@docker01": "-- . -- ok",
		"bbox10@docker02": "ok -- . --",
		"bbox20@docker02": "-- FAIL -- .",
	} {
		if rows[row] != want {
			t.Errorf("row %s: %q, want %q\n%s", row, rows[row], want, r.Stdout)
		}
	}
	for _, want := range []string{"could not ping from bbox20 on docker02: container is paused", "Verify: 1 of 12 pairs differ"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("verify with docker02's bbox20 paused lacks %q:\n%s", want, r.Stdout)
		}
	}
}
