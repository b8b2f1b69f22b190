// Runs soak operations against the bed the way a cluster would: the external provisioner,
// attacher, resizer and snapshotter on the controller, kubelet on the nodes, a workload that
// writes and reads. Every CSI call is retried until it succeeds (as the sidecars and kubelet
// do); every answer on the way is judged (documented code, within the deadline), and every
// acknowledged write is remembered with its checksum so a later read can prove it survived.
import crypto from 'node:crypto';
import type { ServiceError } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { DENY_ALL_HOST_NQN } from '../../src/domain/attachment';
import { DRIVER, pv, pvc, va } from '../integration/kube/helpers';
import { shellQuote } from '../vm/protocol';
import type { Bed, NodeName } from './bed-types';
import { failText } from './gen';
import {
  describe,
  faultClass,
  LONG_MIGRATION_S,
  type FaultSpec,
  type MigrationResult,
  type Op,
} from './model';

const MiB = 1024 * 1024;
/** The deadline the chart's sidecars give every CSI call (controller.timeout) and kubelet's. */
export const RPC_DEADLINE_MS = 120_000;
/** How long one operation may keep failing before the soak calls it stuck. */
export const OP_BUDGET_MS = 8 * 60_000;
const NAMESPACE = 'soak';

export interface Violation {
  readonly invariant: string;
  readonly detail: string;
  /** Index of the operation in the history, when one caused it. */
  readonly op?: number;
  readonly at: number;
}

export interface FaultWindow {
  readonly spec: FaultSpec;
  readonly start: number;
  end?: number;
}

export interface RpcRecord {
  readonly rpc: string;
  readonly code: string;
  readonly ms: number;
}

export interface HistoryEntry {
  readonly i: number;
  readonly op: Op;
  start: number;
  end?: number;
  attempts: number;
  /** Error codes seen before success. */
  errors: string[];
}

interface VolumeRuntime {
  readonly pvName: string;
  readonly volumeId: string;
  readonly ctx: Record<string, string>;
  readonly capability: Record<string, unknown>;
  readonly block: boolean;
  /** Multi-node (RWX block) and fenced: facts of the volume while it exists, whatever the
   * model (which runs ahead, at issue time) already says. */
  readonly rwx: boolean;
  readonly fenced: boolean;
  /** Size asked for (MiB): at creation, then by each expansion. */
  mib: number;
  /** The live-migration window the volume was created with. */
  readonly migrationMs: number;
  /** The migration in progress: when the target's publish was answered. */
  migration?: { source: NodeName; target: NodeName; startedAt: number };
  /** slot → sha256 of what an acknowledged write put there. */
  data: Map<number, string>;
  /** The filesystem UUID it was made with (clones inherit it); never changes. */
  fsUuid?: string;
  publishContext: Map<NodeName, Record<string, string>>;
  podUid: Map<NodeName, string>;
}

export interface Stats {
  ops: number;
  rpcs: number;
  faults: number;
  faultsByKind: Record<string, number>;
  writes: number;
  verifiedMiB: number;
  retries: number;
  codes: Record<string, number>;
  migrations: { success: number; failed: number; timeout: number };
}

