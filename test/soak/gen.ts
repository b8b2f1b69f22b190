// The seeded operation source: short stories a cluster tells (a pod starts on a node, a
// StatefulSet pod moves, a VM live-migrates, a PVC is cloned or grown, a snapshot is taken,
// a volume is retired) interleaved with faults. Each story is drawn from the model's state
// after the operations already handed out, so the list depends on the seed alone. Pure.
import { NODE_NAMES, type NodeName } from './bed-types';
import {
  apply,
  emptyModel,
  GRACE_MS,
  invalid,
  LONG_MIGRATION_S,
  SHORT_MIGRATION_S,
  teardownOps,
  XFS_MIN_MIB,
  type FaultSpec,
  type Model,
  type Op,
  type VolumeModel,
} from './model';
import { Rng } from './rng';

export interface GenOptions {
  /** Relative weight of a fault story (0 = no faults). Default 1 (about one story in six). */
  faultWeight?: number;
  /** Most volumes alive at once (default 4). */
  maxVolumes?: number;
  /** Fault kinds to leave out. */
  withoutFaults?: readonly FaultSpec['kind'][];
}

const FAIL_TEXTS = ['not enough space', 'timeout', 'could not open file'];
const FAIL_MATCHES = ['^/disk add', '^/disk remove', '^/disk set', '^/disk print', '.'];

function other(n: NodeName): NodeName {
  return n === 'a' ? 'b' : 'a';
}

export class Generator {
  readonly model: Model = emptyModel();
  private readonly rng: Rng;
  private readonly queue: Op[] = [];
  private readonly faultWeight: number;
  private readonly maxVolumes: number;
  private readonly without: ReadonlySet<string>;

  constructor(seed: number, opts: GenOptions = {}) {
    this.rng = new Rng(seed);
    this.faultWeight = opts.faultWeight ?? 1;
    this.maxVolumes = opts.maxVolumes ?? 4;
    this.without = new Set(opts.withoutFaults ?? []);
  }

  /** The next operation (applied to the model). */
  next(): Op {
    while (this.queue.length === 0) this.story();
    const op = this.queue.shift() as Op;
    apply(this.model, op);
    return op;
  }

  /** The operations that take everything down (applied to the model). */
  teardown(): Op[] {
    const rest = [...this.queue];
    this.queue.length = 0;
    for (const op of rest) {
      if (invalid(this.model, op) === undefined) apply(this.model, op);
    }
    const ops = teardownOps(this.model);
    for (const op of ops) apply(this.model, op);
    return [...rest, ...ops];
  }

  // ---- stories ----

  private story(): void {
    const m = this.model;
    const vols = [...m.volumes.values()];
    const mounted = vols.filter((v) => v.mounted.size > 0);
    const movable = mounted.filter(
      (v) => v.mounted.size === 1 && v.attached.size === 1 && v.migration === undefined,
    );
    const migratable = movable.filter((v) => v.rwx && v.mode === 'block');
    const idle = vols.filter((v) => v.attached.size === 0);
    const growable = vols.filter(
      (v) => v.migration === undefined && v.attached.size === v.mounted.size,
    );
    const kind = this.rng.weighted({
      create: vols.length < this.maxVolumes ? (vols.length < 2 ? 6 : 2) : 0,
      io: mounted.length > 0 ? 3 : 0,
      move: movable.length > 0 ? 2 : 0,
      migrate: migratable.length > 0 ? 2.5 : 0,
      restage: movable.length > 0 ? 1 : 0,
      expand: growable.length > 0 ? 0.8 : 0,
      snapshot: vols.length > 0 && m.snapshots.size < 3 ? 0.8 : 0,
      'delete-snapshot': m.snapshots.size > 0 ? 0.5 : 0,
      start: idle.length > 0 ? 1.5 : 0,
      retire: vols.length >= 3 ? 1 : vols.length > 0 ? 0.2 : 0,
      fault: this.faultWeight * 2.5,
    });
    switch (kind) {
      case 'create':
        return this.create();
      case 'io':
        return this.io(this.rng.pick(mounted));
      case 'move':
        return this.move(this.rng.pick(movable));
      case 'migrate':
        return this.migrate(this.rng.pick(migratable));
      case 'restage':
        return this.restage(this.rng.pick(movable));
      case 'expand':
        return this.expand(this.rng.pick(growable));
      case 'snapshot': {
        const v = this.rng.pick(vols);
        this.queue.push({ k: 'snapshot', snap: `s${m.nextSnapshot++}`, vol: v.name });
        return;
      }
      case 'delete-snapshot':
        this.queue.push({
          k: 'delete-snapshot',
          snap: this.rng.pick([...m.snapshots.keys()]),
        });
        return;
      case 'start': {
        const v = this.rng.pick(idle);
        return this.start(v.name, this.rng.pick(NODE_NAMES));
      }
      case 'retire':
        return this.retire(this.rng.pick(vols));
      case 'fault':
        return this.fault();
    }
  }

