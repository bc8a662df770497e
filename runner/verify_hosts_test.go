package runner

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/inventory"
)

// With host access on mac_net10 for docker01 only: docker01 and bbox10 ping
// each other (expected), docker02 pings bbox11 (not expected: no shim), and
// nobody pings across hosts.
func TestHostPairs(t *testing.T) {
	inv := &inventory.Inventory{
		Hosts: []inventory.Host{{Name: "docker01"}, {Name: "docker02"}},
		Networks: []inventory.Network{{Name: "mac_net10",
			HostAccess: []inventory.HostAccess{{Host: "docker01", Addr: netip.MustParseAddr("172.16.10.250")}}}},
		Containers: []inventory.Container{
			{Name: "bbox10", Host: "docker01", Network: "mac_net10"},
			{Name: "bbox11", Host: "docker02", Network: "mac_net10"},
		},
	}
	got := HostPairs(inv)
	want := []Pair{
		{From: "docker01", FromHost: "docker01", FromKind: KindHost, To: "bbox10", ToHost: "docker01", Expect: true},
		{From: "bbox10", FromHost: "docker01", To: "docker01", ToHost: "docker01", ToKind: KindHost, ToAddr: "172.16.10.250", Expect: true},
		{From: "docker02", FromHost: "docker02", FromKind: KindHost, To: "bbox11", ToHost: "docker02", Expect: false},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d pairs %+v, want %+v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("pair %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// Host pairs are listed under the matrix; one that differs counts as a
// difference and is named.
func TestVerifyTextShowsHostPairs(t *testing.T) {
	rep := &VerifyReport{Mode: "full", Containers: []string{"bbox10"}, HostPairs: []Pair{
		{From: "docker01", FromHost: "docker01", FromKind: KindHost, To: "bbox10", ToHost: "docker01", Expect: true, Got: true},
		{From: "bbox10", FromHost: "docker01", To: "docker01", ToHost: "docker01", ToKind: KindHost, ToAddr: "172.16.10.250", Expect: true, Got: false},
	}}
	var b bytes.Buffer
	WriteVerifyText(&b, rep)
	for _, want := range []string{
		"  host docker01 -> bbox10: ok\n",
		"  bbox10 -> host docker01 (172.16.10.250): FAIL: no answer, with host access\n",
		"Hosts: 1 of 2 pings differ from what is expected.\nVerify: all 0 pairs of containers as expected; the hosts' pings above differ.",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}
