/**
 * The full AttachmentManager: the pure rules (src/domain/attachment) plus their effects.
 * Per volume, transitions are serialised (the controller's per-volume lock covers RPCs;
 * this also covers the timer, the reconciler and rebuilds). Effects are carried out in
 * order: the RDS allow-list first (awaited; if it fails nothing is committed and the RPC
 * fails with the port's error), then the new state is committed, then metrics and events
 * (events are queued, never awaited).
 */
import {
  nodesOf,
  transition,
  type AttachmentEvent,
  type TransitionResult,
  type VolumeState,
  DEFAULT_GRACE_PERIOD_MS,
  DEFAULT_NODE_GONE_GRACE_MS,
} from '../../domain/attachment';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  NotFoundError,
  CancelledError,
} from '../../domain/errors';
import type { NodeCache } from '../../kube/ports';
import type { Logger } from '../../observability/logger';
import type { ExportsPort } from '../../routeros/ports';
import type { AttachmentManager, PublishRequest, UnpublishRequest } from '../attachments-port';
import { recordMetric, type AttachmentMetrics, type VolumeEventSink } from './hooks';
import { settleVolume, type VaRecord } from './settle';

export interface AttachmentServiceDeps {
  readonly exports: ExportsPort;
  /** Kubernetes Nodes (deleted nodes never block; host NQNs for fencing). */
  readonly nodes?: NodeCache;
  readonly events?: VolumeEventSink;
  readonly metrics?: AttachmentMetrics;
  readonly now: () => number;
  readonly logger: Logger;
  readonly graceMs?: number;
  /** How long a deleted Node stays deleted before its attachments are cleared (default 2 min). */
  readonly nodeGoneGraceMs?: number;
  /** Called after any change of state (e.g. to re-arm the migration deadline timer). */
  readonly onChange?: () => void;
}

interface PublishedAs {
  readonly accessMode: string;
  readonly block: boolean;
  readonly readonly: boolean;
}

export class AttachmentService implements AttachmentManager {
  private readonly states = new Map<string, VolumeState>();
  private readonly published = new Map<string, Map<string, PublishedAs>>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private gate: Promise<void> | undefined;
  readonly graceMs: number;
  readonly nodeGoneGraceMs: number;
  /** When each attached node was first seen missing from the Node cache. */
  private readonly absentSince = new Map<string, number>();

  constructor(private readonly d: AttachmentServiceDeps) {
    this.graceMs = d.graceMs ?? DEFAULT_GRACE_PERIOD_MS;
    this.nodeGoneGraceMs = d.nodeGoneGraceMs ?? DEFAULT_NODE_GONE_GRACE_MS;
  }

  /**
   * The nodes of `candidates` that are gone: missing from a synced Node cache, and missing
   * ever since they were first seen missing at least nodeGoneGraceMs ago. A node that comes
   * back (kubelet re-registers) starts over.
   */
  goneNodes(candidates: Iterable<string>): string[] {
    const nodes = this.d.nodes;
    if (nodes?.synced !== true) return [];
    const now = this.d.now();
    const gone: string[] = [];
    for (const n of candidates) {
      if (nodes.get(n) !== undefined) {
        this.absentSince.delete(n);
        continue;
      }
      const since = this.absentSince.get(n) ?? now;
      this.absentSince.set(n, since);
      if (now - since >= this.nodeGoneGraceMs) gone.push(n);
    }
    return gone;
  }

  /**
   * When the first missing node that still holds an attachment reaches the end of its grace
   * (epoch ms), or undefined. Nodes holding nothing are forgotten.
   */
  nextGoneDeadline(): number | undefined {
    const holding = new Set<string>();
    for (const s of this.states.values()) for (const n of nodesOf(s)) holding.add(n);
    let next: number | undefined;
    for (const [node, since] of [...this.absentSince]) {
      if (!holding.has(node)) {
        this.absentSince.delete(node);
        continue;
      }
      const due = since + this.nodeGoneGraceMs;
      if (next === undefined || due < next) next = due;
    }
    return next;
  }

