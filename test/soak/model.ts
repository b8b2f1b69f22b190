// The soak's operations and the abstract model that keeps a seeded operation list valid:
// every operation is one a cluster could issue in the model's state (kubelet, the external
// attacher/provisioner/resizer/snapshotter, KubeVirt), so the list depends on the seed only,
// never on what the driver answered. The executor retries each operation until it succeeds
// (as the sidecars and kubelet do), so the model never has to follow a failure. Pure.
import type { NodeName } from './bed-types';

export type FsType = 'ext4' | 'xfs';

export type FaultSpec =
  | { kind: 'sim-latency'; ms: number; jitterMs: number }
  | { kind: 'sim-hang'; times: number }
  | { kind: 'sim-drop'; times: number }
  | { kind: 'sim-fail'; nth: number; match: string }
  | { kind: 'sim-refuse-logins' }
  | { kind: 'sim-restart' }
  | { kind: 'target-outage' }
  | { kind: 'controller-kill' }
  | { kind: 'node-kill'; node: NodeName }
  | { kind: 'node-removed'; node: NodeName }
  | { kind: 'api-down' };

export type FaultKind = FaultSpec['kind'];

export type Op =
  | {
      k: 'create';
      vol: string;
      mode: 'fs' | 'block';
      fs?: FsType;
      rwx: boolean;
      fenced: boolean;
      mib: number;
      /** Live-migration timeout of an RWX volume, seconds. */
      migrationS?: number;
      from?: { vol: string } | { snap: string };
    }
  | { k: 'delete'; vol: string }
  | { k: 'expand'; vol: string; mib: number }
  | { k: 'snapshot'; snap: string; vol: string }
  | { k: 'delete-snapshot'; snap: string }
  | { k: 'attach'; vol: string; node: NodeName }
  | { k: 'detach'; vol: string; node: NodeName }
  | { k: 'mount'; vol: string; node: NodeName }
  | { k: 'unmount'; vol: string; node: NodeName }
  | { k: 'write'; vol: string; node: NodeName; slot: number }
  | { k: 'verify'; vol: string; node: NodeName }
  | { k: 'wait'; vol: string; ms: number }
  /** A publish the driver must refuse: a second node for a single-node volume, a third for a migration. */
  | { k: 'conflict'; vol: string; node: NodeName | 'c' }
  | { k: 'fault'; fault: FaultSpec; ms: number };

export type MigrationResult = 'success' | 'failed' | 'timeout';

export interface VolumeModel {
  readonly name: string;
  readonly mode: 'fs' | 'block';
  readonly fs?: FsType;
  readonly rwx: boolean;
  readonly fenced: boolean;
  readonly migrationS: number;
  mib: number;
  /** Nodes the volume is controller-published to (VolumeAttachments). */
  readonly attached: Set<NodeName>;
  /** Nodes where it is staged and published (a pod uses it). */
  readonly mounted: Set<NodeName>;
  migration?: { source: NodeName; target: NodeName; timedOut: boolean };
  /** Slots written so far (the executor knows their checksums). */
  readonly slots: Set<number>;
}

export interface SnapshotModel {
  readonly name: string;
  readonly vol: string;
  readonly mode: 'fs' | 'block';
  readonly fs?: FsType;
  readonly mib: number;
  /** The source's written slots when the snapshot was taken. */
  readonly slots: readonly number[];
}

export interface Model {
  readonly volumes: Map<string, VolumeModel>;
  readonly snapshots: Map<string, SnapshotModel>;
  nextVolume: number;
  nextSnapshot: number;
}

export function emptyModel(): Model {
  return { volumes: new Map(), snapshots: new Map(), nextVolume: 1, nextSnapshot: 1 };
}

/** Smallest size mkfs.xfs accepts (xfsprogs refuses filesystems under 300 MB). */
export const XFS_MIN_MIB = 300;
/** Grace period the soak's controller runs with (`--attach-grace-period`). */
export const GRACE_MS = 5_000;
/** Short migration timeout (the smallest the driver accepts) for the time-out stories. */
export const SHORT_MIGRATION_S = 30;
export const LONG_MIGRATION_S = 3600;

/** What an operation did to the model's view of the world, for the history's checks. */
export interface Effect {
  migrationStarted?: boolean;
  migrationEnded?: MigrationResult;
}

