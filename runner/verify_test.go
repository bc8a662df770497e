package runner

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

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
		if e, ok := want[p.From+">"+p.To]; ok {
			if e != p.Expect {
				t.Errorf("%s -> %s: expect %v", p.From, p.To, p.Expect)
			}
			delete(want, p.From+">"+p.To)
		}
	}
	for k := range want {
		t.Errorf("no pair %s", k)
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
	pairs, mode := VerifyPairs(&inventory.Inventory{Containers: cts}, false)
	if mode != "sampled" {
		t.Fatalf("mode %s with %d containers", mode, len(cts))
	}
	from, to := map[string]bool{}, 0
	for _, p := range pairs {
		if p.From == "lone" && p.Expect || p.To == "lone" && p.Expect {
			t.Errorf("lone container expected to reach or be reached: %+v", p)
		}
		if p.From == "lone" {
			from[p.To[:len("bboxNN")]] = true
		}
		if p.To == "lone" {
			to++
		}
	}
	// It is checked for isolation from each other network, and every other
	// container checks its isolation from the lone one's network.
	if !from["bbox10"] || !from["bbox20"] || len(from) != 2 {
		t.Errorf("lone pings the networks of %v, want mac_net10's and mac_net20's", from)
	}
	if to != len(cts)-1 {
		t.Errorf("lone is pinged %d times, want %d (once by every other container)", to, len(cts)-1)
	}
}

// The full matrix goes up to FullMatrixMax containers exactly; one more and
// verify samples.
func TestVerifyPairsAtTheFullMatrixLimit(t *testing.T) {
	cts := labContainers(13)
	if pairs, mode := VerifyPairs(&inventory.Inventory{Containers: cts[:FullMatrixMax]}, false); mode != "full" || len(pairs) != FullMatrixMax*(FullMatrixMax-1) {
		t.Errorf("%d containers: %s with %d pairs, want full with %d", FullMatrixMax, mode, len(pairs), FullMatrixMax*(FullMatrixMax-1))
	}
	if pairs, mode := VerifyPairs(&inventory.Inventory{Containers: cts[:FullMatrixMax+1]}, false); mode != "sampled" || len(pairs) >= FullMatrixMax*(FullMatrixMax+1) {
		t.Errorf("%d containers: %s with %d pairs, want sampled", FullMatrixMax+1, mode, len(pairs))
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

// A container that should run and does not is a failed check even when no
// pair shows it (alone on its network, nothing expects its answer): the
// report is not OK, and the text says why verify fails.
func TestVerifyProblemFailsWithEveryPairAsExpected(t *testing.T) {
	cts := []inventory.Container{
		{Name: "a", Host: "h1", Network: "n10"},
		{Name: "b", Host: "h2", Network: "n10"},
		{Name: "lone", Host: "h1", Network: "n20"},
	}
	pairs, mode := VerifyPairs(&inventory.Inventory{Containers: cts}, false)
	for i := range pairs {
		pairs[i].Got = pairs[i].Expect
	}
	v := &VerifyReport{Pairs: pairs, Mode: mode, Containers: []string{"a", "b", "lone"}}
	v.settle()
	if !v.OK {
		t.Fatalf("every pair as expected, no problem: not OK")
	}
	v.Problems = []string{"lone on h1: container is not running"}
	v.settle()
	if v.OK {
		t.Errorf("a stopped container left verify OK")
	}
	var b strings.Builder
	WriteVerifyText(&b, v)
	for _, want := range []string{"could not ping from lone on h1: container is not running", "Verify: all 6 pairs as expected, but 1 problem(s) above: verify fails."} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}

// verify stops reading a host's ping output at its deadline or when its
// context ends, while the host may still be writing: the goroutine that
// scans the output must end then too, not block for ever on its send.
func TestScanLinesEndsWhenStopped(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	go func() {
		for {
			if _, err := pw.Write([]byte("0 ok\n")); err != nil {
				return
			}
		}
	}()
	stop := make(chan struct{})
	lines := scanLines(pr, stop)
	if l := <-lines; l != "0 ok" {
		t.Fatalf("first line %q", l)
	}
	close(stop)
	timeout := time.After(2 * time.Second)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the scanning goroutine still runs 2 s after stop (its send blocks for ever once nobody reads)")
		}
	}
}
