package inventory

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// problemsOf parses doc as t.toml and returns its problems, one string each.
func problemsOf(t *testing.T, doc string) []string {
	t.Helper()
	inv, err := Parse("t.toml", []byte(doc))
	if err == nil {
		if inv == nil {
			t.Fatal("Parse returned neither inventory nor error")
		}
		return nil
	}
	if inv != nil {
		t.Error("Parse returned an inventory along with problems")
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error is %T, want Problems: %v", err, err)
	}
	return strings.Split(ps.Error(), "\n")
}

func checkProblems(t *testing.T, doc string, want []string) {
	t.Helper()
	got := problemsOf(t, doc)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Each case appends to testdata/base.toml, a valid 44-line inventory, so
// the case's own lines start at 45.
func TestRules(t *testing.T) {
	base, err := os.ReadFile("testdata/base.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		snippet string
		want    []string
	}{
		{"base is valid", "", nil},
		{"same container name on two hosts is fine", `
[[container]]
name = "bbox1"
host = "docker01"
network = "mac_net1"
ip = "172.22.16.10"
image = "busybox"
[[container]]
name = "bbox1"
host = "docker02"
network = "mac_net1"
ip = "172.22.16.11"
image = "busybox"
`, nil},
		{"full registry reference is fine", `
[[container]]
name = "c1"
host = "docker02"
network = "mac_net1"
ip = "172.22.16.11"
image = "192.168.1.11:5000/busybox:v1"
`, nil},

		// Unknown keys and types.
		{"unknown key in a host", `
[[host]]
name = "docker03"
adress = "192.168.1.14"
`, []string{
			`t.toml:48: host[3].adress = "192.168.1.14": unknown key (did you mean "address"?); known in [[host]]: name, address, parent, promisc, network_config, user, port, identity_file, jump, become`,
		}},
		{"unknown key in the second of two new containers", `
[[container]]
name = "c1"
host = "docker02"
network = "mac_net1"
ip = "172.22.16.11"
image = "busybox"
[[container]]
name = "c2"
host = "docker02"
network = "mac_net1"
ip = "172.22.16.12"
imgae = "busybox"
`, []string{
			`t.toml:52: container[4].image: missing; every [[container]] needs an image, an [[image]] tag or any image reference`,
			`t.toml:57: container[4].imgae = "busybox": unknown key (did you mean "image"?); known in [[container]]: name, host, network, ip, image, restart, command, entrypoint, env, volumes, mac_address, hostname, labels, cap_add, dns, init`,
		}},
		{"unknown table", `
[hosts]
name = "docker03"
`, []string{
			`t.toml:46: hosts: unknown table or key (did you mean "host"?); known at the top level: ssh, defaults, host, vlan, registry, image, network, container, router`,
		}},
		{"string for an integer", `
[ssh]
port = "22"
`, []string{`t.toml:47: ssh.port = "22": must be an integer, not a string: write port = 22, without quotes`}},
		{"array of tables for a table", `
[[ssh]]
user = "root"
`, []string{`t.toml:46: ssh: must be a single table: write [ssh], not [[ssh]]`}},
		{"missing keys and wrong types in a container", `
[[container]]
name = "c1"
restart = "sometimes"
ip = 17
`, []string{
			`t.toml:46: container[3].host: missing; every [[container]] needs a host, the [[host]] name it runs on`,
			`t.toml:46: container[3].network: missing; every [[container]] needs a network, the [[network]] name it joins`,
			`t.toml:46: container[3].image: missing; every [[container]] needs an image, an [[image]] tag or any image reference`,
			`t.toml:48: container[3].restart = "sometimes": must be one of "no", "always", "unless-stopped", "on-failure"`,
			`t.toml:49: container[3].ip = 17: must be a string, not an integer`,
		}},

		// [ssh] and per-host settings.
		{"ssh port range", `
[ssh]
port = 70000
`, []string{`t.toml:47: ssh.port = 70000: out of range; a port is 1..65535`}},
		{"ssh values", `
[ssh]
user = "root;id"
become = "su"
jump = "admin@bastion:22 x"
identity_file = "$HOME/.ssh/id"
known_hosts = ""
`, []string{
			`t.toml:47: ssh.user = "root;id": must not contain ';' (quotes and shell metacharacters are refused)`,
			`t.toml:48: ssh.become = "su": must be "sudo", or left out to run commands as the login user`,
			`t.toml:49: ssh.jump = "admin@bastion:22 x": must not contain whitespace (here ' ', U+0020)`,
			`t.toml:50: ssh.identity_file = "$HOME/.ssh/id": environment variables are not expanded; write the path out, or start it with ~/ for your home directory`,
			`t.toml:51: ssh.known_hosts = "": must not be empty; leave the key out to use the ssh default`,
		}},
		{"jump hop that is an option", `
[ssh]
jump = "admin@bastion,-oProxyCommand=x"
`, []string{`t.toml:47: ssh.jump = "admin@bastion,-oProxyCommand=x": hop "-oProxyCommand=x" is not [user@]host[:port]; separate several hops with ','`}},
		{"host port and promisc", `
[[host]]
name = "docker03"
port = 0
promisc = "yes"
`, []string{
			`t.toml:48: host[3].port = 0: out of range; a port is 1..65535`,
			`t.toml:49: host[3].promisc = "yes": must be true or false, not a string: write promisc = true or promisc = false, without quotes`,
		}},
		{"network_config not a backend", `
[[host]]
name = "docker03"
network_config = "nmcli"
`, []string{
			`t.toml:48: host[3].network_config = "nmcli": must be one of "auto", "ifcfg", "networkmanager", "netplan"`,
		}},

		// Hosts.
		{"host name with a metacharacter", `
[[host]]
name = "docker_03!"
address = "192.168.1.14"
`, []string{`t.toml:47: host[3].name = "docker_03!": must not contain '!' (quotes and shell metacharacters are refused)`}},
		{"host name like an option", `
[[host]]
name = "-docker03"
address = "192.168.1.14"
`, []string{`t.toml:47: host[3].name = "-docker03": must not start with '-' (it would read as a command-line option)`}},
		{"host name too long", `
[[host]]
name = "` + strings.Repeat("d", 64) + `"
address = "192.168.1.14"
`, []string{`t.toml:47: host[3].name = "` + strings.Repeat("d", 64) + `": is 64 characters; a host name is at most 63`}},
		{"host without name", `
[[host]]
address = "192.168.1.14"
`, []string{`t.toml:46: host[3].name: missing; every [[host]] needs a name, like name = "docker01"`}},
		{"IPv6 host address", `
[[host]]
name = "docker03"
address = "fe80::1"
`, []string{`t.toml:48: host[3].address = "fe80::1": IPv6 addresses are not supported; use an IPv4 address or a host name`}},
		{"bad IPv4 host address", `
[[host]]
name = "docker03"
address = "192.168.1.256"
`, []string{`t.toml:48: host[3].address = "192.168.1.256": not a valid IPv4 address (four numbers 0-255 without leading zeros, like 192.168.1.11)`}},
		{"host address with a backquote", "\n[[host]]\nname = \"docker03\"\naddress = \"docker03`id`\"\n", []string{
			"t.toml:48: host[3].address = \"docker03`id`\": must not contain '`' (quotes and shell metacharacters are refused)",
		}},
		{"name that cannot stand in for the address", `
[[host]]
name = "docker..03"
`, []string{`t.toml:46: host[3].address: not set, and the name "docker..03" is not usable as one; add address = "<IPv4 address or host name>"`}},
		{"duplicate host name", `
[[host]]
name = "docker01"
address = "192.168.1.14"
`, []string{`t.toml:47: host[3].name = "docker01": already the name of host[1] (line 1); host names must be unique`}},
		{"duplicate host address", `
[[host]]
name = "docker03"
address = "192.168.1.11"
`, []string{`t.toml:48: host[3].address = "192.168.1.11": docker01 (host[1], line 1) has the same address; each host needs its own`}},
		{"parent NIC names", `
[[host]]
name = "docker03"
parent = "enp0s31f6verylong"
[[host]]
name = "docker04"
parent = "eth0:1"
`, []string{
			`t.toml:48: host[3].parent = "enp0s31f6verylong": is 17 characters; Linux NIC names are at most 15 (IFNAMSIZ)`,
			`t.toml:51: host[4].parent = "eth0:1": not a valid NIC name: use letters, digits, '_', '.' or '-', not starting with '.' or '-'`,
		}},
		{"default parent", `
[defaults]
parent = "ens/33"
`, []string{`t.toml:47: defaults.parent = "ens/33": not a valid NIC name: use letters, digits, '_', '.' or '-', not starting with '.' or '-'`}},

		// VLANs.
		{"VLAN id out of range, gateway missing", `
[[vlan]]
id = 4095
hosts = { docker01 = "192.168.30.10/24" }
`, []string{
			`t.toml:46: vlan[2].gateway: missing; every [[vlan]] needs a gateway, like gateway = "192.168.10.2"`,
			`t.toml:47: vlan[2].id = 4095: out of range; VLAN ids are 1..4094 (802.1Q)`,
		}},
		{"duplicate VLAN id", `
[[vlan]]
id = 10
gateway = "192.168.30.2"
hosts = { docker01 = "192.168.30.10/24" }
`, []string{`t.toml:47: vlan[2].id = 10: already the id of vlan[1] (line 9); VLAN ids must be unique`}},
		{"VLAN address forms", `
[[vlan]]
id = 30
gateway = "fe80::1"
hosts = { docker01 = "192.168.30.10", docker02 = "fe80::2/64" }
`, []string{
			`t.toml:48: vlan[2].gateway = "fe80::1": IPv6 is not supported; use an IPv4 address`,
			`t.toml:49: vlan[2].hosts.docker01 = "192.168.30.10": missing the prefix length: write it as 192.168.30.10/24 (or the length of your subnet)`,
			`t.toml:49: vlan[2].hosts.docker02 = "fe80::2/64": IPv6 is not supported; use an IPv4 address with prefix length`,
		}},
		{"VLAN /31", `
[[vlan]]
id = 30
gateway = "192.168.30.2"
hosts = { docker01 = "192.168.30.10/31" }
`, []string{`t.toml:49: vlan[2].hosts.docker01 = "192.168.30.10/31": a /31 subnet has no room for a gateway and hosts; use /30 or shorter`}},
		{"VLAN host that is no host", `
[[vlan]]
id = 30
gateway = "192.168.30.2"
hosts = { docker01 = "192.168.30.10/24", docker03 = "192.168.30.12/24" }
`, []string{`t.toml:49: vlan[2].hosts.docker03: no [[host]] has this name; known hosts: docker01, docker02`}},
		{"VLAN address is network, broadcast or gateway", `
[[vlan]]
id = 30
gateway = "192.168.30.2"
hosts = { docker01 = "192.168.30.0/24", docker02 = "192.168.30.255/24" }
[[vlan]]
id = 40
gateway = "192.168.40.2"
hosts = { docker01 = "192.168.40.2/24" }
`, []string{
			`t.toml:49: vlan[2].hosts.docker01 = "192.168.30.0/24": 192.168.30.0 is the network address of 192.168.30.0/24; a host needs an address inside it`,
			`t.toml:49: vlan[2].hosts.docker02 = "192.168.30.255/24": 192.168.30.255 is the broadcast address of 192.168.30.0/24; a host needs an address inside it`,
			`t.toml:53: vlan[3].hosts.docker01 = "192.168.40.2/24": is the VLAN's gateway; the host needs an address of its own`,
		}},
		{"VLAN gateway outside a host's subnet", `
[[vlan]]
id = 30
gateway = "192.168.30.2"
hosts = { docker01 = "192.168.30.10/24", docker02 = "192.168.31.11/24" }
`, []string{`t.toml:49: vlan[2].hosts.docker02 = "192.168.31.11/24": the VLAN's gateway 192.168.30.2 is outside this address's subnet 192.168.31.0/24; every host address in a VLAN must share the gateway's subnet`}},
		{"VLAN gateway is the network address", `
[[vlan]]
id = 30
gateway = "192.168.30.0"
hosts = { docker01 = "192.168.30.10/24" }
`, []string{`t.toml:48: vlan[2].gateway = "192.168.30.0": is the network address of 192.168.30.0/24; the gateway must be a host address`}},
		{"VLAN address clash", `
[[vlan]]
id = 30
gateway = "192.168.30.2"
hosts = { docker01 = "192.168.30.10/24", docker02 = "192.168.30.10/24" }
`, []string{`t.toml:49: vlan[2].hosts.docker02 = "192.168.30.10/24": docker01 has the same address in VLAN 30; each host needs its own`}},
		{"VLAN interface name over IFNAMSIZ", `
[[host]]
name = "docker03"
address = "192.168.1.14"
parent = "enp0s31f6abcde"
[[vlan]]
id = 30
gateway = "192.168.30.2"
hosts = { docker03 = "192.168.30.10/24" }
`, []string{`t.toml:53: vlan[2].hosts.docker03: the VLAN interface enp0s31f6abcde.30 would be 17 characters; Linux allows at most 15 (IFNAMSIZ): give docker03 a shorter parent NIC name`}},
		{"two VLANs of one host in one subnet", `
[[vlan]]
id = 30
gateway = "192.168.10.1"
hosts = { docker01 = "192.168.10.20/24" }
`, []string{`t.toml:49: vlan[2].hosts.docker01 = "192.168.10.20/24": overlaps docker01's VLAN 10 address 192.168.10.10/24 (vlan[1].hosts.docker01, line 12); one host cannot have two interfaces in one subnet`}},
		{"VLAN hosts empty or not a table", `
[[vlan]]
id = 30
gateway = "192.168.30.2"
hosts = {}
[[vlan]]
id = 40
gateway = "192.168.40.2"
hosts = ["docker01"]
`, []string{
			`t.toml:49: vlan[2].hosts: lists no hosts; write hosts = { docker01 = "192.168.10.10/24", ... }`,
			`t.toml:53: vlan[3].hosts: must be a table, not an array: write hosts = { docker01 = "192.168.10.10/24", ... }`,
		}},
		{"VLAN hosts as a sub-table", `
[[vlan]]
id = 30
gateway = "192.168.30.2"
[vlan.hosts]
docker01 = "192.168.30.10/24"
docker02 = 5
`, []string{`t.toml:51: vlan[2].hosts.docker02 = 5: must be a string, not an integer: write docker02 = "192.168.10.10/24", the host's address and prefix length on the VLAN`}},

		// Registry and images.
		{"container named like the registry", `
[[container]]
name = "registry"
host = "docker01"
network = "mac_net1"
ip = "172.22.16.30"
image = "busybox"
`, []string{`t.toml:47: container[3].name = "registry": is the name of the registry container on docker01; pick another name, or rename the registry with registry.name`}},
		{"image tags", `
[[image]]
source = "alpine:3"
tag = "busybox:v1"
[[image]]
source = "alpine:3"
tag = "192.168.1.11:5000/alpine:3"
`, []string{
			`t.toml:48: image[2].tag = "busybox:v1": already the tag of image[1] (line 17); each [[image]] needs its own`,
			`t.toml:51: image[3].tag = "192.168.1.11:5000/alpine:3": a tag is pushed as <registry address>/<tag>, so it must not name a registry itself; write "alpine:3"`,
		}},
		{"image source without the registry port", `
[[image]]
source = "192.168.1.11/alpine:3"
tag = "alpine:3"
`, []string{`t.toml:47: image[2].source = "192.168.1.11/alpine:3": names the registry 192.168.1.11 (docker01) without its port 5000, so docker would try 192.168.1.11:443; write "192.168.1.11:5000/alpine:3", or just the [[image]] tag "alpine:3"`}},
		{"image references", `
[[image]]
source = "Alpine:3"
tag = "alpine@sha256:0123456789abcdef0123456789abcdef"
[[image]]
source = "alpine:3 && id"
tag = "alpine:3"
[[image]]
source = "alpine::3"
tag = "-alpine"
`, []string{
			`t.toml:47: image[2].source = "Alpine:3": repository names must be lowercase (only a registry host may have capitals)`,
			`t.toml:48: image[2].tag = "alpine@sha256:0123456789abcdef0123456789abcdef": a tag cannot carry a digest; write NAME[:TAG], like busybox:v1`,
			`t.toml:50: image[3].source = "alpine:3 && id": must not contain whitespace (here ' ', U+0020)`,
			`t.toml:53: image[4].source = "alpine::3": not a valid image reference: write [REGISTRY[:PORT]/]NAME[:TAG][@DIGEST], like busybox:latest or 192.168.1.11:5000/busybox:v1`,
			`t.toml:54: image[4].tag = "-alpine": must not start with '-' (it would read as a command-line option)`,
		}},

		// Networks.
		{"network names and vlan 0", `
[[network]]
name = "mac_net10"
subnet = "172.16.30.0/24"
gateway = "172.16.30.1"
[[network]]
name = "bridge"
subnet = "172.16.40.0/24"
gateway = "172.16.40.1"
vlan = 0
`, []string{
			`t.toml:47: network[3].name = "mac_net10": already the name of network[1] (line 21); network names must be unique`,
			`t.toml:51: network[4].name = "bridge": "bridge" is one of docker's own networks; pick another name`,
			`t.toml:54: network[4].vlan = 0: out of range; VLAN ids are 1..4094; leave vlan out to put the network on the parent NIC itself`,
		}},
		{"network subnet with host bits, gateway outside", `
[[network]]
name = "mac_net30"
subnet = "172.16.30.1/24"
gateway = "172.16.30.1"
[[network]]
name = "mac_net40"
subnet = "172.16.40.0/24"
gateway = "172.16.41.1"
`, []string{
			`t.toml:48: network[3].subnet = "172.16.30.1/24": has host bits set; the network address would be 172.16.30.0/24`,
			`t.toml:53: network[4].gateway = "172.16.41.1": outside the subnet 172.16.40.0/24; the gateway must be an address in it, like 172.16.40.1`,
		}},
		{"network gateway broadcast, unknown VLAN", `
[[network]]
name = "mac_net30"
subnet = "172.16.30.0/24"
gateway = "172.16.30.255"
vlan = 30
`, []string{
			`t.toml:49: network[3].gateway = "172.16.30.255": is the broadcast address of 172.16.30.0/24; the gateway must be a host address, like 172.16.30.1`,
			`t.toml:50: network[3].vlan = 30: no [[vlan]] has this id; known VLAN ids: 10`,
		}},
		{"overlapping networks", `
[[network]]
name = "mac_net16"
subnet = "172.16.0.0/16"
gateway = "172.16.0.1"
vlan = 10
`, []string{`t.toml:48: network[3].subnet = "172.16.0.0/16": overlaps mac_net10's subnet 172.16.10.0/24 (network[1], line 21); networks must not overlap`}},
		{"network IPv6 subnet, gateway with prefix", `
[[network]]
name = "mac_net6"
subnet = "fd00::/64"
gateway = "172.16.30.1/24"
`, []string{
			`t.toml:48: network[3].subnet = "fd00::/64": IPv6 is not supported; use an IPv4 address with prefix length`,
			`t.toml:49: network[3].gateway = "172.16.30.1/24": must be an address without a prefix length, like 192.168.10.2`,
		}},

		// Containers.
		{"container references", `
[[container]]
name = "bbox30"
host = "docker03"
network = "mac_net30"
ip = "172.16.30.10"
image = "busybox"
`, []string{
			`t.toml:48: container[3].host = "docker03": no [[host]] has this name; known hosts: docker01, docker02`,
			`t.toml:49: container[3].network = "mac_net30": no [[network]] has this name; known networks: mac_net10, mac_net1`,
		}},
		{"container name twice on one host", `
[[container]]
name = "bbox10"
host = "docker01"
network = "mac_net1"
ip = "172.22.16.10"
image = "busybox"
`, []string{`t.toml:47: container[3].name = "bbox10": docker01 already runs a container with this name (container[1], line 32); container names are unique per host`}},
		{"container addresses", `
[[container]]
name = "c1"
host = "docker01"
network = "mac_net10"
ip = "172.16.11.10"
image = "busybox"
[[container]]
name = "c2"
host = "docker01"
network = "mac_net10"
ip = "172.16.10.1"
image = "busybox"
[[container]]
name = "c3"
host = "docker01"
network = "mac_net10"
ip = "172.16.10.255"
image = "busybox"
[[container]]
name = "c4"
host = "docker01"
network = "mac_net10"
ip = "172.16.10.0"
image = "busybox"
`, []string{
			`t.toml:50: container[3].ip = "172.16.11.10": outside mac_net10's subnet 172.16.10.0/24; pick an address in it, like 172.16.10.2`,
			`t.toml:56: container[4].ip = "172.16.10.1": is mac_net10's gateway; pick another address, like 172.16.10.2`,
			`t.toml:62: container[5].ip = "172.16.10.255": is the broadcast address of mac_net10's subnet 172.16.10.0/24; pick a host address, like 172.16.10.2`,
			`t.toml:68: container[6].ip = "172.16.10.0": is the network address of mac_net10's subnet 172.16.10.0/24; pick a host address, like 172.16.10.2`,
		}},
		{"container address used on another host", `
[[container]]
name = "bbox12"
host = "docker02"
network = "mac_net10"
ip = "172.16.10.10"
image = "busybox:v1"
`, []string{`t.toml:50: container[3].ip = "172.16.10.10": already used by bbox10 on docker01 (container[1], line 32) in mac_net10; a network is one layer-2 segment across all hosts, so each container needs its own address, like 172.16.10.12`}},
		{"container on a VLAN its host is not on", `
[[host]]
name = "docker03"
address = "192.168.1.14"
[[container]]
name = "bbox13"
host = "docker03"
network = "mac_net10"
ip = "172.16.10.13"
image = "busybox:v1"
`, []string{`t.toml:52: container[3].network = "mac_net10": mac_net10 is on VLAN 10, where docker03 has no address (vlan[1], line 9); add docker03 to that VLAN's hosts, or run the container on docker01 or docker02`}},
		{"container images that bypass the registry address", `
[[container]]
name = "c1"
host = "docker02"
network = "mac_net1"
ip = "172.22.16.11"
image = "docker01/busybox:v1"
[[container]]
name = "c2"
host = "docker02"
network = "mac_net1"
ip = "172.22.16.12"
image = "192.168.1.11:5001/busybox:v1"
[[container]]
name = "c3"
host = "docker02"
network = "mac_net1"
ip = "172.22.16.13"
image = "docker01:5000/other:v2"
`, []string{
			`t.toml:51: container[3].image = "docker01/busybox:v1": names the registry docker01 without its port 5000, so docker would look for docker01/busybox:v1 on Docker Hub; write "192.168.1.11:5000/busybox:v1", or just the [[image]] tag "busybox:v1"`,
			`t.toml:57: container[4].image = "192.168.1.11:5001/busybox:v1": the registry on docker01 is reached and trusted as 192.168.1.11:5000; write "192.168.1.11:5000/busybox:v1", or just the [[image]] tag "busybox:v1"`,
			`t.toml:63: container[5].image = "docker01:5000/other:v2": the registry on docker01 is reached and trusted as 192.168.1.11:5000; write "192.168.1.11:5000/other:v2"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, string(base)+tt.snippet, tt.want)
		})
	}
}

// Cases that cannot start from base.toml.
func TestWholeDocuments(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"empty file", "", []string{
			`t.toml: no [[host]]: an inventory needs at least one host, like [[host]] name = "docker01" address = "192.168.1.11"`,
		}},
		{"comments only", "# nothing yet\n", []string{
			`t.toml: no [[host]]: an inventory needs at least one host, like [[host]] name = "docker01" address = "192.168.1.11"`,
		}},
		{"[host] instead of [[host]]", "[host]\nname = \"docker01\"\n", []string{
			`t.toml:1: host: must be an array of tables: write [[host]], with two brackets, once per entry`,
		}},
		{"host that is not a table", "host = 1\n", []string{
			`t.toml:1: host = 1: must be an array of tables, not an integer: write [[host]], once per entry`,
		}},
		{"inline array of tables with a stray value", "host = [{ name = \"a\" }, 5]\n", []string{
			`t.toml:1: host[2] = 5: must be a table, not an integer`,
		}},
		{"table that is not a table", "ssh = 1\n[[host]]\nname = \"a\"\n", []string{
			`t.toml:1: ssh = 1: must be a table, not an integer: write [ssh] on a line of its own, then its keys`,
		}},
		{"duplicate key", "[[host]]\nname = \"docker01\"\nname = \"docker02\"\n", []string{
			`t.toml:3: host[1].name: written twice in one [[host]]; a key may appear once per entry, and a second entry starts with its own [[host]] line`,
		}},
		{"syntax error", "[[host]]\nname = docker01\n", []string{
			`t.toml:2: TOML syntax: expected value but found "docker" instead`,
		}},
		{"float and date for integer and string", "[[host]]\nname = \"a\"\n[ssh]\nport = 22.5\nuser = 2024-01-01\n", []string{
			`t.toml:4: ssh.port = 22.5: must be an integer, not a float`,
			`t.toml:5: ssh.user: must be a string, not a date/time`,
		}},
		{"registry values", `[[host]]
name = "docker01"

[registry]
host = "docker03"
port = 0
image = "Registry"
trust = "systemd"
name = "my registry"
`, []string{
			`t.toml:5: registry.host = "docker03": no [[host]] has this name; known hosts: docker01`,
			`t.toml:6: registry.port = 0: out of range; a port is 1..65535`,
			`t.toml:7: registry.image = "Registry": repository names must be lowercase (only a registry host may have capitals)`,
			`t.toml:8: registry.trust = "systemd": must be one of "dropin", "unit", "daemon-json"`,
			`t.toml:9: registry.name = "my registry": must not contain whitespace (here ' ', U+0020)`,
		}},
		{"live_restore not a boolean", "[[host]]\nname = \"docker01\"\n\n[registry]\nhost = \"docker01\"\nlive_restore = \"yes\"\nlive-restore = true\n", []string{
			`t.toml:6: registry.live_restore = "yes": must be true or false, not a string: write live_restore = true or live_restore = false, without quotes`,
			`t.toml:7: registry.live-restore = true: unknown key (did you mean "live_restore"?); known in [registry]: host, port, image, trust, name, live_restore`,
		}},
		{"registry without host", "[[host]]\nname = \"docker01\"\n\n[registry]\nport = 5000\n", []string{
			`t.toml:4: registry.host: missing; every [registry] needs a host, the [[host]] name that runs the registry, like host = "docker01"`,
		}},
		{"images without registry", `[[host]]
name = "docker01"

[[image]]
source = "busybox:latest"
tag = "busybox:v1"
`, []string{
			`t.toml:4: image[1]: [[image]] entries are pushed to the private registry, but there is no [registry]; add one with host = "<the host that runs it>"`,
		}},
		{"quoted host names", `[[host]]
name = "docker01.lab"

[[vlan]]
id = 10
gateway = "192.168.10.2"
hosts = { "docker01.lab" = "192.168.10.10/24", "docker02.lab" = "192.168.10.11/24" }
`, []string{
			`t.toml:7: vlan[1].hosts."docker02.lab": no [[host]] has this name; known hosts: docker01.lab`,
		}},
		{"network VLAN without any VLANs", `[[host]]
name = "docker01"

[[network]]
name = "n"
subnet = "10.1.0.0/16"
gateway = "10.1.0.1"
vlan = 10

[[container]]
name = "c1"
host = "docker01"
network = "m"
ip = "10.1.0.2"
image = "busybox"
`, []string{
			`t.toml:8: network[1].vlan = 10: no [[vlan]] has this id, and there are none: add a [[vlan]], or leave vlan out to put the network on the parent NIC itself`,
			`t.toml:13: container[1].network = "m": no [[network]] has this name; known networks: n`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, tt.doc, tt.want)
		})
	}
}
