package steps

import (
	"errors"
	"strings"
	"testing"

	"github.com/mvorch/mvorch/inventory"
)

// factsOutput is FactsScript's output: sections, the end marker, then the
// files' contents one after another.
func factsOutput(content string, sections ...string) []byte {
	return []byte(strings.Join(sections, "\n") + section2("end") + content)
}

func TestParseFactsLinksAndFiles(t *testing.T) {
	out := factsOutput("8021q\n"+`{"t":"begin"}`+"\n",
		marker+"hostname@@", "docker01",
		marker+"links@@",
		`2: ens33@if4: <BROADCAST,MULTICAST,PROMISC,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\    link/ether 66:a1 brd ff:ff promiscuity 1 veth addrgenmode eui64`,
		`5: ens33.10@ens33: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\    link/ether b2:d9 brd ff:ff promiscuity 0 \    macvlan mode bridge addrgenmode eui64`,
		marker+"addrs@@",
		`5: ens33.10    inet 203.0.113.11/26 scope global ens33.10\       valid_lft forever preferred_lft forever`,
		marker+"modules@@", "loaded",
		marker+"docker@@", "unit ActiveState=active", "installed",
		marker+"files@@",
		"644 6 /etc/modules-load.d/8021q.conf",
		"600 14 "+JournalFile,
	)
	f, err := ParseFacts("h", out)
	if err != nil {
		t.Fatal(err)
	}
	if f.Hostname != "docker01" || !f.Docker.Installed || f.Docker.Unit != "active" || !f.Mod8021qLoaded || !f.Mod8021qAvail {
		t.Errorf("hostname %q, docker installed %v unit %q, 8021q loaded %v available %v", f.Hostname, f.Docker.Installed, f.Docker.Unit, f.Mod8021qLoaded, f.Mod8021qAvail)
	}
	if l := f.Links["ens33"]; l == nil || !l.Promisc || !l.Up {
		t.Errorf("ens33: %+v", l)
	}
	if l := f.Links["ens33.10"]; l == nil || l.Parent != "ens33" || l.Kind != "macvlan" || len(l.Addrs) != 1 || l.Addrs[0] != "203.0.113.11/26" {
		t.Errorf("ens33.10: %+v", l)
	}
	if file := f.Files["/etc/modules-load.d/8021q.conf"]; file == nil || string(file.Data) != "8021q\n" || file.Mode != 0o644 {
		t.Errorf("file: %+v", file)
	}
	if string(f.Journal) != `{"t":"begin"}`+"\n" || f.Files[JournalFile] != nil {
		t.Errorf("journal %q, in files: %v", f.Journal, f.Files[JournalFile] != nil)
	}
}

// Contents are cut apart by the sizes stat gave; a file that grew or shrank
// in between is told apart from a broken host, so the runner reads again.
func TestParseFactsFileChangedWhileRead(t *testing.T) {
	for _, content := range []string{"8021q\nmore", "80"} {
		_, err := ParseFacts("h", factsOutput(content, marker+"files@@", "644 6 "+ModulesLoad))
		if !errors.Is(err, ErrFactsChanged) {
			t.Errorf("content %q: %v, want ErrFactsChanged", content, err)
		}
	}
}

func TestParseFactsNeedsEndMarker(t *testing.T) {
	if _, err := ParseFacts("h", []byte(marker+"hostname@@\nh\n")); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("facts cut short: %v", err)
	}
}

func mustParseFacts(t *testing.T, host string, out []byte) *Facts {
	t.Helper()
	f, err := ParseFacts(host, out)
	if err != nil {
		t.Fatalf("ParseFacts: %v", err)
	}
	return f
}

