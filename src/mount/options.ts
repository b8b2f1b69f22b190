/**
 * Pure: mount(8)'s option strings as mount(2) takes them. A known VFS option (`ro`,
 * `noatime`, `nosuid`...) becomes a flag (its negation clears it, the last one wins, as
 * in libmount); options only mount(8) itself uses (`defaults`, `auto`, `nofail`, `x-*`,
 * ...) are dropped; everything else (`nouuid`, `errors=remount-ro`, `discard`...) goes to
 * the filesystem, in order, as the data string.
 */

/** mount(2) flags (linux/mount.h). */
export const MS = Object.freeze({
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  REC: 0x4000,
  SILENT: 0x8000,
  RELATIME: 0x200000,
  IVERSION: 0x800000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
});

/** umount2(2) flags. */
export const MNT_DETACH = 0x2;

/** [flag, true when the option sets it (false: clears it)] */
const FLAG_OPTIONS: Readonly<Record<string, readonly [number, boolean]>> = Object.freeze({
  ro: [MS.RDONLY, true],
  rw: [MS.RDONLY, false],
  nosuid: [MS.NOSUID, true],
  suid: [MS.NOSUID, false],
  nodev: [MS.NODEV, true],
  dev: [MS.NODEV, false],
  noexec: [MS.NOEXEC, true],
  exec: [MS.NOEXEC, false],
  sync: [MS.SYNCHRONOUS, true],
  async: [MS.SYNCHRONOUS, false],
  dirsync: [MS.DIRSYNC, true],
  mand: [MS.MANDLOCK, true],
  nomand: [MS.MANDLOCK, false],
  nosymfollow: [MS.NOSYMFOLLOW, true],
  symfollow: [MS.NOSYMFOLLOW, false],
  noatime: [MS.NOATIME, true],
  atime: [MS.NOATIME, false],
  nodiratime: [MS.NODIRATIME, true],
  diratime: [MS.NODIRATIME, false],
  relatime: [MS.RELATIME, true],
  norelatime: [MS.RELATIME, false],
  strictatime: [MS.STRICTATIME, true],
  nostrictatime: [MS.STRICTATIME, false],
  lazytime: [MS.LAZYTIME, true],
  nolazytime: [MS.LAZYTIME, false],
  iversion: [MS.IVERSION, true],
  noiversion: [MS.IVERSION, false],
  silent: [MS.SILENT, true],
  loud: [MS.SILENT, false],
  bind: [MS.BIND, true],
  rbind: [MS.BIND | MS.REC, true],
  remount: [MS.REMOUNT, true],
});

/** Options mount(8) consumes itself and never passes to the kernel. */
const USERSPACE_OPTIONS = new Set([
  'defaults',
  'auto',
  'noauto',
  'user',
  'nouser',
  'users',
  'owner',
  'group',
  'nofail',
  '_netdev',
  'comment',
]);

export interface KernelMountOptions {
  readonly flags: number;
  /** Comma-joined filesystem options, or null when there are none. */
  readonly data: string | null;
}

function isUserspaceOption(opt: string): boolean {
  const name = opt.split('=', 1)[0]!;
  return USERSPACE_OPTIONS.has(name) || name.startsWith('x-');
}

/** Splits options the way mount(8) reads `-o a,b,c` (empty items ignored). */
export function toKernelOptions(options: readonly string[]): KernelMountOptions {
  let flags = 0;
  const data: string[] = [];
  for (const opt of options.flatMap((o) => o.split(','))) {
    if (opt === '') continue;
    const flag = FLAG_OPTIONS[opt];
    if (flag) {
      flags = flag[1] ? flags | flag[0] : flags & ~flag[0];
    } else if (!isUserspaceOption(opt)) {
      data.push(opt);
    }
  }
  return { flags: flags >>> 0, data: data.length ? data.join(',') : null };
}

/** Per-mount flags a bind remount must restate to keep (mountinfo's per-mount options). */
const PER_MOUNT = ['nosuid', 'nodev', 'noexec', 'noatime', 'nodiratime', 'relatime', 'nosymfollow'];

/**
 * Flags for `mount -o remount,bind,ro` of an existing mount: MS_REMOUNT|MS_BIND|MS_RDONLY
 * plus the per-mount flags it already has, which a bind remount would otherwise clear.
 */
export function readOnlyBindRemountFlags(perMountOptions: readonly string[]): number {
  const keep = toKernelOptions(perMountOptions.filter((o) => PER_MOUNT.includes(o))).flags;
  return (MS.REMOUNT | MS.BIND | MS.RDONLY | keep) >>> 0;
}
