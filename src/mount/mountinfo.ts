/**
 * Pure parsing of /proc/<pid>/mountinfo (proc(5)): one entry per mount, fields unescaped
 * (the kernel writes space, tab, newline and backslash as \040, \011, \012, \134).
 */
export interface MountEntry {
  readonly id: number;
  readonly parentId: number;
  /** 'major:minor' of the filesystem's device. */
  readonly majorMinor: string;
  /** The path inside the filesystem that is mounted ('/' or, for a bind, a subpath). */
  readonly root: string;
  readonly mountPoint: string;
  /** Per-mount options, e.g. ['rw', 'relatime']. */
  readonly options: readonly string[];
  readonly fsType: string;
  readonly source: string;
  /** Per-superblock options, e.g. ['rw', 'errors=remount-ro']. */
  readonly superOptions: readonly string[];
}

export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 6 || f.length < sep + 3) continue;
    const id = Number(f[0]);
    const parentId = Number(f[1]);
    if (!Number.isInteger(id) || !Number.isInteger(parentId)) continue;
    out.push({
      id,
      parentId,
      majorMinor: f[2]!,
      root: unescapeMountField(f[3]!),
      mountPoint: unescapeMountField(f[4]!),
      options: f[5]!.split(','),
      fsType: f[sep + 1]!,
      source: unescapeMountField(f[sep + 2]!),
      superOptions: (f[sep + 3] ?? '').split(',').filter(Boolean),
    });
  }
  return out;
}

/** The top-most mount at `mountPoint` (the last one listed wins, as in the kernel). */
export function mountAt(
  entries: readonly MountEntry[],
  mountPoint: string,
): MountEntry | undefined {
  let found: MountEntry | undefined;
  for (const e of entries) if (e.mountPoint === mountPoint) found = e;
  return found;
}

/**
 * Does the mount use the block device `name` (e.g. 'nvme0n1')? Either a filesystem on it
 * (same 'major:minor') or its device node bind-mounted out of devtmpfs (a raw block
 * volume, whose root is '/<name>').
 */
export function mountUsesDevice(
  entry: MountEntry,
  device: { readonly majorMinor: string | undefined; readonly name: string },
): boolean {
  return (
    (device.majorMinor !== undefined && entry.majorMinor === device.majorMinor) ||
    (entry.fsType === 'devtmpfs' && entry.root === `/${device.name}`)
  );
}

/** True when the mount (or its superblock) is read-only. */
export function isReadOnly(entry: MountEntry): boolean {
  return entry.options.includes('ro') || entry.superOptions.includes('ro');
}
