package steps

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mvorch/mvorch/inventory"
	"github.com/mvorch/mvorch/runner/sh"
)

// Paths mvorch reads and writes on a host.
const (
	NetworkScripts = "/etc/sysconfig/network-scripts"
	ModulesLoad    = "/etc/modules-load.d/8021q.conf"
	UnitFile       = "/usr/lib/systemd/system/docker.service"
	EtcUnitFile    = "/etc/systemd/system/docker.service"
	DropInDir      = "/etc/systemd/system/docker.service.d"
	DropInFile     = DropInDir + "/mvorch-insecure-registry.conf"
	DaemonJSON     = "/etc/docker/daemon.json"
	JournalDir     = "/var/lib/mvorch"
	JournalFile    = JournalDir + "/journal.jsonl"
	// ManagedLabel marks docker networks and containers mvorch created.
	ManagedLabel = "io.mvorch.managed"
	// ManagedHeader starts every file mvorch writes whole.
	ManagedHeader = "# Managed by mvorch"
)

// Facts is what a host looks like, gathered in one round trip, then updated
// by each step with what its planned changes will do.
type Facts struct {
	Host           string
	Hostname       string
	Links          map[string]*Link
	Mod8021qLoaded bool
	Mod8021qAvail  bool
	NetworkScripts bool
	// Files holds the files that exist, by path.
	Files map[string]*File
	// Dirs are the directories mvorch may write into that exist.
	Dirs    map[string]bool
	Docker  Docker
	Journal []byte
	// liveEntries caches the parsed journal (see live).
	liveEntries   []*Entry
	journalParsed bool

	// Projected state, set by steps for the steps after them.
	DockerConfigChanged bool
	// RegistryTags are the repository:tag pairs the registry serves (set on
	// the registry host's facts when the registry answered at plan time).
	RegistryTags map[string]bool
	RegistryUp   bool
}

// Link is a network interface.
type Link struct {
	Name     string
	Up       bool
	Promisc  bool
	Kind     string // "vlan", "macvlan", "veth", ... ("" for a plain NIC)
	Parent   string
	Wireless bool
	Addrs    []string // IPv4 CIDRs
}

// File is a file's content and permission bits.
type File struct {
	Data []byte
	Mode uint32
}

// Docker is the docker side of a host.
type Docker struct {
	Installed  bool
	Active     bool
	Networks   map[string]*DockerNetwork
	Containers map[string]*DockerContainer
	// Images maps "repository:tag" to the image ID.
	Images map[string]string
	// Insecure are the registries the running dockerd trusts over HTTP.
	Insecure []string
}

// DockerNetwork is one docker network.
type DockerNetwork struct {
	Name, Driver, Subnet, Gateway, Parent string
	Managed                               bool
	Containers                            []string
}

// DockerContainer is one container.
type DockerContainer struct {
	Name, Image, ImageID string
	Running              bool
	Restart              string
	Managed              bool
	// Networks maps network name to the container's IPv4 address on it.
	Networks map[string]string
	Ports    []string // "5000/tcp->0.0.0.0:5000"
}

const marker = "@@mvorch:"

// parentDirs are the directories of files mvorch may create; one it creates
// is removed again by the undo when it is left empty.
var parentDirs = []string{"/etc/modules-load.d", DropInDir, "/etc/docker", JournalDir}

// FactsScript is the shell script that prints a host's facts in one round
// trip. It reads only; every file it may need is listed from the inventory.
func FactsScript(inv *inventory.Inventory, h *inventory.Host) string {
	files := []string{ModulesLoad, UnitFile, EtcUnitFile, DaemonJSON}
	for _, v := range inv.VLANs {
		files = append(files, ifcfgPath(inv.Interface(h, v.ID)))
	}
	lines := []string{
		"export LC_ALL=C",
		section("hostname"), "hostname",
		section("links"), "ip -d -o link show",
		section("addrs"), "ip -o -4 addr show",
		section("wireless"), "for d in /sys/class/net/*; do [ -d \"$d/wireless\" ] && echo \"${d##*/}\"; done; true",
		section("modules"),
		"test -d /sys/module/8021q && echo loaded; modinfo 8021q >/dev/null 2>&1 && echo available; true",
		section("netscripts"), sh.New("test", "-d", NetworkScripts).Raw("&& echo yes; true").String(),
		section("dirs"),
		"for d in " + quoteAll(parentDirs) + "; do [ -d \"$d\" ] && echo \"$d\"; done; true",
	}
	// Managed ifcfg files of this parent that the inventory no longer names
	// are found by globbing; the glob itself is the one unquoted part.
	glob := sh.Quote(NetworkScripts+"/ifcfg-"+h.Parent+".") + "*"
	lines = append(lines,
		"for f in "+quoteAll(files)+" "+glob+" "+sh.Quote(DropInDir)+"/*.conf; do",
		"  [ -f \"$f\" ] || continue",
		"  echo \""+marker+"file@@ $(stat -c %a \"$f\") $f\"",
		"  base64 -w0 \"$f\"; echo",
		"done",
		section("docker"),
		// A restart in progress (say, of a killed mvorch) is waited out:
		// facts read mid-restart would show a docker without its images.
		"i=0; while [ $i -lt 600 ]; do case $(systemctl show -p ActiveState docker 2>/dev/null) in",
		"  *=activating|*=deactivating|*=reloading) sleep 0.1; i=$((i+1)) ;; *) break ;; esac; done",
		"if command -v docker >/dev/null 2>&1; then echo installed",
		"  docker version --format 'server={{.Server.Version}}' 2>/dev/null",
		"  docker info --format 'insecure={{range $k, $v := .RegistryConfig.IndexConfigs}}{{if not $v.Secure}}{{$k}} {{end}}{{end}}' 2>/dev/null",
		"fi; true",
		section("networks"),
		"ids=$(docker network ls -q 2>/dev/null); [ -n \"$ids\" ] && docker network inspect $ids 2>/dev/null; true",
		section("containers"),
		"ids=$(docker ps -aq 2>/dev/null); [ -n \"$ids\" ] && docker container inspect $ids 2>/dev/null; true",
		section("images"),
		"docker images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' 2>/dev/null; true",
		section("journal"),
		sh.New("cat", JournalFile).Raw("2>/dev/null | base64 -w0; echo").String(),
		section("end"),
	)
	return strings.Join(lines, "\n")
}

