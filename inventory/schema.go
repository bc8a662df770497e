package inventory

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// One function per table of the inventory (DESIGN.md section 3): the keys it
// reads are the keys it allows, and each value is checked on its own here.
// Checks between values are in validate.go and validate_net.go.

const (
	defaultParent   = "ens33" // the article's NIC
	defaultRegPort  = 5000
	defaultRegImage = "registry:latest"
	// daemon-json applies by a reload, which interrupts no container; an
	// inventory that names another method keeps it (README: Trusting the
	// registry).
	defaultTrust   = "daemon-json"
	defaultRegName = "registry"
	defaultRestart = "unless-stopped"
)

func checkBecome(s string) string {
	if s == "" || s == "sudo" {
		return ""
	}
	return `must be "sudo", or left out to run commands as the login user`
}

// checkRef is for a reference to another entry by name. Only the empty
// name is checked here: validate reports a name that is no entry's, and an
// entry's own name has been checked where it is defined.
func checkRef(kind string) func(string) string {
	return func(s string) string {
		if s == "" {
			return "must not be empty; write the name of one of the " + kind + " entries"
		}
		return ""
	}
}

func checkTrust(s string) string {
	return oneOf(s, "dropin", "unit", "daemon-json")
}

// NetworkConfigs are the values of network_config: auto, then the
// backends mvorch has (steps/netbackend_*.go).
var NetworkConfigs = []string{"auto", "ifcfg", "networkmanager", "netplan"}

func checkNetworkConfig(s string) string {
	return oneOf(s, NetworkConfigs...)
}

func checkRestart(s string) string {
	return oneOf(s, "no", "always", "unless-stopped", "on-failure")
}

func (d *decoder) inventory(tree map[string]any) *Inventory {
	root := &table{d: d, kind: "the top level", m: tree, present: true}
	inv := &Inventory{
		SSH:      d.ssh(root.sub("ssh", "[ssh]")),
		Defaults: d.defaults(root.sub("defaults", "[defaults]")),
	}
	before := len(d.problems)
	hostTables := root.list("host", "[[host]]")
	if len(hostTables) == 0 && len(d.problems) == before {
		d.report("", nil, `no [[host]]: an inventory needs at least one host, like [[host]] name = "docker01" address = "192.168.1.11"`)
	}
	for _, t := range hostTables {
		inv.Hosts = append(inv.Hosts, d.host(t, inv.Defaults))
	}
	d.hosts = inv.Hosts
	for _, t := range root.list("vlan", "[[vlan]]") {
		inv.VLANs = append(inv.VLANs, d.vlan(t, inv.Hosts))
	}
	inv.Registry = d.registry(root.sub("registry", "[registry]"))
	for _, t := range root.list("image", "[[image]]") {
		inv.Images = append(inv.Images, d.image(t))
	}
	for _, t := range root.list("network", "[[network]]") {
		inv.Networks = append(inv.Networks, d.network(t))
	}
	for _, t := range root.list("container", "[[container]]") {
		inv.Containers = append(inv.Containers, d.container(t))
	}
	for _, t := range root.list("router", "[[router]]") {
		inv.Routers = append(inv.Routers, d.router(t))
	}
	root.finish()
	return inv
}

func (d *decoder) ssh(t *table) SSH {
	defer t.finish()
	return SSH{
		User:         t.str("user", checkUser),
		Port:         t.port("port"),
		IdentityFile: t.str("identity_file", checkPath),
		KnownHosts:   t.str("known_hosts", checkPath),
		Become:       t.str("become", checkBecome),
		Jump:         t.str("jump", checkJump),
	}
}

func (d *decoder) defaults(t *table) Defaults {
	defer t.finish()
	return Defaults{
		Parent:  t.strOr("parent", defaultParent, checkParent),
		Promisc: boolOr(t.boolean("promisc"), true),
		// auto keeps the article's ifcfg where network-scripts are there.
		NetworkConfig: t.strOr("network_config", "auto", checkNetworkConfig),
	}
}

