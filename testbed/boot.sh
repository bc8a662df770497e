#!/bin/bash
# Runs as the first process of a lab host: inside the host's network namespace
# (entered with nsenter) and a private mount + UTS namespace (unshare -m -u).
# It builds the host's own view of the file system, starts dockerd through the
# host's systemctl, loads the images, then becomes the host's sshd.
# Usage: boot.sh LAB_DIR HOST_NAME ADDRESS [bastion]
# A bastion runs only sshd: no docker, no images.
set -euo pipefail
LAB=$1 NAME=$2 ADDR=$3 ROLE=${4:-docker}
H=$LAB/hosts/$NAME
exec >>"$H/boot.log" 2>&1
trap 'echo "boot failed at line $LINENO" >&2; echo failed > "$H/state"' ERR
echo "boot $NAME $ADDR"

mount --make-rprivate /
hostname "$NAME"

# A fresh sysfs for this network namespace, with the cgroup hierarchy moved
# back on top of it (a plain new /sys hides /sys/fs/cgroup and dockerd dies
# with "Devices cgroup isn't mounted").
mkdir -p "$H/mnt/cgroup"
mount --rbind /sys/fs/cgroup "$H/mnt/cgroup"
mount -t sysfs sysfs /sys
mount --rbind "$H/mnt/cgroup" /sys/fs/cgroup
umount -l "$H/mnt/cgroup"

# /sys/module: a tmpfs with one empty directory per real entry, so the lab's
# modprobe can "load" 8021q by making its directory (the kernel has no modules).
mods=$(ls /sys/module)
mount -t tmpfs -o mode=755 mvlab-modules /sys/module
for m in $mods; do mkdir -p "/sys/module/$m"; done

# Copy-on-write views of /etc, /var and the unit directory: what one host
# writes exists on no other host and not on the machine.
for d in etc var unit; do mkdir -p "$H/fs/$d.upper" "$H/fs/$d.work"; done
mount -t overlay mvlab-etc -o "lowerdir=/etc,upperdir=$H/fs/etc.upper,workdir=$H/fs/etc.work" /etc
mount -t overlay mvlab-var -o "lowerdir=/var,upperdir=$H/fs/var.upper,workdir=$H/fs/var.work" /var
mkdir -p /usr/lib/systemd/system
mount -t overlay mvlab-unit -o "lowerdir=/usr/lib/systemd/system,upperdir=$H/fs/unit.upper,workdir=$H/fs/unit.work" /usr/lib/systemd/system
# overlay2 cannot sit on overlayfs: docker's data root is a plain directory.
mkdir -p "$H/docker" /var/lib/docker
mount --bind "$H/docker" /var/lib/docker
mount -t tmpfs -o mode=755 mvlab-run /run
mount -t tmpfs -o mode=700 mvlab-root /root
mount -t tmpfs -o mode=755 mvlab-home /home
mkdir -p /run/sshd /run/lock

# The host's own configuration.
echo "$NAME" > /etc/hostname
mkdir -p /etc/mvlab /etc/sysconfig/network-scripts /etc/systemd/system /var/log/mvlab
cp "$LAB/path" /etc/mvlab/path
: > /etc/mvlab/unavailable-modules
rm -rf /etc/systemd/system/docker.service.d /etc/docker/daemon.json /var/lib/mvorch
cat > /etc/sysconfig/network-scripts/ifcfg-ens33 <<IFCFG
TYPE=Ethernet
BOOTPROTO=none
NAME=ens33
DEVICE=ens33
ONBOOT=yes
IPADDR=$ADDR
PREFIX=24
IFCFG
cp "$LAB/docker.service" /usr/lib/systemd/system/docker.service
# Users for become = "sudo": deploy has NOPASSWD sudo, ops needs a password.
echo "127.0.1.1 $NAME" >> /etc/hosts
for u in deploy ops; do
	id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"
done
echo 'ops:ops-sudo-secret' | chpasswd
# "!" (useradd's default) is a locked account, which sshd refuses without PAM.
usermod -p '*' deploy
mkdir -p /etc/sudoers.d
# sudo resets PATH to secure_path: the lab's stand-ins must stay first there too.
echo "Defaults secure_path=\"$(cat "$LAB/path")\"" > /etc/sudoers.d/mvlab-path
echo 'deploy ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/mvlab-deploy
echo 'ops ALL=(ALL) ALL' > /etc/sudoers.d/mvlab-ops
chmod 440 /etc/sudoers.d/mvlab-*
rm -f /etc/systemd/system/docker.service

PATH=$(cat "$LAB/path")
export PATH
if [ "$ROLE" = bastion ]; then
	echo ready > "$H/state"
	trap - ERR
	exec env -i PATH="$PATH" /usr/sbin/sshd -D -f "$H/sshd_config" -E "$H/sshd.log"
fi
systemctl daemon-reload
systemctl start docker
docker import -c 'CMD ["sh"]' "$LAB/images/busybox.tar" busybox:latest >/dev/null
if [ -f "$H/registry-image" ]; then
	docker import -c 'ENTRYPOINT ["/bin/registry"]' -c 'CMD ["serve","/etc/docker/registry/config.yml"]' \
		"$LAB/images/registry.tar" registry:latest >/dev/null
fi
echo ready > "$H/state"
trap - ERR
exec env -i PATH="$PATH" /usr/sbin/sshd -D -f "$H/sshd_config" -E "$H/sshd.log"
