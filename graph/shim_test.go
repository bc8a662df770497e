package graph

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/inventory"
)

// article42AccessRouter is the article's 4.2 with host access for docker01
// on mac_net10 and docker02 routing between mac_net10 and mac_net20, as
// inventory.toml.example shows them commented out.
func article42AccessRouter(t *testing.T) *Topology {
	t.Helper()
	data, err := os.ReadFile(article42)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, r := range [][2]string{
		{`# host_access = { docker01 = "172.16.10.250", docker02 = "172.16.10.251" }`, `host_access = { docker01 = "172.16.10.250" }`},
		{"# [[router]]\n# host = \"docker02\"\n# networks = [", "[[router]]\nhost = \"docker02\"\nnetworks = ["},
	} {
		if !strings.Contains(s, r[0]) {
			t.Fatalf("%s no longer holds %q", article42, r[0])
		}
		s = strings.Replace(s, r[0], r[1], 1)
	}
	inv, err := inventory.Parse(article42, []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	top, err := Build(inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// Host-access shims and a router's gateways are drawn on their hosts, in
// every format, with the networks the router forwards between.
func TestShimsAndRouterAreDrawn(t *testing.T) {
	top := article42AccessRouter(t)
	want := map[string][]string{
		"svg": {"host access mv-ens33.10 172.16.10.250", "router mv-ens33.10 gw 172.16.10.1", "router mv-ens33.20 gw 172.16.20.1", "forwards mac_net10 <-> mac_net20"},
		"dot": {`"docker01/shim/mv-ens33.10" [label="host access\nmv-ens33.10\n172.16.10.250"`, `"docker02/shim/mv-ens33.20" -> "network/mac_net20"`,
			`"network/mac_net10" -> "network/mac_net20" [label="routed by docker02"`},
		"mermaid": {`h0_s0[/"host access mv-ens33.10 172.16.10.250"/]`, `h1_s1[/"router mv-ens33.20 gw 172.16.20.1"/]`, "h1_s1 -.- n1",
			`n0 ==>|"routed by docker02"| n1`},
	}
	for format, needles := range want {
		var b bytes.Buffer
		if err := Write(&b, top, format); err != nil {
			t.Fatal(err)
		}
		got := b.String()
		if format == "svg" {
			got = svgText(t, b.Bytes())
		}
		for _, n := range needles {
			if !strings.Contains(got, n) {
				t.Errorf("%s lacks %q:\n%s", format, n, got)
			}
		}
	}
	// Without them, nothing of the kind is drawn.
	var b bytes.Buffer
	if err := Write(&b, load(t, article42, ""), "svg"); err != nil {
		t.Fatal(err)
	}
	if s := svgText(t, b.Bytes()); strings.Contains(s, "host access") || strings.Contains(s, "forwards") {
		t.Errorf("the plain 4.2 draws shims or a router:\n%s", s)
	}
}
