package steps

import (
	"strings"
	"testing"
)

// A container mvorch did not make, on a network mvorch makes again, is
// disconnected and connected again with its address, never removed: it keeps
// its settings and its other networks. Undo takes it off the new network
// before removing it, and connects it to the old one. One whose address the
// new subnet no longer holds stays disconnected, and the plan says so.
func TestForeignContainerOnRecreatedNetworkIsKept(t *testing.T) {
	inv := hostAccessInventory(t) // host access: mac_net10 must be made again with aux addresses
	facts := map[string]*Facts{}
	for _, h := range []string{"docker01", "docker02"} {
		f := okFacts(h)
		f.Docker.Networks["mac_net10"] = &DockerNetwork{Name: "mac_net10", Driver: "macvlan", Subnet: "172.16.10.0/24", Gateway: "172.16.10.1",
			Parent: "ens33.10", Managed: true, Containers: []string{"mine", "theirs", "lost"}}
		f.Docker.Containers["mine"] = &DockerContainer{Name: "mine", Running: true, Managed: true, Networks: map[string]string{"mac_net10": "172.16.10.10"}}
		f.Docker.Containers["theirs"] = &DockerContainer{Name: "theirs", Running: true, Image: "app:1",
			Networks: map[string]string{"mac_net10": "172.16.10.77", "bridge": "172.17.0.2"}}
		f.Docker.Containers["lost"] = &DockerContainer{Name: "lost", Running: true, Image: "app:1",
			Networks: map[string]string{"mac_net10": "10.9.9.9"}}
		facts[h] = f
	}
	p, err := Build(inv, facts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var replace *Change
	for _, ch := range changesOf(p, "docker01", "networks") {
		got = append(got, string(ch.Action)+" "+ch.Target+"\n do: "+strings.ReplaceAll(opsText(ch.Do), "\n", " | ")+"\n undo: "+strings.ReplaceAll(opsText(ch.Undo), "\n", " | "))
		if ch.Target == "network mac_net10" {
			replace = ch
		}
	}
	text := strings.Join(got, "\n")
	for _, want := range []string{
		"remove container mine\n do: exec docker rm -f -- mine",
		"change container theirs\n do: exec docker network disconnect -f -- mac_net10 theirs | \n undo: exec docker network connect --ip 172.16.10.77 -- mac_net10 theirs",
		"change container lost\n do: exec docker network disconnect -f -- mac_net10 lost",
		"docker network connect --ip 172.16.10.77 -- mac_net10 theirs | \n undo: exec docker network disconnect -f -- mac_net10 theirs | exec docker network rm",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("want %q in the networks changes on docker01:\n%s", want, text)
		}
	}
	if strings.Contains(text, "rm -f -- theirs") || strings.Contains(text, "rm -f -- lost") {
		t.Errorf("a foreign container is removed:\n%s", text)
	}
	if replace == nil || strings.Contains(opsText(replace.Do), "lost") || !strings.Contains(replace.Detail, "container lost stays disconnected (10.9.9.9 is outside 172.16.10.0/24)") ||
		!strings.Contains(replace.Detail, "then connects theirs again") {
		t.Errorf("network change detail: %+v", replace)
	}
	for _, ch := range changesOf(p, "docker01", "networks") {
		if strings.HasPrefix(ch.Target, "container theirs") && ch.Conflict == "" {
			t.Errorf("changing a container mvorch did not make needs --replace: no conflict on %+v", ch)
		}
	}
}