  private create(): void {
    const m = this.model;
    const vol = `v${m.nextVolume++}`;
    const kind = this.rng.weighted({ ext4: 3, xfs: 1.5, block: 2, 'block-rwx': 3.5 });
    const mode = kind === 'ext4' || kind === 'xfs' ? 'fs' : 'block';
    const fs = mode === 'fs' ? (kind as 'ext4' | 'xfs') : undefined;
    const rwx = kind === 'block-rwx';
    let mib = fs === 'xfs' ? XFS_MIN_MIB + 16 * this.rng.int(0, 2) : 64 + 16 * this.rng.int(0, 2);
    let from: { vol: string } | { snap: string } | undefined;
    const sameKind = <T extends { mode: string; fs?: string; mib: number }>(x: T) =>
      x.mode === mode && x.fs === fs;
    const sources = [...m.volumes.values()].filter(sameKind);
    const snaps = [...m.snapshots.values()].filter(sameKind);
    const pickSource = this.rng.weighted({
      empty: 2,
      clone: sources.length > 0 ? 1 : 0,
      restore: snaps.length > 0 ? 1 : 0,
    });
    if (pickSource === 'clone') {
      const s = this.rng.pick(sources);
      from = { vol: s.name };
      mib = Math.max(mib, s.mib);
    } else if (pickSource === 'restore') {
      const s = this.rng.pick(snaps);
      from = { snap: s.name };
      mib = Math.max(mib, s.mib);
    }
    this.queue.push({
      k: 'create',
      vol,
      mode,
      ...(fs === undefined ? {} : { fs }),
      rwx,
      fenced: rwx ? this.rng.chance(0.85) : this.rng.chance(0.6),
      mib,
      ...(rwx ? { migrationS: this.rng.chance(0.25) ? SHORT_MIGRATION_S : LONG_MIGRATION_S } : {}),
      ...(from === undefined ? {} : { from }),
    });
    if (this.rng.chance(0.8)) this.start(vol, this.rng.pick(NODE_NAMES), from !== undefined);
  }

  /** A pod starts on `node`: attach, mount, then it reads what is there and writes. */
  private start(vol: string, node: NodeName, verifyFirst = true): void {
    this.queue.push({ k: 'attach', vol, node }, { k: 'mount', vol, node });
    if (verifyFirst) this.queue.push({ k: 'verify', vol, node });
    this.queue.push(this.write(vol, node));
  }

  private write(vol: string, node: NodeName): Op {
    const v = this.model.volumes.get(vol);
    // Slots are 1 MiB blocks (block volumes: below the size at creation) or files.
    const limit = v === undefined ? 32 : Math.min(v.mib, 64) - 1;
    return { k: 'write', vol, node, slot: this.rng.int(0, limit) };
  }

  private writer(v: VolumeModel): NodeName {
    return v.migration?.source ?? ([...v.mounted][0] as NodeName);
  }

  private io(v: VolumeModel): void {
    const n = this.writer(v);
    const count = this.rng.int(1, 3);
    for (let i = 0; i < count; i++) this.queue.push(this.write(v.name, n));
    const reader = this.rng.pick([...v.mounted]);
    this.queue.push({ k: 'verify', vol: v.name, node: reader });
  }