/** Why `op` cannot run in `m`'s state, or undefined when it can. */
export function invalid(m: Model, op: Op): string | undefined {
  if (op.k === 'fault') return undefined;
  if (op.k === 'delete-snapshot') {
    return m.snapshots.has(op.snap) ? undefined : `no snapshot ${op.snap}`;
  }
  if (op.k === 'create') {
    if (m.volumes.has(op.vol)) return `${op.vol} exists`;
    if (op.from === undefined) return undefined;
    const src = 'vol' in op.from ? m.volumes.get(op.from.vol) : m.snapshots.get(op.from.snap);
    if (src === undefined) return 'source missing';
    if (src.mode !== op.mode || src.fs !== op.fs) return 'source of another kind';
    return op.mib < src.mib ? 'smaller than its source' : undefined;
  }
  const v = m.volumes.get(op.vol);
  if (v === undefined) return `no volume ${op.vol}`;
  switch (op.k) {
    case 'delete':
      return v.attached.size > 0 ? 'still attached' : undefined;
    case 'expand':
      if (op.mib <= v.mib) return 'not larger';
      if (v.migration !== undefined) return 'in a migration';
      return v.attached.size > v.mounted.size ? 'attached but not mounted' : undefined;
    case 'snapshot':
      return m.snapshots.has(op.snap) ? `${op.snap} exists` : undefined;
    case 'attach': {
      if (v.attached.has(op.node)) return 'already attached there';
      if (v.attached.size === 0) return undefined;
      if (!v.rwx || v.mode !== 'block') return 'single-node volume attached elsewhere';
      return v.attached.size >= 2 || v.migration !== undefined ? 'migration busy' : undefined;
    }
    case 'detach':
      if (!v.attached.has(op.node)) return 'not attached there';
      return v.mounted.has(op.node) ? 'still mounted there' : undefined;
    case 'mount':
      if (!v.attached.has(op.node)) return 'not attached there';
      return v.mounted.has(op.node) ? 'already mounted there' : undefined;
    case 'unmount':
      return v.mounted.has(op.node) ? undefined : 'not mounted there';
    case 'write':
      if (!v.mounted.has(op.node)) return 'not mounted there';
      if (v.migration !== undefined && v.migration.source !== op.node) return 'not the writer';
      if (v.mode === 'block' && op.slot >= v.mib) return 'beyond the end';
      return undefined;
    case 'verify':
      return v.mounted.has(op.node) ? undefined : 'not mounted there';
    case 'wait':
      return undefined;
    case 'conflict':
      if (v.attached.has(op.node as NodeName)) return 'attached there';
      if (v.rwx && v.mode === 'block') {
        return v.attached.size === 2 && op.node === 'c' ? undefined : 'not a third node';
      }
      return v.attached.size === 1 && op.node !== 'c' ? undefined : 'not a second node';
  }
}

/** Applies a valid `op` to `m` (mutating), returning what it did. */
export function apply(m: Model, op: Op): Effect {
  const why = invalid(m, op);
  if (why !== undefined) throw new Error(`invalid operation ${JSON.stringify(op)}: ${why}`);
  switch (op.k) {
    case 'fault':
      return {};
    case 'create': {
      const src =
        op.from === undefined
          ? undefined
          : 'vol' in op.from
            ? m.volumes.get(op.from.vol)
            : m.snapshots.get(op.from.snap);
      const slots = new Set<number>();
      for (const s of src?.slots ?? []) slots.add(s);
      m.volumes.set(op.vol, {
        name: op.vol,
        mode: op.mode,
        ...(op.fs === undefined ? {} : { fs: op.fs }),
        rwx: op.rwx,
        fenced: op.fenced,
        migrationS: op.migrationS ?? LONG_MIGRATION_S,
        mib: op.mib,
        attached: new Set(),
        mounted: new Set(),
        slots,
      });
      return {};
    }
    case 'delete':
      m.volumes.delete(op.vol);
      return {};
    case 'snapshot': {
      const v = m.volumes.get(op.vol) as VolumeModel;
      m.snapshots.set(op.snap, {
        name: op.snap,
        vol: op.vol,
        mode: v.mode,
        ...(v.fs === undefined ? {} : { fs: v.fs }),
        mib: v.mib,
        slots: [...v.slots],
      });
      return {};
    }
    case 'delete-snapshot':
      m.snapshots.delete(op.snap);
      return {};
  }
  const v = m.volumes.get(op.vol) as VolumeModel;
  switch (op.k) {
    case 'expand':
      v.mib = op.mib;
      return {};
    case 'attach': {
      v.attached.add(op.node);
      if (v.attached.size === 2) {
        const source = [...v.attached].find((n) => n !== op.node) as NodeName;
        v.migration = { source, target: op.node, timedOut: false };
        return { migrationStarted: true };
      }
      return {};
    }
    case 'detach': {
      v.attached.delete(op.node);
      const mig = v.migration;
      if (mig === undefined) return {};
      delete v.migration;
      if (mig.timedOut) return {};
      return { migrationEnded: op.node === mig.source ? 'success' : 'failed' };
    }
    case 'mount':
      v.mounted.add(op.node);
      return {};
    case 'unmount':
      v.mounted.delete(op.node);
      return {};
    case 'write':
      v.slots.add(op.slot);
      return {};
    case 'verify':
    case 'conflict':
      return {};
    case 'wait': {
      const mig = v.migration;
      if (mig !== undefined && !mig.timedOut && op.ms >= v.migrationS * 1000) {
        mig.timedOut = true;
        return { migrationEnded: 'timeout' };
      }
      return {};
    }
  }
}

