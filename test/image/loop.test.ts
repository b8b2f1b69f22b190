/**
 * The image's filesystem tools work as the node plugin runs them: in a privileged root
 * container with the host's /dev (as the DaemonSet mounts it), each filesystem is made,
 * mounted, written and grown online on a loop device, with the argv the driver uses
 * (FILESYSTEMS in src/mount/filesystems.ts).
 */
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { FILESYSTEMS } from '../../src/mount/filesystems';
import type { FsType } from '../../src/domain/volume-context';
import { imageSkipReason, shInImage } from './podman';

const MiB = 1024 * 1024;
// mkfs.xfs refuses filesystems under 300 MiB.
const FIRST = 320 * MiB;
const GROWN = 640 * MiB;

/** Whether this process holds a capability (bit of CapEff in /proc/self/status). */
function hasCapability(bit: number): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m !== null && ((BigInt(`0x${m[1]}`) >> BigInt(bit)) & 1n) === 1n;
}

// The ext4 online-resize ioctl requires CAP_SYS_RESOURCE; a container cannot hold a
// capability its host process lacks (some sandboxed hosts drop it even for root).
const CAP_SYS_RESOURCE = 24;
const GROW_NEEDS: Partial<Record<FsType, number>> = { ext4: CAP_SYS_RESOURCE };

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'a privileged container needs root';
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control (loop devices unavailable)';
  return imageSkipReason();
}

/** argv as a shell word list, with the placeholders bound to shell variables. */
function shell(argv: readonly string[]): string {
  return argv
    .map((a) =>
      a === '@DEV' ? '"$dev"' : a === '@MNT' ? '"$mnt"' : `'${a.replace(/'/g, `'\\''`)}'`,
    )
    .join(' ');
}

function script(fs: FsType, grow: boolean): string {
  const tools = FILESYSTEMS[fs];
  const lines = [
    'set -eu',
    'img=$(mktemp /tmp/disk.XXXXXX); mnt=$(mktemp -d /tmp/mnt.XXXXXX)',
    `truncate -s ${FIRST} "$img"`,
    'dev=$(losetup --find --show "$img")',
    'cleanup() { umount "$mnt" 2>/dev/null || true; losetup -d "$dev" 2>/dev/null || true; rm -f "$img"; }',
    'trap cleanup EXIT',
    shell(tools.mkfs('@DEV')),
    `mount ${tools.mountOptions.length ? `-o ${tools.mountOptions.join(',')} ` : ''}"$dev" "$mnt"`,
    'echo written >"$mnt/file"',
    'before=$(df -B1 --output=size "$mnt" | tail -n 1)',
  ];
  if (grow)
    lines.push(
      `truncate -s ${GROWN} "$img"`,
      'losetup --set-capacity "$dev"',
      `${shell(tools.grow('@DEV', '@MNT'))} >/dev/null`,
    );
  lines.push(
    'after=$(df -B1 --output=size "$mnt" | tail -n 1)',
    'echo "sizes $before $after $(cat "$mnt/file")"',
  );
  return lines.join('\n');
}

const skip = skipReason();
if (skip) {
  t.comment(`loop device tests skipped: ${skip}`);
  t.pass('skipped', { skip });
} else {
  // Each case starts containers; generous for a loaded 2-core machine.
  t.setTimeout(600_000);
  for (const fs of Object.keys(FILESYSTEMS) as FsType[]) {
    const cap = GROW_NEEDS[fs];
    const growSkip =
      cap !== undefined && !hasCapability(cap)
        ? `online grow of ${fs} needs capability ${cap}, which this host's root does not hold`
        : undefined;
    t.test(`${fs}: mkfs, mount and online grow on a loop device`, async (t) => {
      const r = await shInImage(script(fs, !growSkip), [
        '--privileged',
        '--user',
        '0:0',
        '--volume',
        '/dev:/dev',
      ]);
      t.equal(r.status, 0, r.stderr);
      const m = /^sizes (\d+) (\d+) (\S+)$/m.exec(r.stdout);
      t.ok(m, `sizes reported: ${r.stdout}`);
      if (!m) return;
      const [before, after] = [Number(m[1]), Number(m[2])];
      // XFS keeps its internal log out of the reported size; ext4 its metadata.
      t.ok(before > FIRST / 2 && before <= FIRST, `the filesystem spans the device (${before})`);
      t.equal(m[3], 'written', 'data written to the mounted filesystem');
      if (growSkip) {
        t.comment(`grow skipped: ${growSkip}`);
        t.pass('online grow', { skip: growSkip });
        return;
      }
      t.ok(after >= before + 0.9 * (GROWN - FIRST), `grown online (${before} -> ${after})`);
    });
  }
}
