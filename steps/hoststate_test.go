package steps

import (
	"strings"
	"testing"

	"github.com/mvorch/mvorch/inventory"
)

func articleInventory(t *testing.T) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load("../inventory.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func okFacts(name string) *Facts {
	return &Facts{
		Host: name, Mod8021qAvail: true, NetworkScripts: true, Net: NetTools{Ifup: true},
		Links: map[string]*Link{"ens33": {Name: "ens33", Up: true}},
		Files: map[string]*File{UnitFile: {Data: []byte("[Service]\nExecStart=/usr/bin/dockerd -H fd://\n"), Mode: 0o644}},
		Dirs:  map[string]bool{},
		Docker: Docker{Installed: true, Active: true, Networks: map[string]*DockerNetwork{},
			Containers: map[string]*DockerContainer{}, Images: map[string]string{"busybox:latest": "b", "registry:latest": "r"}},
	}
}

// States the lab cannot make (a wireless NIC, no docker at all) are planned
// against facts: each is a clear error naming the host and the way out.
func TestBadHostStatesFromFacts(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(f *Facts)
		want   string
		trust  string // the inventory's method, when it matters
	}{
		{"wireless parent", func(f *Facts) { f.Links["ens33"].Wireless = true },
			"parent NIC ens33 on docker02 is wireless: 802.11 allows one MAC address per client, so macvlan cannot work on it; use a wired NIC, or ipvlan", ""},
		{"docker missing", func(f *Facts) { f.Docker.Installed = false; f.Docker.Active = false },
			"docker is not installed on docker02: install docker", ""},
		{"docker unit missing", func(f *Facts) { delete(f.Files, UnitFile) },
			"no ExecStart for docker.service on docker02", "dropin"},
		{"broken daemon.json", func(f *Facts) { f.Files[DaemonJSON] = &File{Data: []byte("{not json"), Mode: 0o644} },
			"/etc/docker/daemon.json on docker02 is not valid JSON: dockerd would not start with it", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv := articleInventory(t)
			if c.trust != "" {
				inv.Registry.Trust = c.trust
			}
			f2 := okFacts("docker02")
			c.break_(f2)
			_, err := Build(inv, map[string]*Facts{"docker01": okFacts("docker01"), "docker02": f2})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v; want %q", err, c.want)
			}
			if strings.Contains(err.Error(), "docker01") {
				t.Errorf("docker01 is fine but named: %v", err)
			}
		})
	}
}

// Docker before 26 creates one macvlan network per parent interface: a plan
// that would put two there (two networks on the NIC itself, or one beside a
// macvlan network already on it) stops before anything changes, naming the
// networks, the host, its docker and what to do. Docker 26 and newer pass.
func TestPlanStopsTwoMacvlanNetworksOnOneParentBeforeDocker26(t *testing.T) {
	inv := articleInventory(t)
	inv.Networks[1].VLAN = 0 // mac_net20 on ens33 itself, with mac_net10 on ens33.10
	inv.Networks[0].VLAN = 0 // and mac_net10 too: both on ens33
	facts := func(version string) map[string]*Facts {
		fs := map[string]*Facts{"docker01": okFacts("docker01"), "docker02": okFacts("docker02")}
		for _, f := range fs {
			f.Docker.Version = version
		}
		return fs
	}
	_, err := Build(inv, facts("20.10.24+dfsg1"))
	want := "macvlan networks mac_net10 and mac_net20 would share parent interface ens33 on docker01, and its docker 20.10.24+dfsg1 allows one macvlan network per parent (docker 26 and newer allow several): give each network a vlan of its own, or upgrade docker on docker01"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("docker 20.10: error %v\nwant %q", err, want)
	}
	if _, err := Build(inv, facts("26.1.0")); err != nil {
		t.Errorf("docker 26: %v", err)
	}
	// One network in the inventory beside a macvlan network that is already
	// on the parent (made by hand) is the same failure.
	inv = articleInventory(t)
	inv.Networks = inv.Networks[:1]
	inv.Networks[0].VLAN = 0
	inv.Containers = inv.Containers[:0]
	fs := facts("25.0.3")
	fs["docker02"].Docker.Networks["handmade"] = &DockerNetwork{Name: "handmade", Driver: "macvlan", Parent: "ens33"}
	if _, err := Build(inv, fs); err == nil || !strings.Contains(err.Error(), "macvlan networks handmade and mac_net10 would share parent interface ens33 on docker02") {
		t.Errorf("beside a hand-made network: %v", err)
	}
}
