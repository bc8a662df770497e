package steps

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/inventory"
)

func fullContainer() inventory.Container {
	return inventory.Container{
		Name: "svc", Host: "docker01", Network: "mac_net10", IP: netip.MustParseAddr("172.16.10.10"), Image: "busybox:v1", Restart: "unless-stopped",
		Command: []string{"-c", "echo \"$X\" 'q'\nsleep 1d"}, Entrypoint: []string{"/bin/sh"},
		Env: map[string]string{"TZ": "UTC", "X": "a $b"}, Labels: map[string]string{"role": "dns"},
		Volumes: []string{"/srv/a:/a:ro"}, MACAddress: "02:00:00:00:00:01", Hostname: "svc1",
		CapAdd: []string{"NET_ADMIN"}, DNS: []string{"192.0.2.53"}, Init: true,
	}
}

// What docker adds itself (the image's PATH and labels, its command, the
// host name and MAC address it picks) is no drift; a container as mvorch
// made it has none either.
func TestSpecDiffIgnoresWhatDockerAdds(t *testing.T) {
	bare := wantSpec(inventory.Container{Name: "b", Network: "n", IP: netip.MustParseAddr("172.16.10.11"), Restart: "no"}, "busybox:v1")
	dc := bare.project()
	dc.Env = map[string]string{"PATH": "/usr/bin"}
	dc.Labels["org.opencontainers.image.title"] = "busybox"
	dc.Cmd, dc.Hostname, dc.MACs["n"] = []string{"sh"}, "0123456789ab", "02:42:ac:10:0a:0b"
	if d := specDiff(dc, bare); len(d) != 0 {
		t.Errorf("a bare container: %v", d)
	}
	full := wantSpec(fullContainer(), "busybox:v1")
	dc = full.project()
	dc.Env["PATH"] = "/usr/bin"
	dc.CapAdd = []string{"CAP_NET_ADMIN"}
	if d := specDiff(dc, full); len(d) != 0 {
		t.Errorf("a container with every key, as docker reports it: %v", d)
	}
}

// Each key changed on its own is reported alone, from what to what; a key
// mvorch set and the inventory no longer names is reported too.
func TestSpecDiffNamesEachKey(t *testing.T) {
	base := fullContainer()
	cases := []struct {
		change func(*inventory.Container)
		want   string
	}{
		{func(c *inventory.Container) { c.Env["TZ"] = "Asia/Tokyo" }, `~ env.TZ: "UTC" -> "Asia/Tokyo"`},
		{func(c *inventory.Container) { delete(c.Env, "X") }, `~ env.X: "a $b" -> (unset)`},
		{func(c *inventory.Container) { c.Command = nil }, "~ command: [\"-c\", \"echo \\\"$X\\\" 'q'\\nsleep 1d\"] -> (the image's)"},
		{func(c *inventory.Container) { c.Entrypoint = []string{"/bin/ash"} }, `~ entrypoint: ["/bin/sh"] -> ["/bin/ash"]`},
		{func(c *inventory.Container) { c.Volumes = nil }, `~ volumes: ["/srv/a:/a:ro"] -> []`},
		{func(c *inventory.Container) { c.MACAddress = "" }, `~ mac_address: "02:00:00:00:00:01" -> (docker's choice)`},
		{func(c *inventory.Container) { c.Hostname = "svc2" }, `~ hostname: "svc1" -> "svc2"`},
		{func(c *inventory.Container) { c.Labels = map[string]string{"role": "dns", "tier": "1"} }, `~ labels.tier: (unset) -> "1"`},
		{func(c *inventory.Container) { c.CapAdd = append(c.CapAdd, "NET_RAW") }, `~ cap_add: ["NET_ADMIN"] -> ["NET_ADMIN", "NET_RAW"]`},
		{func(c *inventory.Container) { c.DNS = []string{"192.0.2.54"} }, `~ dns: ["192.0.2.53"] -> ["192.0.2.54"]`},
		{func(c *inventory.Container) { c.Init = false }, `~ init: true -> false`},
	}
	for _, tc := range cases {
		dc := wantSpec(base, "busybox:v1").project()
		ct := fullContainer()
		tc.change(&ct)
		d := specDiff(dc, wantSpec(ct, "busybox:v1"))
		if len(d) != 1 || d[0].String() != tc.want {
			t.Errorf("got %q, want %s", d, tc.want)
		}
	}
}

// The undo of a container mvorch made runs the very docker run that made it.
func TestHaveSpecRecreatesExactly(t *testing.T) {
	want := wantSpec(fullContainer(), "busybox:v1")
	dc := want.project()
	dc.Env["PATH"] = "/usr/bin"
	dc.Labels["org.opencontainers.image.title"] = "busybox"
	got, made := runSpec(haveSpec(dc), true).String(), runSpec(want, true).String()
	if got != made {
		t.Errorf("re-created with:\n%s\nmade with:\n%s", got, made)
	}
	for _, w := range []string{`--env 'X=a $b'`, `--entrypoint /bin/sh -- busybox:v1 -c 'echo "$X" '\''q'\''`, `--label 'io.mvorch.set={"keys":["command","entrypoint","hostname","mac_address"],"env":["TZ","X"],"labels":["role"]}'`} {
		if !strings.Contains(made, w) {
			t.Errorf("docker run lacks %s:\n%s", w, made)
		}
	}
}
