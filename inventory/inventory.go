// Package inventory reads the TOML inventory that describes the hosts,
// VLANs, registry, images, macvlan networks and containers mvorch builds
// (DESIGN.md section 3). It is pure: no network, no processes. Everything
// it returns has been validated, so the rest of mvorch can put names and
// addresses into remote commands without checking them again.
package inventory

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Inventory is a validated inventory with every default applied. Slices keep
// the order of the file: output follows inventory order, never map order.
type Inventory struct {
	Path       string
	SSH        SSH
	Defaults   Defaults
	Hosts      []Host
	VLANs      []VLAN
	Registry   *Registry // nil when the inventory has no [registry]
	Images     []Image
	Networks   []Network
	Containers []Container
	Routers    []Router
}

// SSH is the [ssh] table. Zero values mean "not set": the transport then
// falls back to ~/.ssh/config and the usual ssh defaults (port 22, the local
// user, ~/.ssh/known_hosts), which is why no default is filled in here.
type SSH struct {
	User         string
	Port         int
	IdentityFile string
	KnownHosts   string
	Become       string // "" or "sudo"
	Jump         string // ProxyJump, as for ssh -J
}

// Defaults is the [defaults] table: what a host gets unless it says otherwise.
type Defaults struct {
	Parent  string // default "ens33", the article's NIC
	Promisc bool   // default true
	// NetworkConfig is how hosts' network configuration is written:
	// "auto" (default: chosen per host from its facts), "ifcfg",
	// "networkmanager" or "netplan".
	NetworkConfig string
}

// Host is one [[host]] with Parent and Promisc resolved from [defaults].
// The ssh fields are per-host overrides; zero means "use [ssh]" (see HostSSH).
type Host struct {
	Name    string
	Address string // defaults to Name, so that ssh_config aliases work
	Parent  string
	Promisc bool
	// NetworkConfig is [defaults]' unless the host says otherwise.
	NetworkConfig string
	User          string
	Port          int
	IdentityFile  string
	Jump          string
	Become        string
}

// VLAN is one [[vlan]]: an 802.1Q sub-interface <parent>.<ID> on each of its hosts.
type VLAN struct {
	ID      int
	Gateway netip.Addr
	Hosts   []VLANHost // in the order of the [[host]] entries, not of the file's table
}

// VLANHost is a host's address on a VLAN sub-interface, as written in ifcfg
// (IPADDR and PREFIX).
type VLANHost struct {
	Host string
	Addr netip.Prefix
}

// Registry is the [registry] table: the private registry container and how
// the docker daemons are told to trust it.
type Registry struct {
	Host  string // the [[host]] that runs the registry container
	Port  int    // default 5000
	Image string // default "registry:latest"
	Trust string // "daemon-json" (default), "dropin" or "unit"
	Name  string // container name, default "registry"
	// LiveRestore sets "live-restore": true in daemon.json (a reload applies
	// it) before a restart, so that the restart does not stop containers.
	LiveRestore bool
}

// Image is one [[image]]: Source, present on the registry host, is pushed to
// the registry as Tag.
type Image struct {
	Source string
	Tag    string
}

// Network is one [[network]]: a docker macvlan network, created identically
// on each host it exists on.
type Network struct {
	Name    string
	Subnet  netip.Prefix
	Gateway netip.Addr
	VLAN    int // 0: on the parent NIC itself
	// HostAccess gives hosts an address of their own on the network,
	// through a macvlan shim (see ShimName), in [[host]] order.
	HostAccess []HostAccess
}

// HostAccess is one entry of a network's host_access: Host reaches the
// network's containers from Addr, an address of the network's subnet.
type HostAccess struct {
	Host string
	Addr netip.Addr
}

// Router is one [[router]]: Host holds the gateway address of each of
// Networks (at least two) and forwards between exactly their subnets.
type Router struct {
	Host     string
	Networks []string
}