/** Replays `ops` from an empty model, dropping every operation that is not valid where it falls. */
export function normalize(ops: readonly Op[]): Op[] {
  const m = emptyModel();
  const out: Op[] = [];
  for (const op of ops) {
    if (invalid(m, op) !== undefined) continue;
    apply(m, op);
    out.push(op);
  }
  return out;
}

/** The operations that take everything in `m` down: unmount, detach, delete snapshots and volumes. */
export function teardownOps(m: Model): Op[] {
  const ops: Op[] = [];
  for (const v of m.volumes.values()) {
    for (const n of v.mounted) ops.push({ k: 'unmount', vol: v.name, node: n });
    // Detach the migration's target first: a migration ends aborted, never half-done.
    const order = [...v.attached].sort((x, y) =>
      v.migration?.target === x ? -1 : v.migration?.target === y ? 1 : 0,
    );
    for (const n of order) ops.push({ k: 'detach', vol: v.name, node: n });
  }
  for (const s of m.snapshots.values()) ops.push({ k: 'delete-snapshot', snap: s.name });
  for (const v of m.volumes.values()) ops.push({ k: 'delete', vol: v.name });
  return ops;
}

/** The resources an operation holds: operations sharing one never overlap in time. */
export function resourcesOf(op: Op): string[] {
  switch (op.k) {
    case 'fault':
      return [`fault:${faultClass(op.fault)}`];
    case 'delete-snapshot':
      return [`snap:${op.snap}`];
    case 'snapshot':
      return [`vol:${op.vol}`, `snap:${op.snap}`];
    case 'create':
      if (op.from === undefined) return [`vol:${op.vol}`];
      return 'vol' in op.from
        ? [`vol:${op.vol}`, `vol:${op.from.vol}`]
        : [`vol:${op.vol}`, `snap:${op.from.snap}`];
    default:
      return [`vol:${op.vol}`];
  }
}

/** Faults of one class never overlap; faults of different classes may. */
export function faultClass(f: FaultSpec): string {
  if (f.kind.startsWith('sim-')) return 'sim';
  if (f.kind === 'node-kill' || f.kind === 'node-removed') return `node-${f.node}`;
  return f.kind;
}

/** One line for logs and histories. */
export function describe(op: Op): string {
  switch (op.k) {
    case 'create': {
      const kind = op.mode === 'fs' ? (op.fs ?? 'fs') : op.rwx ? 'block-rwx' : 'block';
      const from =
        op.from === undefined
          ? ''
          : 'vol' in op.from
            ? ` from ${op.from.vol}`
            : ` from ${op.from.snap}`;
      return `create ${op.vol} ${kind} ${op.mib}MiB${op.fenced ? ' fenced' : ''}${from}`;
    }
    case 'fault':
      return `fault ${JSON.stringify(op.fault)} for ${op.ms}ms`;
    case 'snapshot':
      return `snapshot ${op.snap} of ${op.vol}`;
    case 'delete-snapshot':
      return `delete-snapshot ${op.snap}`;
    case 'expand':
      return `expand ${op.vol} to ${op.mib}MiB`;
    case 'write':
      return `write ${op.vol} on ${op.node} slot ${op.slot}`;
    case 'wait':
      return `wait ${op.vol} ${op.ms}ms`;
    case 'delete':
      return `delete ${op.vol}`;
    case 'conflict':
      return `conflict ${op.vol} on ${op.node} (must be refused)`;
    default:
      return `${op.k} ${op.vol} on ${op.node}`;
  }
}
