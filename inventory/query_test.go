package inventory

import (
	"net/netip"
	"reflect"
	"testing"
)

func mustLoad(t *testing.T, path string) *Inventory {
	t.Helper()
	inv, err := Load(path)
	if err != nil {
		t.Fatalf("%s:\n%v", path, err)
	}
	return inv
}

func mustHost(t *testing.T, inv *Inventory, name string) *Host {
	t.Helper()
	h, ok := inv.Host(name)
	if !ok {
		t.Fatalf("no host %s", name)
	}
	return h
}

func mustNetwork(t *testing.T, inv *Inventory, name string) *Network {
	t.Helper()
	n, ok := inv.Network(name)
	if !ok {
		t.Fatalf("no network %s", name)
	}
	return n
}

func TestDefaultsAndOverrides(t *testing.T) {
	inv := mustLoad(t, "testdata/overrides.toml")
	wantHosts := []Host{
		{Name: "docker01", Address: "docker01", Parent: "eth0", Promisc: false, NetworkConfig: "networkmanager"},
		{Name: "docker02", Address: "10.0.0.2", Parent: "eth1", Promisc: true, NetworkConfig: "ifcfg", User: "root", Port: 22},
	}
	if !reflect.DeepEqual(inv.Hosts, wantHosts) {
		t.Errorf("Hosts = %+v\nwant %+v", inv.Hosts, wantHosts)
	}
	// Inventory order, although the file lists docker02 first.
	wantVLAN := []VLANHost{
		{"docker01", netip.MustParsePrefix("192.168.30.11/24")},
		{"docker02", netip.MustParsePrefix("192.168.30.12/24")},
	}
	if !reflect.DeepEqual(inv.VLANs[0].Hosts, wantVLAN) {
		t.Errorf("VLAN 30 hosts = %v, want %v", inv.VLANs[0].Hosts, wantVLAN)
	}
	wantReg := Registry{Host: "docker02", Port: 5000, Image: "registry:latest", Trust: "daemon-json", Name: "registry"}
	if *inv.Registry != wantReg {
		t.Errorf("Registry = %+v, want %+v", *inv.Registry, wantReg)
	}
	if got := []string{inv.Containers[0].Restart, inv.Containers[1].Restart}; !reflect.DeepEqual(got, []string{"unless-stopped", "always"}) {
		t.Errorf("restarts = %v", got)
	}
	example := mustLoad(t, "../examples/section-4.1.toml")
	if example.Defaults != (Defaults{Parent: "ens33", Promisc: true, NetworkConfig: "auto"}) || example.Registry != nil {
		t.Errorf("section 4.1: Defaults = %+v, Registry = %v", example.Defaults, example.Registry)
	}
}

func TestHostSSH(t *testing.T) {
	inv := mustLoad(t, "testdata/overrides.toml")
	if got := inv.HostSSH(mustHost(t, inv, "docker01")); got != inv.SSH {
		t.Errorf("docker01 = %+v, want [ssh] %+v", got, inv.SSH)
	}
	want := inv.SSH
	want.User, want.Port = "root", 22
	if got := inv.HostSSH(mustHost(t, inv, "docker02")); got != want {
		t.Errorf("docker02 = %+v, want %+v", got, want)
	}
}

func TestQueries(t *testing.T) {
	inv := mustLoad(t, "testdata/overrides.toml")
	d1, d2 := mustHost(t, inv, "docker01"), mustHost(t, inv, "docker02")
	flat, v40 := mustNetwork(t, inv, "flat"), mustNetwork(t, inv, "v40")
	checks := []struct {
		name      string
		got, want any
	}{
		{"RegistryAddr", inv.RegistryAddr(), "10.0.0.2:5000"},
		{"ImageRef tag", inv.ImageRef("alpine:lab"), "10.0.0.2:5000/alpine:lab"},
		{"ImageRef other", inv.ImageRef("nginx:1.27"), "nginx:1.27"},
		{"NetworkHosts flat", inv.NetworkHosts(flat), []string{"docker01", "docker02"}},
		{"NetworkHosts v40", inv.NetworkHosts(v40), []string{"docker02"}},
		{"Interface", inv.Interface(d1, 30), "eth0.30"},
		{"NetworkParent flat", inv.NetworkParent(flat, d1), "eth0"},
		{"NetworkParent v40", inv.NetworkParent(v40, d2), "eth1.40"},
		{"ContainersOn", names(inv.ContainersOn("docker01")), []string{"a1", "a2", "c1"}},
		{"ContainersOn none", names(inv.ContainersOn("docker09")), []string(nil)},
		{"ImagesUsedOn docker01", inv.ImagesUsedOn("docker01"), []string{"10.0.0.2:5000/alpine:lab"}},
		{"ImagesUsedOn docker02", inv.ImagesUsedOn("docker02"), []string{"10.0.0.2:5000/busybox:lab"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if v, ok := inv.VLAN(30); !ok || v.ID != 30 {
		t.Errorf("VLAN(30) = %v, %v", v, ok)
	} else if p, ok := v.Addr("docker02"); !ok || p.String() != "192.168.30.12/24" {
		t.Errorf("VLAN(30).Addr(docker02) = %v, %v", p, ok)
	}
	_, hostOK := inv.Host("nope")
	_, vlanOK := inv.VLAN(99)
	_, netOK := inv.Network("nope")
	if hostOK || vlanOK || netOK {
		t.Errorf("lookups of unknown names succeeded: %v %v %v", hostOK, vlanOK, netOK)
	}
}

func TestQueriesOnArticle(t *testing.T) {
	inv := mustLoad(t, "../inventory.toml.example")
	net10 := mustNetwork(t, inv, "mac_net10")
	checks := []struct {
		name      string
		got, want any
	}{
		{"RegistryAddr", inv.RegistryAddr(), "192.168.1.11:5000"},
		{"ImageRef", inv.ImageRef("busybox:v1"), "192.168.1.11:5000/busybox:v1"},
		{"NetworkHosts", inv.NetworkHosts(net10), []string{"docker01", "docker02"}},
		{"NetworkParent", inv.NetworkParent(net10, mustHost(t, inv, "docker02")), "ens33.10"},
		{"ContainersOn", names(inv.ContainersOn("docker02")), []string{"bbox11", "bbox21"}},
		{"ImagesUsedOn", inv.ImagesUsedOn("docker02"), []string{"192.168.1.11:5000/busybox:v1"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}

	flat := mustLoad(t, "../examples/section-4.1.toml")
	net1 := mustNetwork(t, flat, "mac_net1")
	if got := flat.NetworkHosts(net1); !reflect.DeepEqual(got, []string{"docker01", "docker02"}) {
		t.Errorf("section 4.1 NetworkHosts = %v", got)
	}
	if got := flat.NetworkParent(net1, mustHost(t, flat, "docker02")); got != "ens33" {
		t.Errorf("section 4.1 NetworkParent = %q", got)
	}
	if flat.RegistryAddr() != "" || flat.ImageRef("busybox") != "busybox" || flat.ImagesUsedOn("docker01") != nil {
		t.Errorf("section 4.1 without registry: %q %q %v", flat.RegistryAddr(), flat.ImageRef("busybox"), flat.ImagesUsedOn("docker01"))
	}
}

func names(cs []Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}