// Container is one [[container]] with a fixed address. The keys after
// Restart are optional: their zero value means "not set", and docker (or
// the image) decides.
type Container struct {
	Name    string
	Host    string
	Network string
	IP      netip.Addr
	Image   string // as written; see ImageRef for what docker is given
	Restart string // default "unless-stopped"

	Command    []string          // the arguments after the image; nil: the image's CMD
	Entrypoint []string          // nil: the image's ENTRYPOINT; else one program (docker run --entrypoint)
	Env        map[string]string // set in the container's environment
	Volumes    []string          // SRC:DST[:ro], SRC a host path or a named volume
	MACAddress string            // lowercase; "": docker picks one
	Hostname   string            // "": docker's default (the container id)
	Labels     map[string]string
	CapAdd     []string // capability names without CAP_, like NET_ADMIN
	DNS        []string // IPv4 addresses of DNS servers
	Init       bool     // docker run --init
}

// Load reads and checks the inventory at path. A file that cannot be read is
// an ordinary error; anything wrong inside it is reported as Problems.
func Load(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading inventory: %w", err)
	}
	return Parse(path, data)
}

// Parse checks an inventory given as bytes; path is used in messages only.
// On any problem it returns nil and Problems holding all of them.
func Parse(path string, data []byte) (*Inventory, error) {
	var tree map[string]any
	md, err := toml.Decode(string(data), &tree)
	if err != nil {
		return nil, syntaxProblems(path, string(data), err)
	}
	d := &decoder{file: path, lines: keyLines(string(data), md)}
	inv := d.inventory(tree)
	inv.Path = path
	// Cross-checks run even when single fields were wrong: every problem
	// at once. They skip values that did not decode, so one mistake is
	// reported once.
	validate(d, inv)
	if len(d.problems) > 0 {
		// Top to bottom, the order a person fixes a file in; problems
		// without a line (none at all) come first.
		sort.SliceStable(d.problems, func(i, j int) bool { return d.problems[i].Line < d.problems[j].Line })
		return nil, d.problems
	}
	return inv, nil
}

// syntaxProblems turns the parser's error into a Problem. Duplicate keys are
// worth their own wording: the usual cause is a second host written into
// the first [[host]] table.
func syntaxProblems(path, src string, err error) Problems {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return Problems{{File: path, Msg: err.Error()}}
	}
	p := Problem{File: path, Line: pe.Position.Line, Msg: "TOML syntax: " + pe.Message}
	if rest, ok := strings.CutPrefix(pe.Message, "Key '"); ok {
		if key, ok := strings.CutSuffix(rest, "' has already been defined."); ok {
			p.Key, p.Msg = duplicateKey(src, pe.Position.Line, key)
		}
	}
	return Problems{p}
}

// arrayKinds are the arrays of tables of an inventory.
var arrayKinds = []string{"host", "vlan", "image", "network", "container", "router"}

// duplicateKey words a key defined twice after what its line shows: a table
// header written twice, a key twice in one [[...]] entry (named with its
// index when the entries are written as [[...]] lines), or any other.
func duplicateKey(src string, line int, key string) (string, string) {
	lines := strings.Split(src, "\n")
	text := ""
	if line >= 1 && line <= len(lines) {
		text = strings.TrimSpace(lines[line-1])
	}
	if strings.HasPrefix(text, "[") && !strings.HasPrefix(text, "[[") {
		return key, fmt.Sprintf("the table [%s] is written twice; write it once, with all its keys (only [[...]] entries repeat)", key)
	}
	kind, rest, nested := strings.Cut(key, ".")
	if !nested || !slices.Contains(arrayKinds, kind) {
		return key, "defined twice; a key may appear once per table"
	}
	// The parser names no index; count the [[kind]] lines up to here.
	header := regexp.MustCompile(`^\s*\[\[\s*` + regexp.QuoteMeta(kind) + `\s*\]\]`)
	n := 0
	for _, l := range lines[:min(max(line-1, 0), len(lines))] {
		if header.MatchString(l) {
			n++
		}
	}
	if n > 0 {
		key = indexKey(kind, n) + "." + rest
	}
	if strings.Contains(rest, ".") {
		return key, "defined twice; a key may appear once per table"
	}
	return key, fmt.Sprintf("written twice in one [[%s]]; a key may appear once per entry, and a second entry starts with its own [[%s]] line", kind, kind)
}
