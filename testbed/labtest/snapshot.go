package labtest

import (
	"strings"
	"testing"
)

// snapshotScript prints what mvorch may change on a host: hashes of the files
// it may touch, the units systemd knows of mvorch's and every symlink that
// enables a unit, the links with their flags, addresses and routes, IPv4
// forwarding and the firewall's FORWARD side, docker's networks, containers,
// images and whether docker runs. Two snapshots are equal when the host is
// as it was (dockerd's pid may differ: a restart is not a change of state).
const snapshotScript = `export LC_ALL=C
echo "## files"
for f in /etc/sysconfig/network-scripts/* /etc/modules-load.d/* /usr/lib/systemd/system/docker.service \
  /etc/systemd/system/docker.service /etc/systemd/system/docker.service.d/* /etc/docker/daemon.json \
  /etc/systemd/system/mvorch-* /etc/sysctl.d/* /etc/NetworkManager/system-connections/* /etc/netplan/* \
  /etc/systemd/network/* /etc/systemd/network/*.d/*; do
  [ -f "$f" ] && echo "$(sha256sum < "$f" | cut -c1-16) $(stat -c %a "$f") $f"
done
echo "## dirs"
for d in /etc/modules-load.d /etc/systemd/system/docker.service.d /etc/docker /etc/sysconfig/network-scripts \
  /etc/systemd/system/docker.service.wants /etc/systemd/network /etc/systemd/network/*.d; do
  [ -d "$d" ] && echo "$d"
done
echo "## unit links"
for l in /etc/systemd/system/*.wants/*; do [ -L "$l" ] && echo "$l -> $(readlink "$l")"; done
echo "## mvorch units"
systemctl list-units --all --plain --no-legend 'mvorch-*' | awk '{print $1, $2, $3}'
echo "## links"
# carrier and operational state follow traffic and timing (docker0 loses its
# carrier a moment after its last container goes): only what is set counts.
ip -o link | sed -E 's/^[0-9]+: //; s/@if[0-9]+//; s/\\ +link\/.*//; s/ qlen [0-9]+//;
  s/NO-CARRIER,//; s/,LOWER_UP//; s/ state [A-Z]+//' | sort
echo "## addrs"
ip -o -4 addr | awk '{print $2, $4}' | sort
echo "## routes"
# linkdown follows the carrier, as NO-CARRIER does for links (docker0 has
# none while no container is on the bridge): only the route counts.
ip -o -4 route | sed 's/ linkdown//' | sort
echo "## forwarding"
cat /proc/sys/net/ipv4/ip_forward
echo "## firewall"
# the policies, the chains, and the rules of FORWARD, DOCKER-USER and
# mvorch's chain, without counters: the same state prints the same text.
iptables -w -S 2>/dev/null | grep -E '^-(P|N) |^-A (FORWARD|DOCKER-USER|MVORCH-[A-Z]+) ' | sort
echo "## networkmanager profiles"
# the profiles NetworkManager has loaded (on rhel10 hosts): a file removed
# but still loaded, or loaded twice, differs here.
if systemctl is-active -q NetworkManager 2>/dev/null; then
  nmcli -t -f NAME,TYPE,FILENAME connection show | sort
fi
echo "## modules"
test -d /sys/module/8021q && echo 8021q
echo "## docker"
systemctl is-active docker
docker network ls --format '{{.Name}} {{.Driver}}' | sort
docker ps -a --format '{{.Names}} {{.Image}} {{.State}}' | sort
docker images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' | sort
`

// Snapshot returns a host's state as text (see snapshotScript).
func (l *Lab) Snapshot(t testing.TB, host string) string {
	t.Helper()
	return l.MustExec(t, host, snapshotScript)
}

// Snapshots returns every host's snapshot, keyed by host name.
func (l *Lab) Snapshots(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, h := range l.Hosts {
		out[h.Name] = l.Snapshot(t, h.Name)
	}
	return out
}

// SameSnapshots fails the test with a line diff when two snapshots differ.
func SameSnapshots(t testing.TB, what string, want, got map[string]string) {
	t.Helper()
	for host, w := range want {
		if g := got[host]; g != w {
			t.Errorf("%s: %s differs:\n%s", what, host, lineDiff(w, g))
		}
	}
}

func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	if len(out) == 0 {
		return "same lines, other order:\n--- want\n" + a + "\n--- got\n" + b
	}
	return strings.Join(out, "\n")
}
