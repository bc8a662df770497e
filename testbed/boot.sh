#!/bin/bash
# The power supply of one lab host. It runs inside the host's network
# namespace (entered with nsenter) and a private mount namespace (unshare -m),
# and boots the host with systemd-nspawn: a real systemd as PID 1, with real
# journald, sshd, containerd and docker.service. When the host goes down it
# boots it again if a reboot was asked for (testbed/lab reboot, or
# `systemctl reboot` inside the host, which makes nspawn exit 133); otherwise it
# ends, and so does the host.
#
# Before every boot it takes from the network namespace what a real reboot
# loses: links other than lo and ens33, flags such as promisc, addresses and
# routes, iptables rules and forwarding. ens33 goes down and up, so the kernel
# gives it a fresh IPv6 link-local address, as at a real boot. On an rhel7 host
# it gets its lab address again (standing in for RHEL 7's early boot, which
# brings up ifcfg-ens33 before sshd); on rhel10 and ubuntu hosts the host's own
# NetworkManager or systemd-networkd gives it, from the host's configuration. What the host keeps
# is its disk: /etc, /var, /usr/lib/systemd/system and /var/lib/docker (the
# overlays' upper directories and plain directories under the lab's directory).
#
# Usage: boot.sh LAB_DIR HOST_NAME ADDRESS
set -uo pipefail
LAB=$1 NAME=$2 ADDR=$3
H=$LAB/hosts/$NAME
FLAVOR=$(cat "$H/flavor" 2>/dev/null || echo rhel7)
exec >>"$H/boot.log" 2>&1
echo "power on $NAME $ADDR ($(date -u +%T))"

# nspawn keeps state under /run/systemd/nspawn, which must be a tmpfs (here /run
# is on disk); private to this mount namespace, so the machine never sees it.
mkdir -p /run/systemd/nspawn
mount -t tmpfs -o mode=755 mvlab-nspawn /run/systemd/nspawn || { echo failed > "$H/state"; exit 1; }

# reset_network: what a reboot takes from the host's network.
reset_network() {
	local l
	for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
		case "$l" in lo|ens33) ;; *) ip link del "$l" 2>/dev/null ;; esac
	done
	ip link set ens33 down
	ip link set ens33 promisc off allmulticast off
	ip addr flush dev ens33
	ip link set ens33 up
	if [ "$FLAVOR" = rhel7 ]; then ip addr add "$ADDR/24" dev ens33; fi
	local t
	for t in filter nat mangle raw; do
		iptables -t "$t" -F 2>/dev/null; iptables -t "$t" -X 2>/dev/null
	done
	iptables -P INPUT ACCEPT; iptables -P FORWARD ACCEPT; iptables -P OUTPUT ACCEPT
	sysctl -q -w net.ipv4.ip_forward=0 >/dev/null
}

boot=0
while :; do
	boot=$((boot + 1))
	rm -f "$H/reboot"
	reset_network
	echo "$boot" > "$H/boots"
	echo booting > "$H/state"
	echo "boot $boot ($(date -u +%T))"
	# The host's processes live in cgroups of its own (one per hierarchy,
	# listed by testbed/lab), so that a power cut kills exactly them.
	(
		while read -r cg; do echo "$BASHPID" > "$cg/cgroup.procs" || exit 1; done < "$H/cgroups"
		export SYSTEMD_NSPAWN_API_VFS_WRITABLE=network
		exec systemd-nspawn --quiet --directory="$LAB/base" --volatile=yes \
			--overlay="$LAB/lower/etc:$H/fs/etc:/etc" \
			--overlay="$LAB/lower/var:$H/fs/var:/var" \
			--overlay="$LAB/base/usr/lib/systemd/system:$H/fs/unitlib:/usr/lib/systemd/system" \
			--bind="$H/docker:/var/lib/docker" --bind="$H/root:/root" --bind="$H/home:/home" \
			--boot --register=no --keep-unit --network-namespace-path="/run/netns/$(cat "$H/netns")" \
			--machine="$NAME" --hostname="$NAME" --console=passive --link-journal=no \
			--capability=all --system-call-filter='add_key keyctl request_key'
	) >"$H/console.log" 2>&1 &
	echo $! > "$H/nspawn.pid"
	wait $!
	rc=$?
	echo "nspawn exited $rc ($(date -u +%T))"
	if [ -e "$H/reboot" ] || [ $rc = 133 ]; then continue; fi
	break
done
echo off > "$H/state"