func (d *decoder) host(t *table, defaults Defaults) Host {
	defer t.finish()
	t.need("name", `a name, like name = "docker01"`)
	h := Host{
		Name:          t.str("name", checkHostName),
		Address:       t.str("address", checkAddress),
		Parent:        t.strOr("parent", defaults.Parent, checkParent),
		Promisc:       boolOr(t.boolean("promisc"), defaults.Promisc),
		NetworkConfig: t.strOr("network_config", defaults.NetworkConfig, checkNetworkConfig),
		User:          t.str("user", checkUser),
		Port:          t.port("port"),
		IdentityFile:  t.str("identity_file", checkPath),
		Jump:          t.str("jump", checkJump),
		Become:        t.str("become", checkBecome),
	}
	if !t.has("address") {
		h.Address = h.Name
		// The name stands in for the address only if ssh can use it as one.
		if h.Name != "" && checkHostName(h.Name) == "" && checkAddress(h.Name) != "" {
			d.report(t.key("address"), nil, fmt.Sprintf("not set, and the name %q is not usable as one; add address = \"<IPv4 address or host name>\"", h.Name))
		}
	}
	return h
}

func (d *decoder) vlan(t *table, hosts []Host) VLAN {
	defer t.finish()
	t.need("id", "an id, its 802.1Q tag 1..4094")
	t.need("gateway", `a gateway, like gateway = "192.168.10.2"`)
	t.need("hosts", `hosts, like hosts = { docker01 = "192.168.10.10/24" }`)
	return VLAN{
		ID:      t.integer("id", 1, 4094, "VLAN ids are 1..4094 (802.1Q)"),
		Gateway: t.ipv4("gateway"),
		Hosts:   d.vlanHosts(t, hosts),
	}
}

// vlanHosts reads hosts = { NAME = "ADDRESS/BITS", ... } in the order of the
// [[host]] entries; names that are no host come last, for validate to report.
func (d *decoder) vlanHosts(t *table, hosts []Host) []VLANHost {
	sub := d.hostTable(t, "hosts", "VLAN hosts", `write hosts = { docker01 = "192.168.10.10/24", ... }`, "")
	if sub == nil {
		return nil
	}
	var out []VLANHost
	for _, name := range d.hostOrder(sub, hosts) {
		if v, ok := sub.m[name]; ok {
			if _, ok := v.(string); !ok {
				sub.get(name)
				sub.wrongType(name, v, "a string", fmt.Sprintf("write %s = \"192.168.10.10/24\", the host's address and prefix length on the VLAN", joinKey("", name)))
				out = append(out, VLANHost{Host: name})
				continue
			}
		}
		out = append(out, VLANHost{Host: name, Addr: sub.prefix(name, nil)})
	}
	return out
}

// hostTable is the table under name whose keys are host names, or nil when
// it is absent or not a table (reported, with write as the way to write it).
func (d *decoder) hostTable(t *table, name, kind, write, orElse string) *table {
	v, ok := t.get(name)
	if !ok {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.wrongType(name, v, "a table", write)
		return nil
	}
	sub := &table{d: d, path: t.key(name), kind: kind, m: m, present: true}
	if len(m) == 0 {
		d.report(sub.path, nil, "lists no hosts; "+write+orElse)
	}
	return sub
}

// hostOrder sorts the keys of a table of hosts: known hosts in inventory
// order, then the rest top to bottom.
func (d *decoder) hostOrder(t *table, hosts []Host) []string {
	rank := func(name string) (int, int) {
		i := slices.IndexFunc(hosts, func(h Host) bool { return h.Name == name })
		if i < 0 {
			return len(hosts), d.line(t.key(name))
		}
		return i, 0
	}
	names := make([]string, 0, len(t.m))
	for name := range t.m {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		ia, la := rank(a)
		ib, lb := rank(b)
		if ia != ib {
			return ia - ib
		}
		if la != lb {
			return la - lb
		}
		return cmp.Compare(a, b)
	})
	return names
}

