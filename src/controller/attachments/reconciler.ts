/**
 * The reconciler: runs on start, every `intervalMs` (default 5 min), on demand (Node
 * deleted or Ready→NotReady, RDS reconnect) and at the next migration deadline, so a
 * window is enforced even when no RPC arrives. Each pass:
 * 1. enforces migration windows (AttachmentService.tick);
 * 2. clears attachments of nodes deleted from Kubernetes (once the Node cache is synced) and
 *    still deleted after the node-gone grace (a timer fires when it ends);
 * 3. on the leader only: compares its state with the VolumeAttachments and reports drift
 *    (log + attachment_reconcile_total{action="drift"}), reports the stale side of
 *    timed-out migrations, and sets the RDS allow-list of fenced volumes back to the
 *    published nodes when it differs (e.g. after an RDS restart).
 * Passes never overlap: a trigger during a pass schedules exactly one more.
 */
import { allowListOf, nodesOf, type VolumeState } from '../../domain/attachment';
import type { NodeCache } from '../../kube/ports';
import type { Logger } from '../../observability/logger';
import type { ExportsPort, VolumesPort } from '../../routeros/ports';
import type { AttachmentMetrics } from './hooks';
import type { KubeRebuild } from './rebuild';
import type { AttachmentService } from './service';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const h = setTimeout(fn, ms);
    h.unref();
    return h;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ReconcilerDeps {
  readonly service: AttachmentService;
  readonly nodes?: NodeCache;
  /** What Kubernetes says is attached (absent without Kubernetes). */
  readonly kubeView?: () => Promise<KubeRebuild>;
  /** RDS reads/writes for allow-list drift of fenced volumes. */
  readonly volumes?: Pick<VolumesPort, 'get'>;
  readonly exports?: ExportsPort;
  readonly isLeader?: () => boolean;
  readonly metrics?: Pick<AttachmentMetrics, 'attachmentReconcile'>;
  readonly logger: Logger;
  readonly now: () => number;
  readonly intervalMs?: number;
  readonly timers?: Timers;
}

export interface ReconcileReport {
  readonly reason: string;
  readonly timedOut: number;
  readonly cleared: readonly string[];
  readonly drift: readonly string[];
}

export class Reconciler {
  private readonly timers: Timers;
  private readonly intervalMs: number;
  private interval: unknown;
  private deadline: unknown;
  private running: Promise<ReconcileReport> | undefined;
  private again: string | undefined;
  private stopped = false;
  /** The last pass's report (diagnostics and tests). */
  last: ReconcileReport | undefined;
  passes = 0;

  constructor(private readonly d: ReconcilerDeps) {
    this.timers = d.timers ?? realTimers;
    this.intervalMs = d.intervalMs ?? 300_000;
  }

  /** Arms the interval and runs the first pass; resolves when that pass is done. */
  start(): Promise<ReconcileReport | undefined> {
    this.stopped = false;
    const every = (): void => {
      this.interval = this.timers.setTimeout(() => {
        void this.trigger('interval');
        every();
      }, this.intervalMs);
    };
    every();
    const first = this.trigger('start');
    this.armDeadline();
    return first;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimeout(this.interval);
    this.timers.clearTimeout(this.deadline);
    await this.running?.catch(() => undefined);
  }

  /**
   * (Re)arm the timer for the earliest deadline: a migration's window, or the end of a
   * deleted node's grace. Call after state changes.
   */
  armDeadline(): void {
    this.timers.clearTimeout(this.deadline);
    this.deadline = undefined;
    const migration = this.d.service.nextDeadline();
    const node = this.d.service.nextGoneDeadline();
    const due =
      migration === undefined ? node : node === undefined ? migration : Math.min(migration, node);
    if (due === undefined || this.stopped) return;
    const why = due === migration ? 'migration-deadline' : 'node-gone-deadline';
    // A gone node whose clearing failed (RDS unreachable) is retried, not spun on.
    const floor = why === 'node-gone-deadline' ? 1000 : 0;
    const delay = Math.max(floor, due - this.d.now());
    this.deadline = this.timers.setTimeout(() => void this.trigger(why), delay);
  }

  /** Run a pass now, or once more after the current one. Never rejects. */
  trigger(reason: string): Promise<ReconcileReport | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    if (this.running !== undefined) {
      this.again = reason;
      return this.running.then(() => this.running ?? this.last);
    }
    const run = this.pass(reason).catch((err: unknown) => {
      this.d.logger.error('reconcile pass failed', { reason, err });
      return { reason, timedOut: 0, cleared: [], drift: [] };
    });
    this.running = run.finally(() => {
      this.running = undefined;
      const next = this.again;
      this.again = undefined;
      if (next !== undefined) void this.trigger(next);
    });
    return this.running;
  }

  private async pass(reason: string): Promise<ReconcileReport> {
    const { service, nodes } = this.d;
    const timedOut = await service.tick();
    const cleared: string[] = [];
    if (nodes?.synced === true) {
      const attached = new Set<string>();
      for (const s of service.snapshot().values()) for (const n of nodesOf(s)) attached.add(n);
      for (const n of service.goneNodes(attached)) {
        const touched = await service.nodeGone(n);
        if (touched.length > 0) cleared.push(n);
      }
    }
    const drift = this.d.isLeader?.() === false ? [] : await this.drift();
    for (const line of drift) {
      this.d.metrics?.attachmentReconcile.inc({ action: 'drift' });
      this.d.logger.warn('attachment drift', { detail: line });
    }
    this.armDeadline();
    this.passes++;
    const report = { reason, timedOut, cleared, drift };
    this.last = report;
    this.d.logger.debug('reconcile pass done', { ...report });
    return report;
  }

  private async drift(): Promise<string[]> {
    const out: string[] = [];
    const states = this.d.service.snapshot();
    for (const s of states.values()) {
      const m = s.migration;
      if (m?.failedAt !== undefined) {
        out.push(
          `volume ${s.volumeId}: migration from ${m.source} to ${m.target} timed out and both are still published; ` +
            `one of them must be unpublished`,
        );
      }
    }
    if (this.d.kubeView !== undefined) {
      const view = await this.d.kubeView();
      out.push(...view.drift);
      const ids = new Set([...states.keys(), ...view.states.keys()]);
      for (const id of ids) {
        if (view.pending.has(id)) continue;
        const mine = nodesOf(states.get(id)).sort().join(',');
        const theirs = nodesOf(view.states.get(id)).sort().join(',');
        if (mine !== theirs) {
          out.push(`volume ${id}: published to [${mine}] here, VolumeAttachments say [${theirs}]`);
        }
      }
    }
    out.push(...(await this.allowListDrift(states)));
    return out;
  }

  private async allowListDrift(states: ReadonlyMap<string, VolumeState>): Promise<string[]> {
    const { volumes, exports } = this.d;
    if (volumes === undefined) return [];
    const out: string[] = [];
    for (const s of states.values()) {
      if (!s.fencing) continue;
      const expected = allowListOf(s);
      try {
        const disk = await volumes.get(s.volumeId);
        if (disk === undefined) continue;
        const actual = [...disk.allowedHosts].sort();
        if (actual.join(',') === expected.join(',')) continue;
        out.push(
          `volume ${s.volumeId}: RDS allow-list [${actual.join(',')}] differs from [${expected.join(',')}]`,
        );
        await exports?.setAllowedHosts(s.volumeId, expected);
      } catch (err) {
        this.d.logger.warn('could not check the RDS allow-list', { volumeId: s.volumeId, err });
      }
    }
    return out;
  }
}
