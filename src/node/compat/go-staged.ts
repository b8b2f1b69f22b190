/**
 * Volumes staged by the Go rds-csi node plugin before the switch. That plugin writes no
 * state files: a filesystem volume is mounted straight on the staging path, a block volume
 * leaves nothing in staging (only the NVMe controller) and is published as an mknod'ed
 * S_IFBLK node at each publish target. So when no staging record of ours exists, what is
 * staged is read from the node itself:
 * - the NQN from the request's volume_context, else as that plugin derived it from the
 *   volume id (src/domain/compat/go-context.ts goNqnOfVolume);
 * - a mount at the staging path → filesystem access, its type from the mount;
 * - no mount but a controller for the NQN → block access.
 * Nothing is written: the answer is recomputed on every call, so no use-case needs a record.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { GO_DEFAULTS } from '../../domain/compat/context';
import { goConnectTuning, goNqnOfVolume } from '../../domain/compat/go-context';
import { type VolumeContext, isFsType } from '../../domain/volume-context';
import { mountAt } from '../../mount/mountinfo';
import type { MountEntry } from '../../mount/ports';
import type { AttachedVolume } from '../../nvme/ports';
import type { NodeContext } from '../deps';
import type { RecordStore, StagingRecord } from '../records';

export interface StagedQuery {
  readonly volumeId: string;
  /** Undefined when the request names none (NodeGetVolumeStats, NodeExpandVolume). */
  readonly stagingPath: string | undefined;
  /** The request's volume_context, when it carries one (NodePublishVolume). */
  readonly context?: VolumeContext | undefined;
  /** The access the caller needs; a filesystem volume must have its staging mount. */
  readonly access?: 'mount' | 'block';
  /** Another path where the volume's filesystem may be mounted (a publish target). */
  readonly volumePath?: string;
}

/** Our staging record for the volume, or what the node shows was staged without one. */
export async function stagedVolume(
  ctx: NodeContext,
  q: StagedQuery,
): Promise<StagingRecord | undefined> {
  return (await ctx.records.get(q.volumeId)) ?? (await stagedWithoutRecord(ctx, q));
}

export async function stagedWithoutRecord(
  ctx: NodeContext,
  q: StagedQuery,
): Promise<StagingRecord | undefined> {
  const nqn = q.context?.nqn ?? goNqnOfVolume(q.volumeId);
  const mounts = await ctx.mounter.mounts();
  const mount = fsMount(mounts, q.stagingPath) ?? fsMount(mounts, q.volumePath);
  let attached = nqn === undefined ? undefined : await ctx.fabrics.find(nqn);
  if (mount && attached?.device !== mount.source) {
    const bySource = (await ctx.fabrics.listManaged()).find((v) => v.device === mount.source);
    attached = bySource ?? attached;
  }
  const volumeNqn = attached?.nqn ?? nqn;
  if (volumeNqn === undefined) return undefined;
  const context = q.context ?? contextOf(volumeNqn, attached);
  const base = {
    version: 1 as const,
    volumeId: q.volumeId,
    stagingPath: q.stagingPath ?? '',
    context,
  };
  if (mount) {
    if (q.access === 'block') return undefined;
    const fsType = isFsType(mount.fsType) ? mount.fsType : undefined;
    return {
      ...base,
      access: 'mount',
      ...(fsType ? { fsType } : {}),
      mountFlags: [],
      device: attached?.device ?? mount.source,
    };
  }
  if (q.access === 'mount' || attached === undefined || attached.controllers.length === 0) {
    return undefined;
  }
  return { ...base, access: 'block', device: attached.device ?? '' };
}

/** The top mount at `at` when it is a filesystem (not a bind of a device node). */
function fsMount(mounts: readonly MountEntry[], at: string | undefined): MountEntry | undefined {
  if (at === undefined) return undefined;
  const m = mountAt(mounts, at);
  return m && m.fsType !== 'devtmpfs' && m.source.startsWith('/dev/') ? m : undefined;
}

/**
 * A context for a volume known only from the kernel: address and port from its first
 * controller, flagged as a Go-driver volume so a re-attach adopts before connecting.
 */
function contextOf(nqn: string, attached: AttachedVolume | undefined): VolumeContext {
  const fields = new Map(
    (attached?.controllers[0]?.address ?? '')
      .split(',')
      .map((p) => p.split('=').map((x) => x.trim()) as [string, string | undefined]),
  );
  return {
    nqn,
    traddr: fields.get('traddr') ?? '',
    trsvcid: Number(fields.get('trsvcid') ?? 0),
    fsType: undefined,
    goDriver: goConnectTuning(GO_DEFAULTS),
  };
}

/** kubelet's publish directory of a raw block volume (one entry per pod). */
export function blockPublishDir(kubeletDir: string, volumeName: string): string {
  return path.join(kubeletDir, 'plugins/kubernetes.io/csi/volumeDevices/publish', volumeName);
}

/**
 * Publish targets of a raw block volume that are still device nodes of `majorMinor` (the
 * Go plugin's mknod'ed nodes; unpublish removes them). kubelet names the directory after
 * the PV, which is the volume id for every block volume that plugin made.
 */
export async function blockNodesOf(
  ctx: NodeContext,
  volumeId: string,
  majorMinor: string | undefined,
): Promise<string[]> {
  if (majorMinor === undefined) return [];
  const dir = blockPublishDir(ctx.kubeletDir, volumeId);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names.slice(0, 256)) {
    const p = path.join(dir, n);
    if ((await ctx.mounter.deviceNumber(p)) === majorMinor) out.push(p);
  }
  return out;
}

/**
 * Names of the raw block volumes kubelet has staged or published on this node (its
 * `volumeDevices/staging/<pv>` and `volumeDevices/publish/<pv>` directories). A block
 * volume the Go plugin staged leaves nothing else behind but its NVMe controller, so the
 * start-up orphan sweep counts these as staged.
 */
export async function kubeletBlockVolumes(kubeletDir: string): Promise<string[]> {
  const base = path.join(kubeletDir, 'plugins/kubernetes.io/csi/volumeDevices');
  const lists = await Promise.all(
    ['staging', 'publish'].map((d) => fs.readdir(path.join(base, d)).catch(() => [] as string[])),
  );
  return [...new Set(lists.flat())].sort();
}

/**
 * Subsystem NQNs of the volumes staged on this node, for the start-up orphan sweep: those of
 * our staging records and of the raw block volumes kubelet holds (by the NQN the Go plugin
 * derived from the volume id). Its filesystem volumes need no entry: they are mounted, and
 * the detach policy never pulls a mounted device away.
 */
export async function stagedNqnsOnNode(
  records: Pick<RecordStore, 'list'>,
  kubeletDir: string,
): Promise<string[]> {
  const ours = (await records.list()).map((r) => r.context.nqn);
  const block = (await kubeletBlockVolumes(kubeletDir)).map(goNqnOfVolume);
  return [...new Set([...ours, ...block.filter((n): n is string => n !== undefined)])];
}
