package main

import (
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
