// The nvme-cli way of the node RPCs, as one shell script (see node-bench.guest.ts): the
// comparison the driver is measured against. It runs util-linux mount(8), as a node would
// and as the driver's tool path does: the guest's busybox sh would otherwise run its own
// static mount applet, which starts ~50 ms faster under TCG than the dynamically linked
// util-linux one. The device is found through sysfs like the driver does, and the blkid
// probe before mkfs is the one every careful nvme-cli based driver runs (mount-utils'
// SafeFormatAndMount). Stamps are busybox ash's $EPOCHREALTIME (µs, no process started).
import fs from 'node:fs';
import path from 'node:path';

/** The util-linux mount(8) on PATH (a regular file, not a busybox applet link). */
export function utilLinuxMount(): string {
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs.filter((d) => d !== '')) {
    const p = path.join(dir, 'mount');
    if (fs.existsSync(p) && fs.lstatSync(p).isFile()) return p;
  }
  throw new Error('no util-linux mount(8) on PATH');
}

/**
 * Env: NQN HOSTNQN HOSTID MOUNT FS MOPTS DIR PUB. Prints 14 stamps (seconds): stage with mkfs
 * (connect, device wait, probe, mkfs, mount: 0-5), publish (6-7), unstage (8-9), stage
 * without mkfs (10-11), unstage again (12-13).
 */
export const SCRIPT = `
set -e
st() { printf '%s ' "$EPOCHREALTIME"; }
find_dev() {
  dev=""
  while [ -z "$dev" ]; do
    for s in /sys/class/nvme-subsystem/nvme-subsys*; do
      if [ "$(cat "$s/subsysnqn")" = "$NQN" ]; then
        for n in "$s"/nvme*n*; do [ -e "$n" ] && dev=/dev/$(basename "$n"); done
      fi
    done
    if [ -n "$dev" ] && [ -b "$dev" ]; then break; fi
    dev=""; sleep 0.01
  done
}
connect() { nvme connect -t tcp -a 127.0.0.1 -s 4420 -n "$NQN" -q "$HOSTNQN" -I "$HOSTID" >/dev/null; }
unstage() { umount "$DIR"; nvme disconnect -n "$NQN" >/dev/null; }
st; connect
st; find_dev
st; rc=0; blkid -p -o export "$dev" >/dev/null || rc=$?
[ "$rc" = 2 ] || { echo "device not empty (blkid $rc)" >&2; exit 1; }
st; if [ "$FS" = xfs ]; then mkfs.xfs -q "$dev"; else mkfs.ext4 -F -q -m0 "$dev"; fi
st; "$MOUNT" -t "$FS" $MOPTS "$dev" "$DIR"
st
st; "$MOUNT" --bind "$DIR" "$PUB"
st; umount "$PUB"
st; unstage
st
st; connect; find_dev
rc=0; blkid -p -o export "$dev" >/dev/null || rc=$?
[ "$rc" = 0 ] || { echo "filesystem not found (blkid $rc)" >&2; exit 1; }
"$MOUNT" -t "$FS" $MOPTS "$dev" "$DIR"
st
st; unstage
st; echo
`;
