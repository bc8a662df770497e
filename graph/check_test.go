package graph

import (
	"strings"
	"testing"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner"
)

// ReadResult takes verify's JSON or run's (its "verify"), and says what is
// wrong with anything else.
func TestReadResult(t *testing.T) {
	pair := `{"from": "bbox10", "to": "bbox11", "expect": true, "got": false, "from_host": "docker01", "to_host": "docker02"}`
	for _, c := range []struct{ in, err string }{
		{`{"ok": false, "pairs": [` + pair + `], "mode": "full"}`, ""},
		{`{"summary": {}, "changes": [], "verify": {"ok": false, "pairs": [` + pair + `]}}`, ""},
		{`{"summary": {}, "changes": [], "verify": null}`, `no "pairs"`},
		{`{"summary": {}}`, `no "pairs"`},
		{`[ssh]`, "reading verify's JSON"},
	} {
		res, err := ReadResult(strings.NewReader(c.in))
		switch {
		case c.err == "" && (err != nil || len(res.Pairs) != 1 || res.Pairs[0].ToHost != "docker02" || res.Pairs[0].Got):
			t.Errorf("%s: %+v, %v", c.in, res, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want %q", c.in, err, c.err)
		}
	}
}

// A pair is tied to its containers by name and host; a result that names
// a container the inventory lacks, or a shared name without its host, is
// refused rather than drawn on the wrong container.
func TestCheckNamesContainers(t *testing.T) {
	inv, err := inventory.Load(article42)
	if err != nil {
		t.Fatal(err)
	}
	// The same name on both hosts (verify tells them apart by host).
	inv.Containers[2].Name = "bbox10"
	ok := &Result{Pairs: []runner.Pair{{From: "bbox10", FromHost: "docker01", To: "bbox10", ToHost: "docker02", Expect: true, Got: true}}}
	top, err := Build(inv, ok)
	if err != nil || top.Check.Pairs[0].From != 0 || top.Check.Pairs[0].To != 2 {
		t.Fatalf("pair by name and host: %+v, %v", top.Check, err)
	}
	if top.Containers[0].Label != "bbox10@docker01" || top.Containers[1].Label != "bbox20" {
		t.Errorf("labels %q %q: a shared name is NAME@HOST, as verify prints it", top.Containers[0].Label, top.Containers[1].Label)
	}
	for _, c := range []struct {
		p    runner.Pair
		want string
	}{
		{runner.Pair{From: "bbox10", To: "bbox20", ToHost: "docker01"}, "names container bbox10 without its host, and more than one host has it"},
		{runner.Pair{From: "bbox20", FromHost: "docker02", To: "bbox20", ToHost: "docker01"}, "names container bbox20 on docker02, which the inventory does not have"},
		{runner.Pair{From: "bbox20", To: "nope"}, "names container nope, which"},
	} {
		if _, err := Build(inv, &Result{Pairs: []runner.Pair{c.p}}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.p, err, c.want)
		}
	}
}

// links: what answered or should have, one line per pair of containers
// and status, both ways when both directions agree.
func TestLinks(t *testing.T) {
	c := &Check{Pairs: []Pair{
		{From: 0, To: 1, Expect: true, Got: true},
		{From: 1, To: 0, Expect: true, Got: true},
		{From: 0, To: 2, Expect: false, Got: false},
		{From: 2, To: 3, Expect: true, Got: false},
		{From: 3, To: 2, Expect: true, Got: true},
		{From: 3, To: 0, Expect: false, Got: true},
	}}
	got := c.links(false)
	want := []Link{{A: 0, B: 1, Status: StatusOK, Both: true}, {A: 2, B: 3, Status: StatusFail}, {A: 3, B: 2, Status: StatusOK}, {A: 3, B: 0, Status: StatusLeak}}
	if len(got) != len(want) {
		t.Fatalf("links %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("link %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if bad := c.links(true); len(bad) != 2 || c.Bad() != 2 {
		t.Errorf("bad links %+v, Bad %d; want the FAIL and the LEAK", bad, c.Bad())
	}
}