func section(name string) string { return "echo '" + marker + name + "@@'" }

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = sh.Quote(s)
	}
	return strings.Join(q, " ")
}

func ifcfgPath(iface string) string { return NetworkScripts + "/ifcfg-" + iface }

// ParseFacts reads the output of FactsScript.
func ParseFacts(host string, out []byte) (*Facts, error) {
	f := &Facts{Host: host, Links: map[string]*Link{}, Files: map[string]*File{}, Dirs: map[string]bool{}}
	f.Docker.Networks = map[string]*DockerNetwork{}
	f.Docker.Containers = map[string]*DockerContainer{}
	f.Docker.Images = map[string]string{}
	sections := map[string][]string{}
	var cur string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, marker) {
			rest := strings.TrimPrefix(line, marker)
			name, arg, _ := strings.Cut(rest, "@@")
			cur = name
			if name == "file" {
				if err := f.readFile(strings.TrimSpace(arg), sc); err != nil {
					return nil, err
				}
				cur = ""
			}
			sections[cur] = sections[cur]
			continue
		}
		sections[cur] = append(sections[cur], line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading facts: %w", err)
	}
	if _, ok := sections["end"]; !ok {
		return nil, fmt.Errorf("facts of %s are incomplete (no end marker)", host)
	}
	f.Hostname = strings.TrimSpace(strings.Join(sections["hostname"], ""))
	f.parseLinks(sections["links"], sections["addrs"], sections["wireless"])
	for _, l := range sections["modules"] {
		f.Mod8021qLoaded = f.Mod8021qLoaded || l == "loaded"
		f.Mod8021qAvail = f.Mod8021qAvail || l == "available"
	}
	f.NetworkScripts = strings.Join(sections["netscripts"], "") == "yes"
	for _, d := range sections["dirs"] {
		f.Dirs[strings.TrimSpace(d)] = true
	}
	f.parseDocker(sections["docker"])
	if err := f.parseNetworks(sections["networks"]); err != nil {
		return nil, err
	}
	if err := f.parseContainers(sections["containers"]); err != nil {
		return nil, err
	}
	for _, l := range sections["images"] {
		if ref, id, ok := strings.Cut(l, " "); ok && !strings.Contains(ref, "<none>") {
			f.Docker.Images[ref] = id
		}
	}
	j, err := base64.StdEncoding.DecodeString(strings.TrimSpace(strings.Join(sections["journal"], "")))
	if err != nil {
		return nil, fmt.Errorf("decoding journal of %s: %w", host, err)
	}
	f.Journal = j
	return f, nil
}

func (f *Facts) readFile(arg string, sc *bufio.Scanner) error {
	modeStr, path, ok := strings.Cut(arg, " ")
	if !ok {
		return fmt.Errorf("facts: bad file line %q", arg)
	}
	mode, err := strconv.ParseUint(modeStr, 8, 32)
	if err != nil {
		return fmt.Errorf("facts: bad mode for %s: %w", path, err)
	}
	if !sc.Scan() {
		return fmt.Errorf("facts: %s has no content line", path)
	}
	data, err := base64.StdEncoding.DecodeString(sc.Text())
	if err != nil {
		return fmt.Errorf("facts: decoding %s: %w", path, err)
	}
	f.Files[path] = &File{Data: data, Mode: uint32(mode)}
	return nil
}

