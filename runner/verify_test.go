package runner

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/inventory"
)

// labContainers is the lab's section 4.2 layout: on each of n hosts one
// container in mac_net10 and one in mac_net20.
func labContainers(n int) []inventory.Container {
	var cts []inventory.Container
	for i := 1; i <= n; i++ {
		for _, v := range []int{10, 20} {
			cts = append(cts, inventory.Container{Name: fmt.Sprintf("bbox%d-%02d", v, i), Host: fmt.Sprintf("docker%02d", i), Network: fmt.Sprintf("mac_net%d", v)})
		}
	}
	return cts
}

func TestVerifyPairsFullMatrixWhenSmall(t *testing.T) {
	cts := labContainers(2)
	pairs, mode := VerifyPairs(&inventory.Inventory{Containers: cts}, false)
	if mode != "full" || len(pairs) != 12 {
		t.Fatalf("mode %s, %d pairs; want full, 12", mode, len(pairs))
	}
	want := map[string]bool{"bbox10-01>bbox10-02": true, "bbox10-01>bbox20-02": false, "bbox20-02>bbox20-01": true, "bbox10-01>bbox20-01": false}
	for _, p := range pairs {
		if p.From == p.To {
			t.Errorf("a container pings itself: %+v", p)
		}
		if e, ok := want[p.From+">"+p.To]; ok && e != p.Expect {
			t.Errorf("%s -> %s: expect %v", p.From, p.To, p.Expect)
		}
	}
	// 13 hosts: 26 containers, over FullMatrixMax, unless --full.
	if _, mode := VerifyPairs(&inventory.Inventory{Containers: labContainers(13)}, true); mode != "full" {
		t.Errorf("--full gave %s", mode)
	}
}

// Beyond FullMatrixMax: linear in the containers, every container sends and
// is answered once within its network, and isolation from each other
// network is checked from every container.
func TestVerifyPairsSampledWhenLarge(t *testing.T) {
	cts := labContainers(50)
	pairs, mode := VerifyPairs(&inventory.Inventory{Containers: cts}, false)
	if mode != "sampled" || len(pairs) != 200 {
		t.Fatalf("mode %s, %d pairs; want sampled, 200", mode, len(pairs))
	}
	netOf := map[string]string{}
	for _, c := range cts {
		netOf[c.Name] = c.Network
	}
	sends, answers, isolated := map[string]int{}, map[string]int{}, map[string]int{}
	for _, p := range pairs {
		if p.Expect != (netOf[p.From] == netOf[p.To]) || p.From == p.To {
			t.Errorf("bad pair %+v", p)
		}
		if p.Expect {
			sends[p.From]++
			answers[p.To]++
		} else {
			isolated[p.From]++
		}
	}
	for _, c := range cts {
		if sends[c.Name] != 1 || answers[c.Name] != 1 || isolated[c.Name] != 1 {
			t.Errorf("%s: sends %d, answers %d, isolation checks %d; want 1 each", c.Name, sends[c.Name], answers[c.Name], isolated[c.Name])
		}
	}
	// The ring links consecutive hosts: docker01's container pings docker02's.
	if pairs[0].From != "bbox10-01" || pairs[0].To != "bbox10-02" {
		t.Errorf("first pair %+v", pairs[0])
	}
}

// A network with a single container has no peer to ping, but is still
// checked for isolation from the others and pinged by nobody by mistake.
func TestVerifyPairsLoneContainer(t *testing.T) {
	cts := labContainers(13)
	cts = append(cts, inventory.Container{Name: "lone", Host: "docker01", Network: "mac_net30"})
	pairs, _ := VerifyPairs(&inventory.Inventory{Containers: cts}, false)
	for _, p := range pairs {
		if p.From == "lone" && p.Expect || p.To == "lone" && p.Expect {
			t.Errorf("lone container expected to reach or be reached: %+v", p)
		}
	}
}

// Container names are unique per host only: two hosts may each run a
// "web". Pairs carry hosts, nobody pings itself, and the output tells the
// two apart as web@docker01 and web@docker02 (other names stay bare).
func TestVerifySameNameOnTwoHosts(t *testing.T) {
	cts := []inventory.Container{
		{Name: "web", Host: "docker01", Network: "n10"},
		{Name: "db", Host: "docker01", Network: "n20"},
		{Name: "web", Host: "docker02", Network: "n10"},
	}
	pairs, _ := VerifyPairs(&inventory.Inventory{Containers: cts}, false)
	if len(pairs) != 6 {
		t.Fatalf("%d pairs, want 6: %+v", len(pairs), pairs)
	}
	for _, p := range pairs {
		if p.From == p.To && p.FromHost == p.ToHost {
			t.Errorf("a container pings itself: %+v", p)
		}
		if p.FromHost == "" || p.ToHost == "" {
			t.Errorf("pair without hosts: %+v", p)
		}
	}
	for i := range pairs {
		pairs[i].Got = pairs[i].Expect
	}
	pairs[0].Got = !pairs[0].Got // web@docker01 -> db@docker01 answers: a leak
	var b strings.Builder
	WriteVerifyText(&b, &VerifyReport{Pairs: pairs, Mode: "full", Containers: []string{"web@docker01", "db", "web@docker02"}})
	for _, want := range []string{
		"web@docker01  .             LEAK          ok",
		"web@docker02  ok            --            .",
		"Verify: 1 of 6 pairs differ",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	WriteVerifyText(&b, &VerifyReport{Pairs: pairs, Mode: "sampled"})
	if want := "LEAK  web@docker01 -> db: answered"; !strings.Contains(b.String(), want) {
		t.Errorf("sampled output lacks %q:\n%s", want, b.String())
	}
}
