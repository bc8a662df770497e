package steps

import (
	"bytes"
	"encoding/json"
	"errors"
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
	// Net is what the host configures its network with (see ChooseBackend).
	Net NetTools
	// Files holds the files that exist, by path.
	Files map[string]*File
	// Dirs are the directories mvorch may write into that exist.
	Dirs map[string]bool
	// Symlinks are the links that enable mvorch's units, path -> target.
	Symlinks map[string]string
	// Routes are the IPv4 routes through each interface: dev -> destinations
	// ("172.16.10.0/24", "default").
	Routes map[string][]string
	// IPForward is /proc/sys/net/ipv4/ip_forward: "1" or "0" ("" unread).
	IPForward string
	// IPTables: iptables is installed (asked on routers only).
	IPTables bool
	// FilterRules are the filter table as `iptables -S` prints it (on
	// routers only): what the router's firewall unit is checked against.
	FilterRules []string
	Docker      Docker
	Journal     []byte
	// liveEntries caches the parsed journal (see live).
	liveEntries   []*Entry
	journalParsed bool

	// Projected state, set by steps for the steps after them.
	DockerConfig DockerConfigChange
	// RegistryTags are the repository:tag pairs the registry serves (set on
	// the registry host's facts when the registry answered at plan time).
	RegistryTags map[string]bool
	RegistryUp   bool
}

// NetTools are the network configuration tools a host has, as far as
// choosing its backend needs them (ChooseBackend).
type NetTools struct {
	Ifup       bool // `ifup` is on PATH
	Netplan    bool // `netplan` is on PATH
	NetplanDir bool // /etc/netplan exists
	// Asked: the services below were asked about (not on a host whose
	// network-scripts and ifup decide it, or one forced to ifcfg).
	Asked          bool
	NetworkManager bool // NetworkManager.service is active
	Networkd       bool // systemd-networkd.service is active
	// NMActive maps a device to the file of its active NetworkManager
	// profile ("" for one NetworkManager keeps in memory only).
	NMActive map[string]string
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
	Installed bool
	Active    bool
	// Unit is systemd's ActiveState of docker.service ("active",
	// "inactive", "failed"...; "" without systemd).
	Unit string
	// DaemonPID is the live process /var/run/docker.pid names (0: none).
	DaemonPID  int
	Networks   map[string]*DockerNetwork
	Containers map[string]*DockerContainer
	// Images maps "repository:tag" to the image ID.
	Images map[string]string
	// Insecure are the registries the running dockerd trusts over HTTP.
	Insecure []string
	// Version is dockerd's version ("20.10.24+dfsg1"; "" when it did not
	// answer), LiveRestore whether
	// it keeps containers running while it is down, Swarm whether the host
	// is in a swarm (docker refuses live-restore there).
	Version     string
	LiveRestore bool
	Swarm       bool
}

// DockerConfigChange is what the changes planned so far do to docker's
// configuration (set by registry-trust, read by docker-restart).
type DockerConfigChange struct {
	// Flags: dockerd's command line changed; only a restart applies it.
	Flags bool
	// Units: a unit file or drop-in changed; systemd needs a daemon-reload.
	Units bool
	// JSON: daemon.json changed; a reload applies what mvorch sets in it.
	JSON bool
}

// Any reports whether anything changed.
func (d DockerConfigChange) Any() bool { return d.Flags || d.Units || d.JSON }

// DockerNetwork is one docker network.
type DockerNetwork struct {
	Name, Driver, Subnet, Gateway, Parent string
	Managed                               bool
	Containers                            []string
	// Aux are the network's --aux-address entries, name -> address:
	// addresses docker must never hand out.
	Aux map[string]string
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

	// As docker reports them; see ContainerSpec for which count.
	Cmd, Entrypoint []string
	Env             map[string]string // from the image and from docker run
	Labels          map[string]string // from the image and from docker run
	MACs            map[string]string // network name -> MAC address
	Hostname        string
	Binds           []string // volumes: SRC:DST[:MODE]
	CapAdd, DNS     []string
	Init            bool
}