  /** A single-node pod moves: within the grace period, or after it. */
  private move(v: VolumeModel): void {
    const from = [...v.mounted][0] as NodeName;
    const to = this.rng.chance(0.8) ? other(from) : from;
    // The new pod is scheduled before the old one is gone: its attach must wait.
    if (!v.rwx && this.rng.chance(0.3))
      this.queue.push({ k: 'conflict', vol: v.name, node: other(from) });
    this.queue.push(
      { k: 'unmount', vol: v.name, node: from },
      { k: 'detach', vol: v.name, node: from },
    );
    if (this.rng.chance(0.35)) this.queue.push({ k: 'wait', vol: v.name, ms: GRACE_MS + 1500 });
    this.queue.push(
      { k: 'attach', vol: v.name, node: to },
      { k: 'mount', vol: v.name, node: to },
      { k: 'verify', vol: v.name, node: to },
      this.write(v.name, to),
    );
  }

  /** A KubeVirt live migration: completed, aborted, or left to time out. */
  private migrate(v: VolumeModel): void {
    const src = [...v.mounted][0] as NodeName;
    const dst = other(src);
    const vol = v.name;
    this.queue.push({ k: 'attach', vol, node: dst });
    if (this.rng.chance(0.5)) this.queue.push({ k: 'conflict', vol, node: 'c' });
    this.queue.push(
      { k: 'mount', vol, node: dst },
      { k: 'verify', vol, node: dst },
      this.write(vol, src),
    );
    const outcome =
      v.migrationS === SHORT_MIGRATION_S
        ? 'timeout'
        : this.rng.weighted({ completed: 3, aborted: 2 });
    if (outcome === 'completed') {
      this.queue.push(
        { k: 'unmount', vol, node: src },
        { k: 'detach', vol, node: src },
        { k: 'verify', vol, node: dst },
        this.write(vol, dst),
      );
    } else {
      if (outcome === 'timeout')
        this.queue.push({ k: 'wait', vol, ms: v.migrationS * 1000 + 15_000 });
      this.queue.push(
        { k: 'unmount', vol, node: dst },
        { k: 'detach', vol, node: dst },
        { k: 'verify', vol, node: src },
      );
    }
  }

  /** The pod restarts in place: unstage and stage again (no mkfs the second time). */
  private restage(v: VolumeModel): void {
    const n = [...v.mounted][0] as NodeName;
    this.queue.push(
      { k: 'unmount', vol: v.name, node: n },
      { k: 'mount', vol: v.name, node: n },
      { k: 'verify', vol: v.name, node: n },
    );
  }

  private expand(v: VolumeModel): void {
    const step = v.fs === 'xfs' ? 64 : 16 * this.rng.int(1, 3);
    this.queue.push({ k: 'expand', vol: v.name, mib: v.mib + step });
    const n = [...v.mounted][0];
    if (n !== undefined) this.queue.push({ k: 'verify', vol: v.name, node: n });
  }

  private retire(v: VolumeModel): void {
    const solo: Model = { ...emptyModel(), volumes: new Map([[v.name, v]]) };
    this.queue.push(...teardownOps(solo));
  }

  private fault(): void {
    const kinds: FaultSpec['kind'][] = [
      'sim-latency',
      'sim-hang',
      'sim-drop',
      'sim-fail',
      'sim-refuse-logins',
      'sim-restart',
      'target-outage',
      'controller-kill',
      'node-kill',
      'node-removed',
      'api-down',
    ];
    const allowed = kinds.filter((k) => !this.without.has(k));
    if (allowed.length === 0) return;
    const kind = this.rng.pick(allowed);
    const r = this.rng;
    let fault: FaultSpec;
    let ms = r.int(3, 15) * 1000;
    switch (kind) {
      case 'sim-latency':
        fault = { kind, ms: r.int(2, 15) * 100, jitterMs: r.int(0, 5) * 100 };
        ms = r.int(5, 20) * 1000;
        break;
      case 'sim-hang':
      case 'sim-drop':
        fault = { kind, times: r.int(1, 2) };
        ms = r.int(10, 40) * 1000;
        break;
      case 'sim-fail':
        fault = { kind, nth: r.int(1, 3), match: r.pick(FAIL_MATCHES) };
        ms = r.int(10, 30) * 1000;
        break;
      case 'node-kill':
      case 'node-removed':
        fault = { kind, node: r.pick(NODE_NAMES) };
        break;
      default:
        fault = { kind };
    }
    this.queue.push({ k: 'fault', fault, ms });
  }
}

/** The text of a `sim-fail` fault (chosen by its nth, so replays repeat it). */
export function failText(nth: number): string {
  return FAIL_TEXTS[nth % FAIL_TEXTS.length] as string;
}