func (d *decoder) registry(t *table) *Registry {
	defer t.finish()
	if !t.present {
		return nil
	}
	t.need("host", `a host, the [[host]] name that runs the registry, like host = "docker01"`)
	return &Registry{
		Host:        t.str("host", checkRef("[[host]]")),
		Port:        intOr(t, "port", defaultRegPort, t.port),
		Image:       t.strOr("image", defaultRegImage, checkImageRef),
		Trust:       t.strOr("trust", defaultTrust, checkTrust),
		Name:        t.strOr("name", defaultRegName, checkContainerName),
		LiveRestore: boolOr(t.boolean("live_restore"), false),
	}
}

func (d *decoder) image(t *table) Image {
	defer t.finish()
	t.need("source", `a source, the image on the registry host, like source = "busybox:latest"`)
	t.need("tag", `a tag to push it as, like tag = "busybox:v1"`)
	return Image{
		Source: t.str("source", checkImageRef),
		Tag:    t.str("tag", checkImageTag),
	}
}

func (d *decoder) network(t *table) Network {
	defer t.finish()
	t.need("name", `a name, like name = "mac_net10"`)
	t.need("subnet", `a subnet, like subnet = "172.16.10.0/24"`)
	t.need("gateway", `a gateway, like gateway = "172.16.10.1"`)
	return Network{
		Name:       t.str("name", checkNetworkName),
		Subnet:     t.prefix("subnet", checkNetworkAddr),
		Gateway:    t.ipv4("gateway"),
		VLAN:       t.integer("vlan", 1, 4094, "VLAN ids are 1..4094; leave vlan out to put the network on the parent NIC itself"),
		HostAccess: d.hostAccess(t),
	}
}

// hostAccess reads host_access = { NAME = "ADDRESS", ... } in the order of
// the [[host]] entries; names that are no host come last, for validate.
func (d *decoder) hostAccess(t *table) []HostAccess {
	sub := d.hostTable(t, "host_access", "host access", `write host_access = { docker01 = "172.16.10.250", ... }`, ", or leave it out")
	if sub == nil {
		return nil
	}
	var out []HostAccess
	for _, name := range d.hostOrder(sub, d.hosts) {
		out = append(out, HostAccess{Host: name, Addr: sub.ipv4(name)})
	}
	return out
}

// checkNetworkAddr: docker wants the network address, not an address in it.
func checkNetworkAddr(p netip.Prefix) string {
	if p != p.Masked() {
		return fmt.Sprintf("has host bits set; the network address would be %s", p.Masked())
	}
	return ""
}

func (d *decoder) container(t *table) Container {
	defer t.finish()
	t.need("name", `a name, like name = "bbox10"`)
	t.need("host", `a host, the [[host]] name it runs on`)
	t.need("network", `a network, the [[network]] name it joins`)
	t.need("ip", `an ip, its fixed address in the network's subnet`)
	t.need("image", `an image, an [[image]] tag or any image reference`)
	return Container{
		Name:    t.str("name", checkContainerName),
		Host:    t.str("host", checkRef("[[host]]")),
		Network: t.str("network", checkRef("[[network]]")),
		IP:      t.ipv4("ip"),
		Image:   t.str("image", checkImageRef),
		Restart: t.strOr("restart", defaultRestart, checkRestart),

		Command:    t.command("command"),
		Entrypoint: t.entrypoint("entrypoint"),
		Env:        t.strTable("env", checkEnvName, checkArg),
		Volumes:    t.volumes("volumes"),
		MACAddress: strings.ToLower(t.str("mac_address", checkMAC)),
		Hostname:   t.str("hostname", checkContainerHostname),
		Labels:     t.strTable("labels", checkLabelKey, checkArg),
		CapAdd:     t.strList("cap_add", "", checkCap, true),
		DNS:        t.strList("dns", "", checkDNS, true),
		Init:       boolOr(t.boolean("init"), false),
	}
}

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

func intOr(t *table, name string, def int, read func(string) int) int {
	if !t.has(name) {
		t.get(name)
		return def
	}
	return read(name)
}

func (d *decoder) router(t *table) Router {
	defer t.finish()
	t.need("host", `a host, like host = "docker02"`)
	t.need("networks", `networks, like networks = ["mac_net10", "mac_net20"]`)
	return Router{
		Host:     t.str("host", checkRef("[[host]]")),
		Networks: t.strList("networks", `write networks = ["mac_net10", "mac_net20"]`, nil, false),
	}
}
