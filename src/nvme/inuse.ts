/**
 * Is a block device still used on this node? Checked from the kernel's own tables, not by
 * running lsof: mounts in <proc>/self/mountinfo (the device, its partitions, or the device
 * node bind-mounted for a raw block volume), open descriptors in <proc>/<pid>/fd, and
 * stacked devices in <sysfs>/block/<dev>/holders. The addon reads all three in one pool job
 * (deviceUsage); this file decides what counts as a use. Roots are parameters so tests use
 * trees.
 */
import { mountUsesDevice, parseMountinfo } from '../mount/mountinfo';
import type { NvmeAddon } from './native';

export interface DeviceUse {
  readonly kind: 'mount' | 'open' | 'holder';
  /** The device or partition in use, e.g. 'nvme0n1p1'. */
  readonly device: string;
  /** Mount point, 'pid 1234', or the holder's name. */
  readonly detail: string;
}

export interface InUseOptions {
  readonly procRoot: string;
  readonly sysfsRoot: string;
  /** The addon's deviceUsage: block nodes, mountinfo and openers in one native pass. */
  readonly deviceUsage: NvmeAddon['deviceUsage'];
}

interface BlockNode {
  readonly name: string;
  /** 'major:minor' */
  readonly dev: string | undefined;
}

/** Pure: mounts in mountinfo `text` that use one of `nodes` (or name it as their source). */
export function mountUsers(
  text: string,
  nodes: readonly Pick<BlockNode, 'name' | 'dev'>[],
): DeviceUse[] {
  const out: DeviceUse[] = [];
  for (const entry of parseMountinfo(text)) {
    for (const node of nodes) {
      if (
        mountUsesDevice(entry, { majorMinor: node.dev, name: node.name }) ||
        entry.source === `/dev/${node.name}`
      ) {
        out.push({ kind: 'mount', device: node.name, detail: entry.mountPoint });
      }
    }
  }
  return out;
}

/** Every current use of the named devices (and their partitions); empty when unused. */
export async function findDeviceUsers(
  devices: readonly string[],
  roots: InUseOptions,
): Promise<DeviceUse[]> {
  if (devices.length === 0) return [];
  const usage = await roots.deviceUsage(devices, {
    procRoot: roots.procRoot,
    sysfsRoot: roots.sysfsRoot,
  });
  const nodes: BlockNode[] = usage.nodes.map((n) => ({ name: n.name, dev: n.dev ?? undefined }));
  const holders = usage.nodes.flatMap((n) =>
    n.holders.map((h): DeviceUse => ({ kind: 'holder', device: n.name, detail: h })),
  );
  const byPath = new Map(nodes.map((n) => [`/dev/${n.name}`, n.name]));
  const opens = usage.openers.map((o): DeviceUse => ({
    kind: 'open',
    device: byPath.get(o.path) ?? o.path,
    detail: `pid ${o.pid}`,
  }));
  return [...mountUsers(usage.mountinfo, nodes), ...opens, ...holders];
}

export function describeUses(uses: readonly DeviceUse[]): string {
  return uses
    .slice(0, 5)
    .map((u) =>
      u.kind === 'mount'
        ? `${u.device} mounted at ${u.detail}`
        : u.kind === 'open'
          ? `${u.device} open by ${u.detail}`
          : `${u.device} held by ${u.detail}`,
    )
    .join('; ');
}
