/**
 * Is a block device still used on this node? Checked from the kernel's own tables, not by
 * running lsof: mounts in <proc>/self/mountinfo (the device, its partitions, or the device
 * node bind-mounted for a raw block volume), open descriptors in <proc>/<pid>/fd (walked
 * by the addon in one pool job), and stacked devices in <sysfs>/block/<dev>/holders. Roots
 * are parameters so tests use trees.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
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
  /** The addon's findOpeners: one native pass over <procRoot>/<pid>/fd. */
  readonly findOpeners: NvmeAddon['findOpeners'];
}

interface BlockNode {
  readonly name: string;
  /** 'major:minor' */
  readonly dev: string | undefined;
  /** Its sysfs directory. */
  readonly dir: string;
}

async function readTrimmed(file: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch {
    return [];
  }
}

/** The device and its partitions (entries of /sys/block/<dev> with a `partition` file). */
async function blockNodes(name: string, sysfsRoot: string): Promise<BlockNode[]> {
  const base = path.join(sysfsRoot, 'block', name);
  const nodes: BlockNode[] = [{ name, dev: await readTrimmed(path.join(base, 'dev')), dir: base }];
  for (const entry of await listDir(base)) {
    const dir = path.join(base, entry);
    if (!entry.startsWith(name)) continue;
    if ((await readTrimmed(path.join(dir, 'partition'))) === undefined) continue;
    nodes.push({ name: entry, dev: await readTrimmed(path.join(dir, 'dev')), dir });
  }
  return nodes;
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
  const nodes = (await Promise.all(devices.map((d) => blockNodes(d, roots.sysfsRoot)))).flat();
  if (nodes.length === 0) return [];
  const holders: DeviceUse[] = [];
  for (const node of nodes) {
    for (const h of await listDir(path.join(node.dir, 'holders'))) {
      holders.push({ kind: 'holder', device: node.name, detail: h });
    }
  }
  const mountinfo = (await readTrimmed(path.join(roots.procRoot, 'self', 'mountinfo'))) ?? '';
  const byPath = new Map(nodes.map((n) => [`/dev/${n.name}`, n.name]));
  const openers = await roots.findOpeners([...byPath.keys()].slice(0, 64), {
    procRoot: roots.procRoot,
  });
  const opens = openers.map((o): DeviceUse => ({
    kind: 'open',
    device: byPath.get(o.path) ?? o.path,
    detail: `pid ${o.pid}`,
  }));
  return [...mountUsers(mountinfo, nodes), ...opens, ...holders];
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