/** The transient answers any call may get while something is down; never the last word. */
const TRANSIENT = new Set<status>([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.ABORTED,
  status.CANCELLED,
]);
/** The generic text of an error the driver did not expect (a bug, by its own rules). */
const UNEXPECTED = /internal error; see the driver log/;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class Executor {
  readonly history: HistoryEntry[] = [];
  readonly violations: Violation[] = [];
  readonly faults: FaultWindow[] = [];
  readonly rpcs: RpcRecord[] = [];
  readonly stats: Stats = {
    ops: 0,
    rpcs: 0,
    faults: 0,
    faultsByKind: {},
    writes: 0,
    verifiedMiB: 0,
    retries: 0,
    codes: {},
    migrations: { success: 0, failed: 0, timeout: 0 },
  };
  readonly volumes = new Map<string, VolumeRuntime>();
  /**
   * How each migration ended and when, by what the driver was asked and when: a source
   * unpublished within the window is a success, a target unpublished within it a failure,
   * and a window that elapsed is a time-out at its deadline (the driver's timer), whatever
   * comes after.
   */
  readonly migrationEnds: { vol: string; result: MigrationResult; at: number }[] = [];
  private readonly snapshots = new Map<
    string,
    { id: string; data: Map<number, string>; fsUuid?: string }
  >();
  /** Incremented on every controller start: metrics reset with the process. */
  controllerEpoch = 0;
  private stopping = false;

  constructor(
    private readonly bed: Bed,
    private readonly seed: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Ends retries early (the run is failing or out of time). */
  abort(): void {
    this.stopping = true;
  }

  /** Records a broken invariant; the run stops issuing and in-flight retries give up. */
  violate(invariant: string, detail: string, op?: number): void {
    this.stopping = true;
    this.violations.push({
      invariant,
      detail,
      at: Date.now(),
      ...(op === undefined ? {} : { op }),
    });
    this.log(`VIOLATION ${invariant}: ${detail}${op === undefined ? '' : ` (op #${op})`}`);
  }

  /** Faults active now or healed within `graceMs`. */
  activeFaults(graceMs = 0): FaultSpec[] {
    const now = Date.now();
    return this.faults
      .filter((f) => f.end === undefined || now - f.end <= graceMs)
      .map((f) => f.spec);
  }

  /** Whether a fault of `kind` overlapped [from, to] (to undefined = now). */
  faultDuring(kinds: readonly string[], from: number, to = Date.now()): boolean {
    return this.faults.some(
      (f) => kinds.includes(f.spec.kind) && f.start <= to && (f.end ?? Infinity) >= from,
    );
  }

  // ---- one operation ----

  async run(i: number, op: Op): Promise<void> {
    const entry: HistoryEntry = { i, op, start: Date.now(), attempts: 0, errors: [] };
    this.history.push(entry);
    this.log(`#${i} ${describe(op)}`);
    try {
      await this.dispatch(i, op, entry);
      this.stats.ops++;
    } finally {
      entry.end = Date.now();
    }
  }

  private async dispatch(i: number, op: Op, entry: HistoryEntry): Promise<void> {
    switch (op.k) {
      case 'create':
        return this.create(i, op, entry);
      case 'delete':
        return this.deleteVolume(i, op.vol, entry);
      case 'expand':
        return this.expand(i, op.vol, op.mib, entry);
      case 'snapshot':
        return this.snapshot(i, op.snap, op.vol, entry);
      case 'delete-snapshot':
        return this.deleteSnapshot(i, op.snap, entry);
      case 'attach':
        return this.attach(i, op.vol, op.node, entry);
      case 'detach':
        return this.detach(i, op.vol, op.node, entry);
      case 'mount':
        return this.mount(i, op.vol, op.node, entry);
      case 'unmount':
        return this.unmount(i, op.vol, op.node, entry);
      case 'write':
        return this.write(i, op.vol, op.node, op.slot);
      case 'verify':
        return this.verify(i, op.vol, op.node);
      case 'wait':
        return sleep(op.ms);
      case 'conflict':
        return this.conflict(i, op.vol, op.node, entry);
      case 'fault':
        return this.fault(op.fault, op.ms);
    }
  }

  // ---- the retrying caller (the sidecars' and kubelet's loop) ----

  private async call<T>(
    i: number,
    entry: HistoryEntry,
    rpc: string,
    f: (deadlineMs: number) => Promise<T>,
    allowed: (code: status, message: string) => boolean = () => false,
    /** An error code that is the expected answer: the call resolves with `true as T`. */
    expected?: status,
  ): Promise<T> {
    const began = Date.now();
    let backoff = 500;
    for (;;) {
      entry.attempts++;
      const t0 = Date.now();
      try {
        const res = await f(RPC_DEADLINE_MS);
        this.record(rpc, 'OK', Date.now() - t0);
        return res;
      } catch (err) {
        const e = err as ServiceError;
        const ms = Date.now() - t0;
        const code: status = typeof e.code === 'number' ? e.code : status.UNKNOWN;
        const name = status[code] ?? String(code);
        this.record(rpc, name, ms);
        if (expected !== undefined && code === expected) return true as T;
        entry.errors.push(name);
        this.stats.retries++;
        const message = e.details ?? e.message;
        if (code === status.DEADLINE_EXCEEDED && ms >= RPC_DEADLINE_MS - 1000) {
          this.violate('answered within the deadline', `${rpc} took ${ms} ms without an answer`, i);
        } else if (code === status.INTERNAL && UNEXPECTED.test(message)) {
          this.violate('documented error codes', `${rpc}: an unexpected error (${message})`, i);
        } else if (!TRANSIENT.has(code) && !allowed(code, message) && !this.faultExplains(code)) {
          this.violate('documented error codes', `${rpc}: ${name}: ${message}`, i);
        }
        if (this.stopping)
          throw new Error(`${rpc} abandoned (run stopping) after ${name}`, { cause: err });
        if (Date.now() - began > OP_BUDGET_MS) {
          this.violate(
            'operations complete',
            `${rpc} still failing after ${OP_BUDGET_MS} ms: ${name}: ${message}`,
            i,
          );
          throw new Error(`${rpc} stuck`, { cause: err });
        }
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 8000);
      }
    }
  }

  private record(rpc: string, code: string, ms: number): void {
    this.stats.rpcs++;
    this.stats.codes[`${rpc} ${code}`] = (this.stats.codes[`${rpc} ${code}`] ?? 0) + 1;
    this.rpcs.push({ rpc, code, ms });
  }

  /** Codes a fault on the RouterOS side legitimately produces. */
  private faultExplains(code: status): boolean {
    const sim = this.activeFaults(2000).filter((f) => f.kind === 'sim-fail');
    if (sim.length === 0) return false;
    return code === status.INTERNAL || code === status.RESOURCE_EXHAUSTED;
  }

  /** Publish refusals a missing Node object explains (NOT_FOUND; no host NQN for fencing). */
  private nodeAbsenceExplains(node: NodeName): (code: status, message: string) => boolean {
    return (code) => {
      const recent = this.activeFaults(120_000).some(
        (f) => f.kind === 'node-removed' && f.node === node,
      );
      return recent && (code === status.NOT_FOUND || code === status.FAILED_PRECONDITION);
    };
  }

  // ---- controller side ----

  private pvName(vol: string): string {
    const h = crypto.createHash('sha256').update(`soak:${this.seed}:${vol}`).digest('hex');
    return `pvc-${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  private vol(vol: string): VolumeRuntime {
    const v = this.volumes.get(vol);
    if (v === undefined) throw new Error(`soak: no runtime for ${vol}`);
    return v;
  }

  private async create(i: number, op: Extract<Op, { k: 'create' }>, entry: HistoryEntry) {
    const pvName = this.pvName(op.vol);
    const capability =
      op.mode === 'fs'
        ? { mount: { fs_type: op.fs }, access_mode: { mode: 'SINGLE_NODE_WRITER' } }
        : {
            block: {},
            access_mode: { mode: op.rwx ? 'MULTI_NODE_MULTI_WRITER' : 'SINGLE_NODE_WRITER' },
          };
    let source: Record<string, unknown> | undefined;
    let data = new Map<number, string>();
    let fsUuid: string | undefined;
    if (op.from !== undefined) {
      if ('vol' in op.from) {
        const src = this.vol(op.from.vol);
        source = { volume: { volume_id: src.volumeId } };
        data = new Map(src.data);
        fsUuid = src.fsUuid;
      } else {
        const snap = this.snapshots.get(op.from.snap);
        if (snap === undefined) throw new Error(`soak: no snapshot ${op.from.snap}`);
        source = { snapshot: { snapshot_id: snap.id } };
        data = new Map(snap.data);
        fsUuid = snap.fsUuid;
      }
    }
    const res = await this.call(i, entry, 'CreateVolume', (deadlineMs) =>
      this.bed.controller().controller<{
        volume: {
          volume_id: string;
          volume_context: Record<string, string>;
          capacity_bytes: string;
        };
      }>(
        'CreateVolume',
        {
          name: pvName,
          capacity_range: { required_bytes: op.mib * MiB },
          volume_capabilities: [capability],
          parameters: {
            hostFencing: String(op.fenced),
            ...(op.migrationS === undefined
              ? {}
              : { migrationTimeoutSeconds: String(op.migrationS) }),
            'csi.storage.k8s.io/pvc/name': op.vol,
            'csi.storage.k8s.io/pvc/namespace': NAMESPACE,
            'csi.storage.k8s.io/pv/name': pvName,
          },
          ...(source === undefined ? {} : { volume_content_source: source }),
        },
        { deadlineMs },
      ),
    );
    if (Number(res.volume.capacity_bytes) < op.mib * MiB) {
      this.violate('capacity', `${op.vol}: ${res.volume.capacity_bytes} bytes < ${op.mib} MiB`, i);
    }
    const ctx = res.volume.volume_context;
    this.volumes.set(op.vol, {
      pvName,
      volumeId: res.volume.volume_id,
      ctx,
      capability,
      block: op.mode === 'block',
      rwx: op.rwx,
      fenced: op.fenced,
      mib: op.mib,
      migrationMs: (op.migrationS ?? LONG_MIGRATION_S) * 1000,
      data,
      ...(fsUuid === undefined ? {} : { fsUuid }),
      publishContext: new Map(),
      podUid: new Map(),
    });
    const claim = { namespace: NAMESPACE, name: op.vol };
    this.bed.api.put('persistentvolumeclaims', pvc(NAMESPACE, op.vol));
    this.bed.api.put(
      'persistentvolumes',
      pv(pvName, res.volume.volume_id, {
        block: op.mode === 'block',
        rwx: op.rwx,
        attrs: ctx,
        claim,
      }),
    );
  }

  private async deleteVolume(i: number, vol: string, entry: HistoryEntry) {
    const v = this.vol(vol);
    await this.call(i, entry, 'DeleteVolume', (deadlineMs) =>
      this.bed.controller().controller('DeleteVolume', { volume_id: v.volumeId }, { deadlineMs }),
    );
    this.bed.api.remove('persistentvolumes', v.pvName);
    this.bed.api.remove('persistentvolumeclaims', vol, NAMESPACE);
    this.volumes.delete(vol);
  }

  private async expand(i: number, vol: string, mib: number, entry: HistoryEntry) {
    const v = this.vol(vol);
    const oldMib = v.mib;
    // kubelet's view of each mounted filesystem before the resizer starts.
    const before = new Map<NodeName, number>();
    if (!v.block)
      for (const n of v.podUid.keys()) before.set(n, await this.fsBytes(i, entry, v, n));
    const res = await this.call(i, entry, 'ControllerExpandVolume', (deadlineMs) =>
      this.bed
        .controller()
        .controller<{ capacity_bytes: string; node_expansion_required: boolean }>(
          'ControllerExpandVolume',
          {
            volume_id: v.volumeId,
            capacity_range: { required_bytes: mib * MiB },
            volume_capability: v.capability,
          },
          { deadlineMs },
        ),
    );
    if (Number(res.capacity_bytes) < mib * MiB) {
      this.violate('capacity', `${vol}: expanded to ${res.capacity_bytes} bytes < ${mib} MiB`, i);
    }
    v.mib = mib;
    if (!res.node_expansion_required) return;
    for (const n of v.podUid.keys()) {
      const p = this.paths(v, n);
      await this.call(i, entry, 'NodeExpandVolume', (deadlineMs) =>
        this.bed.node(n).node(
          'NodeExpandVolume',
          {
            volume_id: v.volumeId,
            volume_path: p.target,
            staging_target_path: p.staging,
            capacity_range: { required_bytes: mib * MiB },
            volume_capability: v.capability,
          },
          { deadlineMs },
        ),
      );
      const was = before.get(n);
      if (was === undefined) continue;
      const now = await this.fsBytes(i, entry, v, n);
      // The filesystem gains the added space less the metadata of its new allocation or
      // block groups: up to about 13 % for a small ext4 (inode tables, bitmaps, descriptors),
      // measured. Its total is not compared with the device size: a small xfs keeps a 64 MiB
      // log out of it.
      const added = (mib - oldMib) * MiB;
      if (now - was < added * 0.75) {
        this.violate(
          'expansion',
          `${vol} on ${n}: the filesystem grew by ${now - was} bytes (${was} → ${now}) for ${added} bytes added`,
          i,
        );
      }
    }
  }

  /** The total bytes NodeGetVolumeStats reports for a mounted filesystem. */
  private async fsBytes(i: number, entry: HistoryEntry, v: VolumeRuntime, n: NodeName) {
    const p = this.paths(v, n);
    const stats = await this.call(i, entry, 'NodeGetVolumeStats', (deadlineMs) =>
      this.bed
        .node(n)
        .node<{ usage: { total?: string; unit: string }[] }>(
          'NodeGetVolumeStats',
          { volume_id: v.volumeId, volume_path: p.target, staging_target_path: p.staging },
          { deadlineMs },
        ),
    );
    return Number(stats.usage.find((u) => u.unit === 'BYTES')?.total ?? 0);
  }

  private async snapshot(i: number, snap: string, vol: string, entry: HistoryEntry) {
    const v = this.vol(vol);
    const res = await this.call(i, entry, 'CreateSnapshot', (deadlineMs) =>
      this.bed
        .controller()
        .controller<{ snapshot: { snapshot_id: string; ready_to_use: boolean } }>(
          'CreateSnapshot',
          { source_volume_id: v.volumeId, name: `snapshot-${this.pvName(snap).slice(4)}` },
          { deadlineMs },
        ),
    );
    if (!res.snapshot.ready_to_use) this.violate('snapshots', `${snap} not ready to use`, i);
    this.snapshots.set(snap, {
      id: res.snapshot.snapshot_id,
      data: new Map(v.data),
      ...(v.fsUuid === undefined ? {} : { fsUuid: v.fsUuid }),
    });
  }

  private async deleteSnapshot(i: number, snap: string, entry: HistoryEntry) {
    const s = this.snapshots.get(snap);
    if (s === undefined) throw new Error(`soak: no snapshot ${snap}`);
    await this.call(i, entry, 'DeleteSnapshot', (deadlineMs) =>
      this.bed.controller().controller('DeleteSnapshot', { snapshot_id: s.id }, { deadlineMs }),
    );
    this.snapshots.delete(snap);
  }

  private vaName(v: VolumeRuntime, n: NodeName | 'c'): string {
    return `csi-${crypto.createHash('sha256').update(`${v.pvName}${DRIVER}${n}`).digest('hex')}`;
  }

  /** The ControllerPublishVolume request the attacher sends for `v` on node `n`. */
  private publishRequest(v: VolumeRuntime, n: NodeName | 'c'): Record<string, unknown> {
    return {
      volume_id: v.volumeId,
      node_id: n,
      volume_capability: v.capability,
      volume_context: v.ctx,
    };
  }

  private async attach(i: number, vol: string, n: NodeName, entry: HistoryEntry) {
    const v = this.vol(vol);
    const created = Date.now();
    this.bed.api.put('volumeattachments', va(this.vaName(v, n), v.pvName, n, created, false));
    const res = await this.call(
      i,
      entry,
      'ControllerPublishVolume',
      (deadlineMs) =>
        this.bed
          .controller()
          .controller<{ publish_context: Record<string, string> }>(
            'ControllerPublishVolume',
            this.publishRequest(v, n),
            { deadlineMs },
          ),
      this.nodeAbsenceExplains(n),
    );
    if (!v.publishContext.has(n) && v.publishContext.size === 1 && v.migration === undefined) {
      const source = [...v.publishContext.keys()][0] as NodeName;
      v.migration = { source, target: n, startedAt: Date.now() };
    }
    v.publishContext.set(n, res.publish_context);
    this.bed.api.put('volumeattachments', va(this.vaName(v, n), v.pvName, n, created, true));
  }

  /**
   * The attacher asks for a node the volume may not have: the answer must be
   * FAILED_PRECONDITION (after any transient answers), and nothing may change.
   */
  private async conflict(i: number, vol: string, n: NodeName | 'c', entry: HistoryEntry) {
    const v = this.vol(vol);
    const before = await this.bed.allowList(v.ctx.nqn ?? '');
    const created = Date.now();
    const name = this.vaName(v, n);
    this.bed.api.put('volumeattachments', va(name, v.pvName, n, created, false));
    try {
      const refused = await this.call(
        i,
        entry,
        'ControllerPublishVolume',
        async (deadlineMs) => {
          await this.bed
            .controller()
            .controller('ControllerPublishVolume', this.publishRequest(v, n), { deadlineMs });
          return false;
        },
        undefined,
        status.FAILED_PRECONDITION,
      );
      if (!refused) {
        this.violate('conflicting publishes refused', `${vol} was published to ${n} as well`, i);
      }
    } finally {
      this.bed.api.remove('volumeattachments', name);
    }
    const after = await this.bed.allowList(v.ctx.nqn ?? '');
    if (JSON.stringify(after) !== JSON.stringify(before)) {
      this.violate(
        'conflicting publishes refused',
        `${vol}: a refused publish to ${n} changed the allow-list from ${JSON.stringify(before)} to ${JSON.stringify(after)}`,
        i,
      );
    }
  }

  private async detach(i: number, vol: string, n: NodeName, entry: HistoryEntry) {
    const v = this.vol(vol);
    await this.call(i, entry, 'ControllerUnpublishVolume', (deadlineMs) =>
      this.bed
        .controller()
        .controller(
          'ControllerUnpublishVolume',
          { volume_id: v.volumeId, node_id: n },
          { deadlineMs },
        ),
    );
    this.bed.api.remove('volumeattachments', this.vaName(v, n));
    v.publishContext.delete(n);
    const m = v.migration;
    if (m !== undefined && (n === m.source || n === m.target)) {
      delete v.migration;
      const deadline = m.startedAt + v.migrationMs;
      const result = Date.now() >= deadline ? 'timeout' : n === m.source ? 'success' : 'failed';
      this.endMigration(vol, result, result === 'timeout' ? deadline : Date.now());
    }
  }

  // ---- kubelet ----

  paths(v: VolumeRuntime, n: NodeName): { staging: string; target: string } {
    const root = this.bed.kubeletDir;
    const uid = v.podUid.get(n) ?? 'none';
    if (v.block) {
      return {
        staging: `${root}/plugins/kubernetes.io/csi/volumeDevices/staging/${v.pvName}`,
        target: `${root}/plugins/kubernetes.io/csi/volumeDevices/publish/${v.pvName}/${uid}`,
      };
    }
    const h = crypto.createHash('sha256').update(v.volumeId).digest('hex');
    return {
      staging: `${root}/plugins/kubernetes.io/csi/${DRIVER}/${h}/globalmount`,
      target: `${root}/pods/${uid}/volumes/kubernetes.io~csi/${v.pvName}/mount`,
    };
  }

  /**
   * Runs `script` in VM `n` as a background job and polls for its end. A VM runs one
   * command at a time on its serial line, and workload I/O blocks while a path is down: run
   * in the foreground it would hold the line, and the fault's own heal (in the same VM)
   * would queue behind it for ever.
   */
  private async sh(n: NodeName, script: string, timeoutMs = 300_000): Promise<string> {
    const id = `/tmp/soak-job-${crypto.randomUUID()}`;
    const started = await this.bed.exec(
      n,
      `(sh -c ${shellQuote(script)} >${id}.out 2>&1; echo $? >${id}.tmp; mv ${id}.tmp ${id}.rc) </dev/null >/dev/null 2>&1 &`,
      60_000,
    );
    if (started.exitCode !== 0) throw new Error(`${n}: cannot start a job: ${started.output}`);
    const deadline = Date.now() + timeoutMs;
    for (let wait = 100; ; wait = Math.min(wait * 2, 1000)) {
      await sleep(wait);
      const poll = await this.bed.exec(
        n,
        `if [ -f ${id}.rc ]; then cat ${id}.rc; cat ${id}.out; rm -f ${id}.rc ${id}.out; else echo running; fi`,
        60_000,
      );
      const [first, ...rest] = poll.output.split('\n');
      if (first !== 'running') {
        const code = Number(first);
        const output = rest.join('\n');
        if (code !== 0) {
          throw Object.assign(new Error(`${n}: exit ${code}: ${output.slice(-800)}`), {
            exitCode: code,
          });
        }
        return output;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${n}: still running after ${timeoutMs} ms: ${script.split('\n')[0] ?? ''}`,
        );
      }
    }
  }

  private async mount(i: number, vol: string, n: NodeName, entry: HistoryEntry) {
    const v = this.vol(vol);
    v.podUid.set(n, crypto.randomUUID());
    const p = this.paths(v, n);
    await this.sh(
      n,
      `mkdir -p ${shellQuote(p.staging)} ${shellQuote(p.target.replace(/\/[^/]+$/, ''))}`,
    );
    const common = {
      volume_id: v.volumeId,
      publish_context: v.publishContext.get(n) ?? {},
      volume_capability: v.capability,
      volume_context: v.ctx,
    };
    await this.call(i, entry, 'NodeStageVolume', (deadlineMs) =>
      this.bed
        .node(n)
        .node('NodeStageVolume', { ...common, staging_target_path: p.staging }, { deadlineMs }),
    );
    await this.call(i, entry, 'NodePublishVolume', (deadlineMs) =>
      this.bed
        .node(n)
        .node(
          'NodePublishVolume',
          { ...common, staging_target_path: p.staging, target_path: p.target },
          { deadlineMs },
        ),
    );
    if (!v.block) {
      const out = await this.sh(
        n,
        `dev=$(findmnt -n -o SOURCE -M ${shellQuote(p.staging)}) && blkid -p -o value -s UUID "$dev"`,
      );
      const uuid = out.trim().split('\n').pop() ?? '';
      if (v.fsUuid === undefined) v.fsUuid = uuid;
      else if (v.fsUuid !== uuid) {
        this.violate(
          'never formatted twice',
          `${vol} on ${n}: filesystem ${v.fsUuid} became ${uuid}`,
          i,
        );
      }
    }
  }

  private async unmount(i: number, vol: string, n: NodeName, entry: HistoryEntry) {
    const v = this.vol(vol);
    const p = this.paths(v, n);
    await this.call(i, entry, 'NodeUnpublishVolume', (deadlineMs) =>
      this.bed
        .node(n)
        .node(
          'NodeUnpublishVolume',
          { volume_id: v.volumeId, target_path: p.target },
          { deadlineMs },
        ),
    );
    await this.call(i, entry, 'NodeUnstageVolume', (deadlineMs) =>
      this.bed
        .node(n)
        .node(
          'NodeUnstageVolume',
          { volume_id: v.volumeId, staging_target_path: p.staging },
          { deadlineMs },
        ),
    );
    v.podUid.delete(n);
  }

  // ---- the workload ----

  private async write(i: number, vol: string, n: NodeName, slot: number) {
    const v = this.vol(vol);
    const p = this.paths(v, n);
    const tmp = `/tmp/soak-w-${i}`;
    const out = v.block
      ? `dd if=${tmp} of=${shellQuote(p.target)} bs=1M seek=${slot} count=1 oflag=direct conv=notrunc,fsync 2>&1`
      : `dd if=${tmp} of=${shellQuote(`${p.target}/slot-${slot}`)} bs=256k count=4 conv=fsync 2>&1`;
    // Until the write is acknowledged the slot's content is unknown (it may be half written).
    v.data.delete(slot);
    let res;
    try {
      res = await this.sh(
        n,
        `dd if=/dev/urandom of=${tmp} bs=1M count=1 2>/dev/null && ${out} >/dev/null && sha256sum ${tmp}; rc=$?; rm -f ${tmp}; exit $rc`,
      );
    } catch (err) {
      this.violate('writes succeed', `${vol} on ${n} slot ${slot}: ${(err as Error).message}`, i);
      return;
    }
    const sum = /^([0-9a-f]{64})/m.exec(res)?.[1];
    if (sum === undefined) throw new Error(`soak: no checksum in ${res}`);
    v.data.set(slot, sum);
    this.stats.writes++;
  }

  private async verify(i: number, vol: string, n: NodeName) {
    const v = this.vol(vol);
    if (v.data.size === 0) return;
    const p = this.paths(v, n);
    const lines = [...v.data.keys()].map((slot) =>
      v.block
        ? `printf '%s ' ${slot}; dd if=${shellQuote(p.target)} bs=1M skip=${slot} count=1 iflag=direct 2>/dev/null | sha256sum`
        : `printf '%s ' ${slot}; sha256sum < ${shellQuote(`${p.target}/slot-${slot}`)}`,
    );
    let out: string;
    try {
      out = await this.sh(n, lines.join('\n'));
    } catch (err) {
      this.violate(
        'no acknowledged write lost',
        `${vol} on ${n}: cannot read: ${(err as Error).message}`,
        i,
      );
      return;
    }
    const seen = new Map<number, string>();
    for (const m of out.matchAll(/^(\d+) ([0-9a-f]{64})/gm)) seen.set(Number(m[1]), m[2] as string);
    for (const [slot, sum] of v.data) {
      if (seen.get(slot) !== sum) {
        this.violate(
          'no acknowledged write lost',
          `${vol} on ${n}: slot ${slot} reads ${seen.get(slot) ?? 'nothing'}, wrote ${sum}`,
          i,
        );
      }
    }
    this.stats.verifiedMiB += v.data.size;
  }

  // ---- faults ----

  private async fault(spec: FaultSpec, ms: number): Promise<void> {
    const w: FaultWindow = { spec, start: Date.now() };
    this.faults.push(w);
    this.stats.faults++;
    this.stats.faultsByKind[spec.kind] = (this.stats.faultsByKind[spec.kind] ?? 0) + 1;
    try {
      await this.inject(spec);
      await sleep(ms);
    } finally {
      try {
        await this.heal(spec);
      } finally {
        w.end = Date.now();
      }
    }
  }

  private async inject(spec: FaultSpec): Promise<void> {
    const b = this.bed;
    switch (spec.kind) {
      case 'sim-latency':
        return b.simFaults({ rules: [{ latencyMs: spec.ms, jitterMs: spec.jitterMs }] });
      case 'sim-hang':
        return b.simFaults({ rules: [{ hang: true, times: spec.times }] });
      case 'sim-drop':
        return b.simFaults({ rules: [{ drop: true, times: spec.times }] });
      case 'sim-fail':
        return b.simFaults({
          rules: [{ match: spec.match, nth: spec.nth, fail: failText(spec.nth) }],
        });
      case 'sim-refuse-logins':
        // Cut the connection once so the refusal bites (an open session would not notice).
        return b.simFaults({ refuseLogins: true, rules: [{ drop: true, times: 1 }] });
      case 'sim-restart':
        return b.simFaults({ rules: [{ restart: true, nth: 1 }] });
      case 'target-outage':
        return b.targetDown();
      case 'controller-kill':
        return b.killController();
      case 'node-kill':
        return b.killNodePlugin(spec.node);
      case 'node-removed':
        return b.removeNode(spec.node);
      case 'api-down':
        return b.apiDown();
    }
  }

  private async heal(spec: FaultSpec): Promise<void> {
    const b = this.bed;
    switch (faultClass(spec)) {
      case 'sim':
        return b.simFaults({});
      case 'target-outage':
        return b.targetUp();
      case 'controller-kill':
        await b.startController();
        this.controllerEpoch++;
        return;
      case 'api-down':
        return b.apiUp();
    }
    if (spec.kind === 'node-kill') return b.startNodePlugin(spec.node);
    if (spec.kind === 'node-removed') {
      await b.restoreNode(spec.node);
      return;
    }
  }

  private endMigration(vol: string, result: MigrationResult, at: number): void {
    this.migrationEnds.push({ vol, result, at });
    this.stats.migrations[result]++;
  }

  /**
   * Migrations ended by `now`, by result, counting a window that has elapsed as a time-out;
   * `ambiguous` when a deadline or an end lies within `slackMs` of `now` (the driver's timer
   * and this clock are not one).
   */
  migrationsEndedBy(
    now: number,
    slackMs: number,
  ): { ended: Record<MigrationResult, number>; ambiguous: boolean } {
    const ended: Record<MigrationResult, number> = { success: 0, failed: 0, timeout: 0 };
    let ambiguous = false;
    const count = (result: MigrationResult, at: number) => {
      if (Math.abs(at - now) < slackMs) ambiguous = true;
      if (at <= now) ended[result]++;
    };
    for (const e of this.migrationEnds) count(e.result, e.at);
    for (const v of this.volumes.values()) {
      if (v.migration !== undefined) count('timeout', v.migration.startedAt + v.migrationMs);
    }
    return { ended, ambiguous };
  }

  // ---- what the checks need ----

  /** The allow-list a fenced volume must settle to: the host NQNs of its published nodes. */
  expectedAllowList(vol: string, attached: Iterable<NodeName>): string[] {
    const nodes = [...attached];
    if (nodes.length === 0) return [DENY_ALL_HOST_NQN];
    return nodes.map((n) => this.bed.hostNqn(n)).sort();
  }

  nqnOf(vol: string): string | undefined {
    return this.volumes.get(vol)?.ctx.nqn;
  }
}