// The docker side comes from dockerd's API. The JSON here is trimmed from
// docker 20.10's answers in the lab.
func TestSetDocker(t *testing.T) {
	f := mustParseFacts(t, "h", factsOutput("", marker+"docker@@", "installed"))
	err := f.SetDocker(DockerAPI{
		Info: []byte(`{"ServerVersion":"20.10.24","RegistryConfig":{"IndexConfigs":{"docker.io":{"Name":"docker.io","Secure":true},"203.0.113.11:5000":{"Name":"203.0.113.11:5000","Secure":false}}}}`),
		Networks: []byte(`[{"Name":"bridge","Driver":"bridge","IPAM":{"Config":[{"Subnet":"172.17.0.0/16","Gateway":"172.17.0.1"}]},"Options":{},"Labels":{}},
			{"Name":"mac_net10","Driver":"macvlan","IPAM":{"Config":[{"Subnet":"fd00::/64"},{"Subnet":"203.0.113.128/26","Gateway":"203.0.113.129"}]},"Options":{"parent":"ens33.10"},"Labels":{"io.mvorch.managed":"true"}}]`),
		Images: []byte(`[{"Id":"sha256:aa","RepoTags":["busybox:latest","203.0.113.11:5000/busybox:v1"]},{"Id":"sha256:bb","RepoTags":["<none>:<none>"]}]`),
		Containers: [][]byte{
			[]byte(`{"Name":"/bbox10","Image":"sha256:aa","Config":{"Image":"203.0.113.11:5000/busybox:v1","Labels":{"io.mvorch.managed":"true"}},"State":{"Running":true},"HostConfig":{"RestartPolicy":{"Name":"always"}},"NetworkSettings":{"Networks":{"mac_net10":{"IPAddress":"203.0.113.130","IPAMConfig":{"IPv4Address":"203.0.113.130"}}}}}`),
			[]byte(`{"Name":"/old","Image":"sha256:aa","Config":{"Image":"busybox:latest"},"State":{"Running":false},"HostConfig":{"RestartPolicy":{"Name":"no"},"PortBindings":{"5000/tcp":[{"HostIp":"","HostPort":"5000"}]}},"NetworkSettings":{"Networks":{"mac_net10":{"IPAddress":""}}}}`),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := f.Docker
	if d.Version != "20.10.24" {
		t.Errorf("version %q, want 20.10.24", d.Version)
	}
	if !d.Active || len(d.Insecure) != 1 || d.Insecure[0] != "203.0.113.11:5000" {
		t.Errorf("active %v, insecure %v", d.Active, d.Insecure)
	}
	n := d.Networks["mac_net10"]
	if n == nil || n.Parent != "ens33.10" || n.Subnet != "203.0.113.128/26" || n.Gateway != "203.0.113.129" || !n.Managed {
		t.Fatalf("mac_net10: %+v", n)
	}
	// Stopped containers count as attached: docker network rm needs them gone.
	if strings.Join(n.Containers, ",") != "bbox10,old" {
		t.Errorf("mac_net10 containers: %v", n.Containers)
	}
	c := d.Containers["bbox10"]
	if c == nil || !c.Running || !c.Managed || c.Restart != "always" || c.Networks["mac_net10"] != "203.0.113.130" || c.Image != "203.0.113.11:5000/busybox:v1" {
		t.Errorf("bbox10: %+v", c)
	}
	if o := d.Containers["old"]; o == nil || o.Running || o.Managed || strings.Join(o.Ports, ",") != "5000/tcp->:5000" {
		t.Errorf("old: %+v", o)
	}
	if len(d.Images) != 2 || d.Images["busybox:latest"] != "sha256:aa" || d.Images["203.0.113.11:5000/busybox:v1"] != "sha256:aa" {
		t.Errorf("images: %v", d.Images)
	}
}

// A dockerd that answers without a version is not taken for a running one,
// and bad JSON is an error that names the host.
func TestSetDockerBadAnswers(t *testing.T) {
	f := mustParseFacts(t, "docker02", factsOutput(""))
	if err := f.SetDocker(DockerAPI{Info: []byte(`{}`), Networks: []byte(`[]`), Images: []byte(`[]`)}); err != nil || f.Docker.Active {
		t.Errorf("empty info: active %v, %v", f.Docker.Active, err)
	}
	err := f.SetDocker(DockerAPI{Info: []byte(`{}`), Networks: []byte(`<html>`), Images: []byte(`[]`)})
	if err == nil || !strings.Contains(err.Error(), "docker02") || !strings.Contains(err.Error(), "networks") {
		t.Errorf("bad networks JSON: %v", err)
	}
}

// TestDockerKnownOnPartialOutput feeds DockerKnown every prefix of a facts
// output: docker's section is known only once the next section has begun,
// and what it says then does not change.
func TestDockerKnownOnPartialOutput(t *testing.T) {
	for _, installed := range []bool{true, false} {
		docker := marker + "docker@@\n"
		if installed {
			docker += "installed\n"
		}
		out := docker + marker + "hostname@@\ndocker01\n" + marker + "links@@\n"
		knownAt := len(docker) + len(marker+"hostname@@\n")
		for i := 0; i <= len(out); i++ {
			gotInstalled, known := DockerKnown([]byte(out[:i]))
			if known != (i >= knownAt) {
				t.Fatalf("installed=%v: after %d bytes known = %v, want it from %d on", installed, i, known, knownAt)
			}
			if known && gotInstalled != installed {
				t.Fatalf("installed=%v: after %d bytes DockerKnown says installed = %v", installed, i, gotInstalled)
			}
		}
	}
}

// TestFactsScriptPrintsDockerFirst pins the order DockerKnown relies on:
// the docker section (the wait for a restart, then "installed") comes
// before anything else, and the hostname section right after it.
func TestFactsScriptPrintsDockerFirst(t *testing.T) {
	inv, err := inventory.Load("../inventory.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	script := FactsScript(inv, &inv.Hosts[0])
	d := strings.Index(script, section("docker"))
	wait := strings.Index(script, "systemctl show -p ActiveState docker")
	inst := strings.Index(script, "echo installed")
	h := strings.Index(script, section("hostname"))
	if d < 0 || !(d < wait && wait < inst && inst < h) {
		t.Fatalf("want docker marker < restart wait < installed < hostname marker, got %d %d %d %d", d, wait, inst, h)
	}
	for _, name := range []string{"links", "addrs", "modules", "files", "end"} {
		if i := strings.Index(script, section(name)); i < h {
			t.Errorf("section %s at %d, before the hostname section (%d)", name, i, h)
		}
	}
}

// The docker section says systemd's state and whether dockerd's own pid
// file names a live process: a dockerd starting or restarting that does not
// answer yet is told apart from a stopped one.
func TestParseFactsDockerStarting(t *testing.T) {
	f := mustParseFacts(t, "h", factsOutput("", marker+"docker@@", "unit ActiveState=activating", "dockerd 4242", "installed"))
	if f.Docker.Unit != "activating" || f.Docker.DaemonPID != 4242 || !f.Docker.Installed {
		t.Errorf("docker facts %+v", f.Docker)
	}
	f = mustParseFacts(t, "h", factsOutput("", marker+"docker@@", "unit ActiveState=inactive", "installed"))
	if f.Docker.DaemonPID != 0 {
		t.Errorf("no dockerd line, pid %d", f.Docker.DaemonPID)
	}
}