  // Both wait for the first rebuild before taking their turn on the volume: the rebuild's
  // own turns on the same volume must not queue behind them.
  async publish(req: PublishRequest): Promise<Readonly<Record<string, string>>> {
    await this.ready(req.signal);
    return this.serial(req.volumeId, async () => {
      const { volumeId, nodeId } = req;
      this.d.events?.rememberPvc?.(volumeId, req.volume.pvc);
      const ctx = { volumeId, nodeId };
      const before = this.published.get(volumeId)?.get(nodeId);
      const mine: PublishedAs = {
        accessMode: req.accessMode,
        block: req.block,
        readonly: req.readonly,
      };
      const cur = this.states.get(volumeId);
      if (before !== undefined && nodesOf(cur).includes(nodeId) && !sameAs(before, mine)) {
        throw new AlreadyExistsError(
          `volume ${volumeId} is already published to node ${nodeId} with a different capability or readonly flag`,
          ctx,
        );
      }
      const nodes = this.d.nodes;
      const known = nodes?.synced === true;
      if (known && nodes.get(nodeId) === undefined) {
        throw new NotFoundError(`node ${nodeId} does not exist`, ctx);
      }
      const hostNqn = nodes?.get(nodeId)?.hostNqn;
      const event: AttachmentEvent = {
        kind: 'publish',
        volumeId,
        nodeId,
        ...(hostNqn === undefined ? {} : { hostNqn }),
        multiNode: req.accessMode === 'MULTI_NODE_MULTI_WRITER',
        block: req.block,
        migrationTimeoutMs: req.volume.migrationTimeoutSeconds * 1000,
        fencing: req.volume.hostFencing,
        graceMs: this.graceMs,
        goneNodes: this.goneNodes(nodesOf(cur)),
      };
      const start = this.d.now();
      const r = transition(cur, event, start);
      await this.apply(r, 'attach', start, req.signal);
      if (!r.outcome.ok) {
        throw new FailedPreconditionError(r.outcome.message, {
          ...ctx,
          currentNodes: r.outcome.nodes,
        });
      }
      const perNode = this.published.get(volumeId) ?? new Map<string, PublishedAs>();
      if (!perNode.has(nodeId)) perNode.set(nodeId, mine);
      this.published.set(volumeId, perNode);
      return { readonly: String(req.readonly) };
    });
  }

  async unpublish(req: UnpublishRequest): Promise<void> {
    await this.ready(req.signal);
    return this.serial(req.volumeId, async () => {
      const targets =
        req.nodeId === undefined ? nodesOf(this.states.get(req.volumeId)) : [req.nodeId];
      for (const nodeId of targets) {
        const start = this.d.now();
        const r = transition(
          this.states.get(req.volumeId),
          { kind: 'unpublish', volumeId: req.volumeId, nodeId },
          start,
        );
        await this.apply(r, 'detach', start, req.signal);
        this.published.get(req.volumeId)?.delete(nodeId);
      }
    });
  }

  /**
   * Hold publishes and unpublishes until `ready` settles (the first rebuild from
   * VolumeAttachments: deciding before it would ignore attachments made before a restart).
   */
  holdUntil(ready: Promise<unknown>): void {
    const gate = ready.then(
      () => undefined,
      () => undefined,
    );
    this.gate = gate;
    void gate.then(() => {
      if (this.gate === gate) this.gate = undefined;
    });
  }