// parseLinks reads `ip -d -o link`, e.g.
// "5: ens33.10@ens33: <BROADCAST,MULTICAST,PROMISC,UP,LOWER_UP> mtu 1500 ... \    macvlan mode bridge ..."
func (f *Facts) parseLinks(links, addrs, wireless []string) {
	for _, l := range links {
		fields := strings.Fields(l)
		if len(fields) < 3 {
			continue
		}
		name := strings.TrimSuffix(fields[1], ":")
		name, parent, _ := strings.Cut(name, "@")
		flags := strings.Trim(fields[2], "<>")
		link := &Link{Name: name, Up: hasFlag(flags, "UP"), Promisc: hasFlag(flags, "PROMISC")}
		if !strings.HasPrefix(parent, "if") {
			link.Parent = parent
		}
		for _, kind := range []string{"vlan", "macvlan", "ipvlan", "veth", "bridge", "bond"} {
			if strings.Contains(l, `\    `+kind+" ") || strings.Contains(l, " "+kind+" protocol") {
				link.Kind = kind
				break
			}
		}
		f.Links[name] = link
	}
	for _, l := range addrs {
		fields := strings.Fields(l)
		if len(fields) >= 4 && fields[2] == "inet" {
			if link := f.Links[fields[1]]; link != nil {
				link.Addrs = append(link.Addrs, fields[3])
			}
		}
	}
	for _, w := range wireless {
		if link := f.Links[strings.TrimSpace(w)]; link != nil {
			link.Wireless = true
		}
	}
}

func hasFlag(flags, flag string) bool {
	for _, f := range strings.Split(flags, ",") {
		if f == flag {
			return true
		}
	}
	return false
}

func (f *Facts) parseDocker(lines []string) {
	for _, l := range lines {
		switch {
		case l == "installed":
			f.Docker.Installed = true
		case strings.HasPrefix(l, "server="):
			// docker prints the template even when the daemon does not answer.
			f.Docker.Active = strings.TrimPrefix(l, "server=") != ""
		case strings.HasPrefix(l, "insecure="):
			f.Docker.Insecure = strings.Fields(strings.TrimPrefix(l, "insecure="))
		}
	}
}

type inspectNetwork struct {
	Name   string
	Driver string
	IPAM   struct {
		Config []struct{ Subnet, Gateway string }
	}
	Options    map[string]string
	Labels     map[string]string
	Containers map[string]struct{ Name string }
}

func (f *Facts) parseNetworks(lines []string) error {
	var nets []inspectNetwork
	if err := decodeJSON(lines, &nets); err != nil {
		return fmt.Errorf("facts of %s: docker networks: %w", f.Host, err)
	}
	for _, n := range nets {
		dn := &DockerNetwork{Name: n.Name, Driver: n.Driver, Parent: n.Options["parent"], Managed: n.Labels[ManagedLabel] == "true"}
		for _, c := range n.IPAM.Config {
			if !strings.Contains(c.Subnet, ":") {
				dn.Subnet, dn.Gateway = c.Subnet, c.Gateway
			}
		}
		for _, c := range n.Containers {
			dn.Containers = append(dn.Containers, c.Name)
		}
		sort.Strings(dn.Containers)
		f.Docker.Networks[n.Name] = dn
	}
	return nil
}

type inspectContainer struct {
	Name   string
	Image  string // image ID
	Config struct {
		Image  string
		Labels map[string]string
	}
	State      struct{ Running bool }
	HostConfig struct {
		RestartPolicy struct{ Name string }
		PortBindings  map[string][]struct{ HostIP, HostPort string }
	}
	NetworkSettings struct {
		Networks map[string]struct {
			IPAddress  string
			IPAMConfig *struct{ IPv4Address string }
		}
	}
}

func (f *Facts) parseContainers(lines []string) error {
	var cs []inspectContainer
	if err := decodeJSON(lines, &cs); err != nil {
		return fmt.Errorf("facts of %s: docker containers: %w", f.Host, err)
	}
	for _, c := range cs {
		dc := &DockerContainer{
			Name: strings.TrimPrefix(c.Name, "/"), Image: c.Config.Image, ImageID: c.Image,
			Running: c.State.Running, Restart: c.HostConfig.RestartPolicy.Name,
			Managed: c.Config.Labels[ManagedLabel] == "true", Networks: map[string]string{},
		}
		for name, n := range c.NetworkSettings.Networks {
			ip := n.IPAddress
			if n.IPAMConfig != nil && n.IPAMConfig.IPv4Address != "" {
				ip = n.IPAMConfig.IPv4Address
			}
			dc.Networks[name] = ip
		}
		for port, bs := range c.HostConfig.PortBindings {
			for _, b := range bs {
				dc.Ports = append(dc.Ports, port+"->"+b.HostIP+":"+b.HostPort)
			}
		}
		sort.Strings(dc.Ports)
		f.Docker.Containers[dc.Name] = dc
	}
	return nil
}

func decodeJSON(lines []string, v any) error {
	text := strings.TrimSpace(strings.Join(lines, "\n"))
	if text == "" {
		return nil
	}
	return json.Unmarshal([]byte(text), v)
}