const marker = "@@mvorch:"

// parentDirs are the directories of files mvorch may create; one it creates
// is removed again by the undo when it is left empty.
var parentDirs = []string{"/etc/modules-load.d", DropInDir, "/etc/docker", JournalDir, DockerWantsDir}

// hostDirs are parentDirs and those of a host's own (the drop-in directory
// of its parent's systemd-networkd .network, on netplan hosts).
func hostDirs(h *inventory.Host) []string {
	return append(parentDirs[:len(parentDirs):len(parentDirs)], networkdDropInDir(h.Parent))
}

// FactsScript is the shell script that prints a host's facts in one round
// trip. It reads only; every file it may need is listed from the inventory.
// It starts as few processes as it can (about five on a host that is set
// up): on a small host each costs milliseconds, and a fleet pays them all.
// Files are listed by one stat (mode, size, path) and their contents sent
// by one cat after the end marker, cut apart by size.
func FactsScript(inv *inventory.Inventory, h *inventory.Host) string {
	files := []string{ModulesLoad, UnitFile, EtcUnitFile, DaemonJSON, ForwardSysctl}
	for _, v := range inv.VLANs {
		files = append(files, ifcfgPath(inv.Interface(h, v.ID)))
	}
	// Managed ifcfg files of this parent that the inventory no longer names
	// are found by globbing; the glob itself is the one unquoted part.
	glob := sh.Quote(NetworkScripts+"/ifcfg-"+h.Parent+".") + "*"
	lines := []string{
		"export LC_ALL=C",
		// docker first: the runner reads docker's API as soon as this
		// section is out (see DockerKnown), beside the rest of the script.
		section("docker"),
		// A restart in progress (say, of a killed mvorch) is waited out:
		// facts read mid-restart would show a docker without its images.
		"i=0; while [ $i -lt 600 ]; do s=$(systemctl show -p ActiveState docker 2>/dev/null); case $s in",
		"  *=activating|*=deactivating|*=reloading) sleep 0.1; i=$((i+1)) ;; *) break ;; esac; done; echo \"unit $s\"",
		// A dockerd that runs (its own pid file names a live process) but
		// may not answer yet: starting, or restarting outside systemd's view.
		// (/proc, not kill -0: a user without root may look but not signal.)
		"read -r p 2>/dev/null </var/run/docker.pid && [ -n \"$p\" ] && [ -d \"/proc/$p\" ] && echo \"dockerd $p\"; true",
		// docker's own state is read from its API (runner/docker.go), not
		// its CLI: each CLI call costs a host tens of milliseconds of CPU.
		"command -v docker >/dev/null 2>&1 && echo installed; true",
		section("hostname"), "read -r h </proc/sys/kernel/hostname && echo \"$h\" || hostname",
		section("links"), "ip -d -o link show",
		section("addrs"), "ip -o -4 addr show",
		section("routes"), routesCmd(inv, h),
		section("wireless"), "for d in /sys/class/net/*; do [ -d \"$d/wireless\" ] && echo \"${d##*/}\"; done; true",
		section("modules"),
		"if test -d /sys/module/8021q; then echo loaded; elif modinfo 8021q >/dev/null 2>&1; then echo available; fi; true",
		section("netscripts"), sh.New("test", "-d", NetworkScripts).Raw("&& echo yes; true").String(),
		section("netcfg"), netToolsCmd(h),
		// A sysctl file ends after one read at offset 0: dash's read, one byte
		// at a time, meets the end before the newline and returns 1.
		section("forward"), "v=; read -r v </proc/sys/net/ipv4/ip_forward; echo \"$v\"",
		section("firewall"), firewallCmd(inv, h),
		section("symlinks"),
		"for l in " + sh.Quote(WantsDir) + "/" + unitPrefix + "*.service " + sh.Quote(DockerWantsDir) + "/" + unitPrefix + "*.service; do [ -L \"$l\" ] && echo \"$l $(readlink \"$l\")\"; done; true",
		section("dirs"),
		"for d in " + quoteAll(hostDirs(h)) + "; do [ -d \"$d\" ] && echo \"$d\"; done; true",
		"set --; nl='",
		"'",
		"for f in " + quoteAll(files) + " " + glob + " " + sh.Quote(DropInDir) + "/*.conf " + unitGlobs() + " " + backendGlobs(h) + " \"$nmp\" " + sh.Quote(JournalFile) + "; do",
		"  case $f in *\"$nl\"*) continue ;; esac",
		"  [ -f \"$f\" ] && set -- \"$@\" \"$f\"",
		"done",
		section("files"),
		"[ $# -eq 0 ] || stat -c '%a %s %n' -- \"$@\"",
		section("end"),
		"[ $# -eq 0 ] || cat -- \"$@\"",
	}
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

// ErrFactsChanged is wrapped when a file changed while facts were read (its
// content is not the size stat gave): reading again is the remedy.
var ErrFactsChanged = errors.New("a file changed while it was read")

// ParseFacts reads the output of FactsScript.
func ParseFacts(host string, out []byte) (*Facts, error) {
	f := &Facts{Host: host, Links: map[string]*Link{}, Files: map[string]*File{}, Dirs: map[string]bool{},
		Symlinks: map[string]string{}, Routes: map[string][]string{}}
	f.Docker.Networks = map[string]*DockerNetwork{}
	f.Docker.Containers = map[string]*DockerContainer{}
	f.Docker.Images = map[string]string{}
	endMark := []byte(section2("end"))
	text, content, ok := bytes.Cut(out, endMark)
	if !ok {
		return nil, fmt.Errorf("facts of %s are incomplete (no end marker)", host)
	}
	sections := map[string][]string{}
	var cur string
	for _, line := range strings.Split(string(text), "\n") {
		if rest, ok := strings.CutPrefix(line, marker); ok {
			cur, _, _ = strings.Cut(rest, "@@")
			if _, seen := sections[cur]; !seen {
				sections[cur] = nil // present, if empty
			}
			continue
		}
		if line != "" {
			sections[cur] = append(sections[cur], line)
		}
	}
	f.Hostname = strings.TrimSpace(strings.Join(sections["hostname"], ""))
	f.parseLinks(sections["links"], sections["addrs"], sections["wireless"])
	for _, l := range sections["modules"] {
		f.Mod8021qLoaded = f.Mod8021qLoaded || l == "loaded"
		f.Mod8021qAvail = f.Mod8021qAvail || l == "available" || l == "loaded"
	}
	f.NetworkScripts = strings.Join(sections["netscripts"], "") == "yes"
	f.parseNetTools(sections["netcfg"])
	for _, l := range sections["symlinks"] {
		if p, target, ok := strings.Cut(l, " "); ok {
			f.Symlinks[p] = target
		}
	}
	f.parseRoutes(sections["routes"])
	f.IPForward = strings.TrimSpace(strings.Join(sections["forward"], ""))
	for _, l := range sections["firewall"] {
		if l == "iptables" {
			f.IPTables = true
		} else if l != "" {
			f.FilterRules = append(f.FilterRules, l)
		}
	}
	for _, d := range sections["dirs"] {
		f.Dirs[strings.TrimSpace(d)] = true
	}
	f.parseDocker(sections["docker"])
	if err := f.readFiles(sections["files"], content); err != nil {
		return nil, err
	}
	if j, ok := f.Files[JournalFile]; ok {
		f.Journal = j.Data
		delete(f.Files, JournalFile)
	}
	return f, nil
}

// DockerKnown reads the start of FactsScript's output, as it arrives: known
// is true once the docker section is complete (a restart in progress has
// been waited out), installed whether it found docker. From then on docker's
// API can be read beside the rest of the script.
func DockerKnown(partial []byte) (installed, known bool) {
	docker, _, known := bytes.Cut(partial, []byte(section2("hostname")))
	if !known {
		return false, false
	}
	var f Facts
	f.parseDocker(strings.Split(string(docker), "\n"))
	return f.Docker.Installed, true
}

// section2 is a section marker line as the script prints it.
func section2(name string) string { return "\n" + marker + name + "@@\n" }

// readFiles cuts content, the files' bytes one after another, by the sizes
// in the stat lines ("MODE SIZE PATH").
func (f *Facts) readFiles(stats []string, content []byte) error {
	for _, l := range stats {
		modeStr, rest, _ := strings.Cut(l, " ")
		sizeStr, path, ok := strings.Cut(rest, " ")
		if !ok {
			return fmt.Errorf("facts of %s: bad file line %q", f.Host, l)
		}
		mode, err := strconv.ParseUint(modeStr, 8, 32)
		if err != nil {
			return fmt.Errorf("facts of %s: bad mode for %s: %w", f.Host, path, err)
		}
		size, err := strconv.Atoi(sizeStr)
		if err != nil || size < 0 {
			return fmt.Errorf("facts of %s: bad size for %s: %q", f.Host, path, sizeStr)
		}
		if size > len(content) {
			return fmt.Errorf("facts of %s: %s: %w", f.Host, path, ErrFactsChanged)
		}
		f.Files[path] = &File{Data: content[:size:size], Mode: uint32(mode)}
		content = content[size:]
	}
	if len(content) != 0 {
		return fmt.Errorf("facts of %s: %d bytes more than stat said: %w", f.Host, len(content), ErrFactsChanged)
	}
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

// parseRoutes reads `ip -o -4 route show`, e.g.
// "172.16.10.0/24 dev mv-ens33.10 scope link src 172.16.10.250".
func (f *Facts) parseRoutes(lines []string) {
	for _, l := range lines {
		fields := strings.Fields(l)
		for i := 1; i+1 < len(fields); i++ {
			if fields[i] == "dev" {
				f.Routes[fields[i+1]] = append(f.Routes[fields[i+1]], fields[0])
				break
			}
		}
	}
}

// routesCmd reads the routes where a shim needs them checked: only a host
// with host access or a router pays for the process.
func routesCmd(inv *inventory.Inventory, h *inventory.Host) string {
	for i := range inv.Networks {
		if _, ok := inv.HostAddrOn(&inv.Networks[i], h.Name); ok {
			return "ip -o -4 route show"
		}
	}
	return "true"
}

// netToolsCmd finds the host's network configuration tools. On the
// article's hosts (network-scripts and ifup) that is two shell tests and
// nothing more; elsewhere systemctl says which network service runs, and
// where it is NetworkManager, nmcli which profile each device has active
// ($nmp: the parent's profile file, which the facts read).
func netToolsCmd(h *inventory.Host) string {
	lines := []string{
		"nmp=",
		"command -v ifup >/dev/null 2>&1 && echo ifup",
		"command -v netplan >/dev/null 2>&1 && echo netplan",
		sh.New("test", "-d", NetplanDir).Raw("&& echo netplan-dir").String(),
	}
	ask := []string{
		"st=$(systemctl is-active NetworkManager systemd-networkd 2>/dev/null); echo units $st",
		"case $st in active*)",
		"  a=$(nmcli -t -f DEVICE,FILENAME connection show --active 2>/dev/null)",
		"  while IFS=: read -r d p; do [ -n \"$d\" ] && echo \"nmactive $d:$p\"; [ \"$d\" = " + sh.Quote(h.Parent) + " ] && nmp=$p; done <<MVORCH_EOF",
		"$a",
		"MVORCH_EOF",
		";; esac",
	}
	switch h.NetworkConfig {
	case "ifcfg":
	case "networkmanager", "netplan":
		lines = append(lines, ask...)
	default:
		lines = append(lines, sh.New("test", "-d", NetworkScripts).Raw("&& command -v ifup >/dev/null 2>&1 || {").String())
		lines = append(lines, ask...)
		lines = append(lines, "}")
	}
	return strings.Join(append(lines, "true"), "\n")
}

func (f *Facts) parseNetTools(lines []string) {
	for _, l := range lines {
		word, rest, _ := strings.Cut(l, " ")
		switch word {
		case "ifup":
			f.Net.Ifup = true
		case "netplan":
			f.Net.Netplan = true
		case "netplan-dir":
			f.Net.NetplanDir = true
		case "units":
			st := strings.Fields(rest)
			f.Net.Asked = true
			f.Net.NetworkManager = len(st) > 0 && st[0] == "active"
			f.Net.Networkd = len(st) > 1 && st[1] == "active"
		case "nmactive":
			if dev, file, ok := strings.Cut(rest, ":"); ok {
				if f.Net.NMActive == nil {
					f.Net.NMActive = map[string]string{}
				}
				f.Net.NMActive[dev] = file
			}
		}
	}
}

// firewallCmd reads the filter table on a router, whose firewall unit is
// checked against it; elsewhere nothing.
func firewallCmd(inv *inventory.Inventory, h *inventory.Host) string {
	if len(inv.RoutedOn(h.Name)) == 0 {
		return "true"
	}
	return "command -v iptables >/dev/null 2>&1 && { echo iptables; iptables -w -S 2>/dev/null; }; true"
}

// unitGlobs are the shell globs of mvorch's units, for the facts script.
func unitGlobs() string { return quoteGlobs(unitFactGlobs) }

// backendGlobs are the shell globs of the files the other backends write or
// change, for the facts script (on a host without them, a glob costs nothing).
func backendGlobs(h *inventory.Host) string {
	return quoteGlobs([]string{
		NMDir + "/" + h.Parent + ".*.nmconnection",
		NMDir + "/" + unitPrefix + "*.nmconnection",
		NetplanDir + "/" + netplanPrefix + "*.yaml",
		NetworkdDir + "/10-netplan-*.network.d/" + networkdPromiscConf,
		networkdRunDir + "/10-netplan-" + h.Parent + ".network",
	})
}

// quoteGlobs quotes each glob but its one '*'.
func quoteGlobs(globs []string) string {
	q := make([]string, len(globs))
	for i, g := range globs {
		dir, base, ok := strings.Cut(g, "*")
		if !ok {
			q[i] = sh.Quote(g)
			continue
		}
		q[i] = sh.Quote(dir) + "*" + sh.Quote(base)
	}
	return strings.Join(q, " ")
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
		if l == "installed" {
			f.Docker.Installed = true
		}
		if state, ok := strings.CutPrefix(l, "unit ActiveState="); ok {
			f.Docker.Unit = state
		}
		if pid, ok := strings.CutPrefix(l, "dockerd "); ok {
			f.Docker.DaemonPID, _ = strconv.Atoi(pid)
		}
	}
}

// DockerAPI holds the answers of dockerd's Engine API that facts are made
// of: GET /info, /networks, /images/json, and /containers/{id}/json for
// every container.
type DockerAPI struct {
	Info       []byte
	Networks   []byte
	Images     []byte
	Containers [][]byte
}

type apiInfo struct {
	ServerVersion      string
	LiveRestoreEnabled bool
	Swarm              struct{ LocalNodeState string }
	RegistryConfig     struct {
		IndexConfigs          map[string]struct{ Secure bool }
		InsecureRegistryCIDRs []string
	}
}

type apiNetwork struct {
	Name   string
	Driver string
	IPAM   struct {
		Config []struct {
			Subnet, Gateway    string
			AuxiliaryAddresses map[string]string
		}
	}
	Options map[string]string
	Labels  map[string]string
}

type apiImage struct {
	ID       string `json:"Id"`
	RepoTags []string
}

// SetDocker fills the docker side of the facts from a running dockerd's
// answers. A network's containers are those whose settings name it,
// stopped ones included (docker's network view lists only running ones).
func (f *Facts) SetDocker(api DockerAPI) error {
	var info apiInfo
	if err := json.Unmarshal(api.Info, &info); err != nil {
		return fmt.Errorf("facts of %s: docker info: %w", f.Host, err)
	}
	f.Docker.Active = info.ServerVersion != ""
	f.Docker.Version = info.ServerVersion
	f.Docker.LiveRestore = info.LiveRestoreEnabled
	f.Docker.Swarm = info.Swarm.LocalNodeState == "active"
	f.Docker.Insecure = nil
	for name, c := range info.RegistryConfig.IndexConfigs {
		if !c.Secure {
			f.Docker.Insecure = append(f.Docker.Insecure, name)
		}
	}
	sort.Strings(f.Docker.Insecure)
	var nets []apiNetwork
	if err := json.Unmarshal(api.Networks, &nets); err != nil {
		return fmt.Errorf("facts of %s: docker networks: %w", f.Host, err)
	}
	for _, n := range nets {
		dn := &DockerNetwork{Name: n.Name, Driver: n.Driver, Parent: n.Options["parent"], Managed: n.Labels[ManagedLabel] == "true"}
		for _, c := range n.IPAM.Config {
			if !strings.Contains(c.Subnet, ":") {
				dn.Subnet, dn.Gateway, dn.Aux = c.Subnet, c.Gateway, c.AuxiliaryAddresses
			}
		}
		f.Docker.Networks[n.Name] = dn
	}
	for _, raw := range api.Containers {
		var c inspectContainer
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("facts of %s: docker containers: %w", f.Host, err)
		}
		f.addContainer(c)
	}
	for _, dn := range f.Docker.Networks {
		sort.Strings(dn.Containers)
	}
	var imgs []apiImage
	if err := json.Unmarshal(api.Images, &imgs); err != nil {
		return fmt.Errorf("facts of %s: docker images: %w", f.Host, err)
	}
	for _, img := range imgs {
		for _, ref := range img.RepoTags {
			if !strings.Contains(ref, "<none>") {
				f.Docker.Images[ref] = img.ID
			}
		}
	}
	return nil
}