  /**
   * Resolves once the first rebuild is done (at once after it); CancelledError when the
   * caller's signal fires first. Reads that report attachments (ListVolumes, DeleteVolume)
   * wait here too, so they never answer from the empty state before the rebuild.
   */
  async ready(signal: AbortSignal): Promise<void> {
    const cancelled = (): CancelledError =>
      new CancelledError('cancelled while attachment state was being rebuilt');
    if (signal.aborted) throw cancelled();
    const gate = this.gate;
    if (gate === undefined) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(cancelled());
      signal.addEventListener('abort', onAbort, { once: true });
      void gate.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  publishedNodes(volumeId: string): readonly string[] {
    return nodesOf(this.states.get(volumeId)).sort();
  }

  volumeDeleted(volumeId: string): void {
    this.states.delete(volumeId);
    this.published.delete(volumeId);
    this.changed();
  }

  /** Current state of every volume (for the reconciler and diagnostics). */
  snapshot(): ReadonlyMap<string, VolumeState> {
    return new Map(this.states);
  }

  /** Earliest deadline of an unfinished migration (epoch ms), or undefined. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const s of this.states.values()) {
      const m = s.migration;
      if (m === undefined || m.failedAt !== undefined) continue;
      const due = m.startedAt + m.timeoutMs;
      if (next === undefined || due < next) next = due;
    }
    return next;
  }

  /** Enforce migration windows and forget idle volumes. Returns how many timed out. */
  async tick(): Promise<number> {
    let timedOut = 0;
    for (const volumeId of [...this.states.keys()]) {
      await this.serial(volumeId, async () => {
        const r = transition(
          this.states.get(volumeId),
          { kind: 'tick', volumeId, graceMs: this.graceMs },
          this.d.now(),
        );
        if (r.effects.some((e) => e.kind === 'metric' && e.metric.name === 'migrationEnded'))
          timedOut++;
        await this.apply(r, undefined, 0);
      });
    }
    return timedOut;
  }

  /** Clear the node's attachments (it was deleted from Kubernetes). Returns volumes touched. */
  async nodeGone(nodeId: string): Promise<string[]> {
    const touched: string[] = [];
    this.absentSince.delete(nodeId);
    for (const [volumeId, s] of [...this.states]) {
      if (!nodesOf(s).includes(nodeId)) continue;
      await this.serial(volumeId, async () => {
        const r = transition(
          this.states.get(volumeId),
          { kind: 'nodeGone', volumeId, nodeId },
          this.d.now(),
        );
        await this.apply(r, undefined, 0);
        this.published.get(volumeId)?.delete(nodeId);
        if (r.state !== this.states.get(volumeId) || !r.outcome.ok || !r.outcome.idempotent)
          touched.push(volumeId);
      });
    }
    return touched;
  }

  /**
   * Bring one volume in line with its VolumeAttachments (see settle.ts), after every
   * earlier operation on it: `records` is read when the turn comes, so the newest watch
   * state wins. Nodes dropped here are forgotten for the capability check too.
   */
  resync(volumeId: string, records: () => readonly VaRecord[]): Promise<void> {
    return this.serial(volumeId, () => {
      const cur = this.states.get(volumeId);
      const next = settleVolume(volumeId, cur, records());
      if (next === cur) return Promise.resolve();
      if (next === undefined) this.states.delete(volumeId);
      else this.states.set(volumeId, next);
      const keep = new Set(nodesOf(next));
      const perNode = this.published.get(volumeId);
      for (const n of [...(perNode?.keys() ?? [])]) if (!keep.has(n)) perNode?.delete(n);
      this.d.logger.info('attachment state follows VolumeAttachments', {
        volumeId,
        before: nodesOf(cur),
        after: nodesOf(next),
      });
      this.changed();
      return Promise.resolve();
    });
  }

  private async apply(
    r: TransitionResult,
    op: 'attach' | 'detach' | undefined,
    start: number,
    signal?: AbortSignal,
  ): Promise<void> {
    for (const e of r.effects) {
      if (e.kind !== 'allowHosts') continue;
      try {
        await this.d.exports.setAllowedHosts(
          e.volumeId,
          e.hostNqns,
          signal === undefined ? {} : { signal },
        );
      } catch (err) {
        if (op !== undefined) {
          const counter =
            op === 'attach' ? this.d.metrics?.attachmentAttach : this.d.metrics?.attachmentDetach;
          counter?.inc({ status: 'failure' });
        }
        this.d.logger.warn('RDS allow-list update failed; attachment state unchanged', {
          volumeId: e.volumeId,
          err,
        });
        throw err;
      }
    }
    for (const e of r.effects) {
      if (e.kind === 'persist') {
        if (r.state === undefined) this.states.delete(e.volumeId);
        else this.states.set(e.volumeId, r.state);
      }
    }
    const tookMs = Math.max(0, this.d.now() - start);
    if (op !== undefined && r.outcome.ok) {
      this.d.metrics?.attachmentOperationDuration.observe({ operation: op }, tookMs / 1000);
    }
    for (const e of r.effects) {
      if (e.kind === 'metric') recordMetric(this.d.metrics, e.metric);
      if (e.kind === 'event') {
        const message = e.timed === true ? `${e.message} in ${tookMs}ms` : e.message;
        this.d.events?.post(e.volumeId, { type: e.type, reason: e.reason, message });
        this.d.logger.info('attachment event', { volumeId: e.volumeId, reason: e.reason, message });
      }
    }
    if (r.effects.some((e) => e.kind === 'persist')) this.changed();
  }

  private changed(): void {
    let active = 0;
    for (const s of this.states.values())
      if (s.migration !== undefined && s.migration.failedAt === undefined) active++;
    this.d.metrics?.migrationActive.set(active);
    this.d.onChange?.();
  }

  /** Run `f` after every earlier operation on the same volume. */
  private serial<T>(volumeId: string, f: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(volumeId) ?? Promise.resolve();
    const run = prev.then(f, f);
    const tail = run.catch(() => undefined);
    this.chains.set(volumeId, tail);
    void tail.then(() => {
      if (this.chains.get(volumeId) === tail) this.chains.delete(volumeId);
    });
    return run;
  }
}

function sameAs(a: PublishedAs, b: PublishedAs): boolean {
  return a.accessMode === b.accessMode && a.block === b.block && a.readonly === b.readonly;
}
