#!/bin/sh
# PID 1 of the test VM (busybox sh). Sets the machine up from the rdsvm.* parameters on the
# kernel command line, then serves the host: it reads commands on /dev/ttyS1 and writes their
# output there. The kernel console is /dev/ttyS0 and never carries command output.
#
# Line protocol on ttyS1 (host → guest):
#   @@RUN <id> <base64 of a sh script>   run the script as root in /, stdin /dev/null
#   @@POWEROFF                           sync and power off at once
# (guest → host):
#   @@READY <uptime seconds>             set-up done, commands accepted
#   @@EXIT <id> <exit code>              the script <id> ended (its output came before)
# If PID 1 dies the kernel panics and, with panic=-1 and QEMU's -no-reboot, QEMU exits.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin
export HOME=/root TERM=dumb NO_COLOR=1

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/rdsvm /var/tmp /var/run

say() { echo "rdsvm-init: $*" >/dev/ttyS0; }

modprobe -a virtio_pci virtio-rng virtio_net 9pnet_virtio 9p configfs loop || say "modprobe failed"
mount -t configfs configfs /sys/kernel/config
ip link set lo up

# Value of kernel parameter $1 (e.g. rdsvm.name), empty when absent.
param() {
  for a in $(cat /proc/cmdline); do
    case "$a" in "$1="*) echo "${a#*=}" ;; esac
  done
}

name=$(param rdsvm.name)
[ -n "$name" ] && hostname "$name"

# rdsvm.nicN=<mac>,<address/prefix>[,<gateway>]: the interface is found by its MAC.
for n in 0 1 2 3; do
  spec=$(param "rdsvm.nic$n")
  [ -z "$spec" ] && continue
  IFS=, read -r mac addr gw <<EOF
$spec
EOF
  ifname=
  for dev in /sys/class/net/*; do
    [ "$(cat "$dev/address")" = "$mac" ] && ifname=${dev##*/}
  done
  if [ -z "$ifname" ]; then
    say "no interface with MAC $mac"
    continue
  fi
  ip link set "$ifname" up
  ip addr add "$addr" dev "$ifname"
  [ -n "$gw" ] && ip route add default via "$gw"
done

# rdsvm.shareN=<9p tag>,<guest path>,<ro|rw>
for n in 0 1 2 3 4 5 6 7; do
  spec=$(param "rdsvm.share$n")
  [ -z "$spec" ] && continue
  IFS=, read -r tag dir mode <<EOF
$spec
EOF
  mkdir -p "$dir"
  opts=trans=virtio,version=9p2000.L,msize=262144,cache=loose
  [ "$mode" = ro ] && opts="$opts,ro"
  mount -t 9p -o "$opts" "$tag" "$dir" || say "cannot mount share $tag at $dir"
done

stty -F /dev/ttyS1 raw -echo

# The command loop runs in a child of PID 1, not in PID 1 itself: every orphan (a daemon or
# background job a command left behind) is re-parented to PID 1, and a SIGCHLD arriving while
# the shell reads the serial line could cost a command line. PID 1 only reaps.
serve() {
  exec 3<>/dev/ttyS1
  echo "@@READY $(cut -d' ' -f1 /proc/uptime)" >&3
  while IFS= read -r line <&3; do
    case "$line" in
      "@@RUN "*)
        set -- $line
        echo "$3" | base64 -d >"/run/rdsvm/job-$2.sh"
        (cd / && exec sh "/run/rdsvm/job-$2.sh") </dev/null >&3 2>&3
        echo "@@EXIT $2 $?" >&3
        ;;
      "@@POWEROFF")
        break
        ;;
    esac
  done
}
serve &
loop=$!
while [ -d "/proc/$loop" ] && ! grep -q '^State:.*Z' "/proc/$loop/status" 2>/dev/null; do
  wait "$loop"
done
sync
poweroff -f
