package runner

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/inventory"
)

// routedInventory: the lab's 4.2 layout on two hosts plus mac_net30 on
// docker01, with docker02 routing between mac_net10 and mac_net20.
func routedInventory() *inventory.Inventory {
	cts := append(labContainers(2), inventory.Container{Name: "bbox30", Host: "docker01", Network: "mac_net30"})
	return &inventory.Inventory{
		Networks:   []inventory.Network{{Name: "mac_net10"}, {Name: "mac_net20"}, {Name: "mac_net30"}},
		Containers: cts,
		Routers:    []inventory.Router{{Host: "docker02", Networks: []string{"mac_net10", "mac_net20"}}},
	}
}

// Pairs between the routed networks are expected to answer, through the
// router (routed_by); pairs with a network no router joins are not, both
// in the full matrix and in the sample.
func TestVerifyPairsRouted(t *testing.T) {
	inv := routedInventory()
	netOf := map[string]string{}
	for _, c := range inv.Containers {
		netOf[c.Host+"/"+c.Name] = c.Network
	}
	for _, full := range []bool{true, false} {
		pairs, _ := VerifyPairs(inv, full)
		if !full {
			// The sample: force it with many containers of the same layout.
			big := &inventory.Inventory{Routers: inv.Routers, Containers: labContainers(FullMatrixMax)}
			pairs, _ = VerifyPairs(big, false)
			for _, c := range big.Containers {
				netOf[c.Host+"/"+c.Name] = c.Network
			}
		}
		routed := 0
		for _, p := range pairs {
			a, b := netOf[p.FromHost+"/"+p.From], netOf[p.ToHost+"/"+p.To]
			wantRouted := a != b && a != "mac_net30" && b != "mac_net30"
			if p.Expect != (a == b || wantRouted) || (p.RoutedBy == "docker02") != wantRouted {
				t.Errorf("full=%v: %+v (%s -> %s)", full, p, a, b)
			}
			if wantRouted {
				routed++
			}
		}
		if routed == 0 {
			t.Errorf("full=%v: no routed pair", full)
		}
	}
}

// The matrix marks routed pairs rt, says what rt means and which host
// routes which networks; a routed pair that got no answer is a FAIL.
func TestVerifyTextRouted(t *testing.T) {
	rep := &VerifyReport{Mode: "full", Containers: []string{"bbox10", "bbox20"},
		Routers: []VerifyRouter{{Host: "docker02", Networks: []string{"mac_net10", "mac_net20"}}},
		Pairs: []Pair{
			{From: "bbox10", FromHost: "docker01", To: "bbox20", ToHost: "docker01", Expect: true, Got: true, RoutedBy: "docker02"},
			{From: "bbox20", FromHost: "docker01", To: "bbox10", ToHost: "docker01", Expect: true, Got: false, RoutedBy: "docker02"},
		}}
	var b bytes.Buffer
	WriteVerifyText(&b, rep)
	for _, want := range []string{
		"bbox10  .       rt      \n", "bbox20  FAIL    .       \n",
		"rt: reachable through a router, as expected",
		"routed: docker02 forwards between mac_net10, mac_net20\n",
		"Verify: 1 of 2 pairs differ from what is expected.",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}
