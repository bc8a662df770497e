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
		Host: name, Mod8021qAvail: true, NetworkScripts: true,
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
				t.Errorf("error %v; want %q", err, c.want)
			}
			if strings.Contains(err.Error(), "docker01") {
				t.Errorf("docker01 is fine but named: %v", err)
			}
		})
	}
}