type inspectContainer struct {
	Name   string
	Image  string // image ID
	Config struct {
		Image           string
		Labels          map[string]string
		Cmd, Entrypoint []string
		Env             []string
		Hostname        string
	}
	State      struct{ Running bool }
	HostConfig struct {
		RestartPolicy struct{ Name string }
		PortBindings  map[string][]struct{ HostIP, HostPort string }
		Binds         []string
		CapAdd        []string
		DNS           []string `json:"Dns"`
		Init          *bool
	}
	NetworkSettings struct {
		Networks map[string]struct {
			IPAddress  string
			MacAddress string
			IPAMConfig *struct{ IPv4Address string }
		}
	}
}

func (f *Facts) addContainer(c inspectContainer) {
	dc := &DockerContainer{
		Name: strings.TrimPrefix(c.Name, "/"), Image: c.Config.Image, ImageID: c.Image,
		Running: c.State.Running, Restart: c.HostConfig.RestartPolicy.Name,
		Managed: c.Config.Labels[ManagedLabel] == "true", Networks: map[string]string{},
		Cmd: c.Config.Cmd, Entrypoint: c.Config.Entrypoint, Env: envMap(c.Config.Env), Labels: c.Config.Labels,
		MACs: map[string]string{}, Hostname: c.Config.Hostname,
		Binds: c.HostConfig.Binds, CapAdd: c.HostConfig.CapAdd, DNS: c.HostConfig.DNS,
		Init: c.HostConfig.Init != nil && *c.HostConfig.Init,
	}
	for name, n := range c.NetworkSettings.Networks {
		dc.MACs[name] = strings.ToLower(n.MacAddress)
		ip := n.IPAddress
		if n.IPAMConfig != nil && n.IPAMConfig.IPv4Address != "" {
			ip = n.IPAMConfig.IPv4Address
		}
		dc.Networks[name] = ip
		if dn := f.Docker.Networks[name]; dn != nil {
			dn.Containers = append(dn.Containers, dc.Name)
		}
	}
	for port, bs := range c.HostConfig.PortBindings {
		for _, b := range bs {
			dc.Ports = append(dc.Ports, port+"->"+b.HostIP+":"+b.HostPort)
		}
	}
	sort.Strings(dc.Ports)
	f.Docker.Containers[dc.Name] = dc
}

// envMap reads docker's KEY=VALUE list; a value may hold '=' and newlines.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}
