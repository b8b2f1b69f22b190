/**
 * The attachment and live-migration rules as a pure function:
 * `transition(state, event, now) → { state, effects, outcome }`. No I/O and no clock: the
 * caller passes `now` (epoch ms), carries out the effects in order (allow-list first, so a
 * node is never told it may connect before the RDS lets it) and stores the new state.
 *
 * Rules:
 * - Single-writer: one node. Another node is refused (conflict) unless the blocking node
 *   is known to be deleted from Kubernetes; a publish within the grace period after the
 *   last node's unpublish is a hand-off and is counted.
 * - Multi-node (MULTI_NODE_MULTI_WRITER) only for block and only two nodes: the second
 *   publish starts a migration with a window; a third node is refused.
 * - Unpublishing either node ends the migration: success when the source leaves, failed
 *   when the target leaves first. A `tick` past the window fails it (result `timeout`);
 *   both nodes stay published (cutting a possibly running VM off is not ours to decide)
 *   but a third node is still refused and the reconciler reports the stale side.
 * - Fencing: every change of the node set sets the RDS allow-list to exactly the
 *   published nodes' host NQNs; with no node published it names DENY_ALL_HOST_NQN
 *   because an empty list means "any host" on the RDS.
 * - Publishing to a node that already has the volume is OK and changes nothing.
 */
import type {
  Attachment,
  AttachmentEvent,
  Effect,
  NodeGoneEvent,
  Outcome,
  PublishEvent,
  TickEvent,
  TransitionResult,
  UnpublishEvent,
  VolumeState,
} from './types';

/** A well-formed host NQN that no host uses: the allow-list of a fenced, unpublished disk. */
export const DENY_ALL_HOST_NQN = 'nqn.2014-08.dev.rds-csi:no-host';

const OK: Outcome = { ok: true, idempotent: false };
const IDEMPOTENT: Outcome = { ok: true, idempotent: true };

export function transition(
  state: VolumeState | undefined,
  event: AttachmentEvent,
  now: number,
): TransitionResult {
  switch (event.kind) {
    case 'publish':
      return publish(state, event, now);
    case 'unpublish':
      return unpublish(state, event, now);
    case 'tick':
      return tick(state, event, now);
    case 'nodeGone':
      return nodeGone(state, event, now);
  }
}

/** Effects collector for one transition. */
class Fx {
  readonly list: Effect[] = [];
  constructor(readonly volumeId: string) {}
  event(
    type: 'Normal' | 'Warning',
    reason: Extract<Effect, { kind: 'event' }>['reason'],
    message: string,
    timed = false,
  ): void {
    this.list.push({
      kind: 'event',
      volumeId: this.volumeId,
      type,
      reason,
      message,
      ...(timed ? { timed } : {}),
    });
  }
  metric(metric: Extract<Effect, { kind: 'metric' }>['metric']): void {
    this.list.push({ kind: 'metric', metric });
  }
  allowHosts(s: VolumeState): void {
    if (!s.fencing) return;
    const hostNqns = allowListOf(s);
    // One allow-list per transition (the final one), first, so a caller that stops at a
    // failed update has done nothing else.
    const i = this.list.findIndex((e) => e.kind === 'allowHosts');
    if (i >= 0) this.list.splice(i, 1);
    this.list.unshift({ kind: 'allowHosts', volumeId: this.volumeId, hostNqns });
  }
  persist(): void {
    this.list.push({ kind: 'persist', volumeId: this.volumeId });
  }
}

/**
 * The RDS allow-list a fenced volume must have: its published nodes' host NQNs, deduplicated
 * and sorted, or [DENY_ALL_HOST_NQN] when none is known (an empty list means "any host").
 */
export function allowListOf(s: VolumeState): string[] {
  const nqns = s.attachments.map((a) => a.hostNqn).filter((n): n is string => n !== undefined);
  return nqns.length === 0 ? [DENY_ALL_HOST_NQN] : [...new Set(nqns)].sort();
}

export function nodesOf(s: VolumeState | undefined): string[] {
  return s === undefined ? [] : s.attachments.map((a) => a.nodeId);
}

function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}

function fmtSeconds(ms: number): string {
  return `${Math.round(seconds(ms))}s`;
}

/** End an unfinished migration because `nodeId` left; no-op when none or already failed. */
function endMigration(
  s: VolumeState,
  nodeId: string,
  why: 'unpublish' | 'gone',
  now: number,
  fx: Fx,
): void {
  const m = s.migration;
  if (m === undefined || m.failedAt !== undefined) return;
  const took = now - m.startedAt;
  if (why === 'unpublish' && nodeId === m.source) {
    fx.event(
      'Normal',
      'MigrationCompleted',
      `migration from ${m.source} to ${m.target} completed in ${fmtSeconds(took)}`,
    );
    fx.metric({ name: 'migrationEnded', result: 'success', durationSeconds: seconds(took) });
    return;
  }
  const cause =
    why === 'gone'
      ? `node ${nodeId} was deleted`
      : `target ${nodeId} was unpublished before the hand-off`;
  fx.event(
    'Warning',
    'MigrationFailed',
    `migration from ${m.source} to ${m.target} failed after ${fmtSeconds(took)}: ${cause}`,
  );
  fx.metric({ name: 'migrationEnded', result: 'failed' });
}

/** The state without `nodeId`; ends the migration and remembers the detach time. */
function without(s: VolumeState, nodeId: string, now: number): VolumeState {
  const attachments = s.attachments.filter((a) => a.nodeId !== nodeId);
  const { migration: _m, lastDetach: _d, ...rest } = s;
  return {
    ...rest,
    attachments,
    ...(attachments.length === 0 ? { lastDetach: { nodeId, at: now } } : {}),
  };
}

function clearGone(
  s: VolumeState,
  nodeId: string,
  now: number,
  fx: Fx,
  reconcile: boolean,
): VolumeState {
  endMigration(s, nodeId, 'gone', now, fx);
  const next = without(s, nodeId, now);
  fx.allowHosts(next);
  fx.event(
    'Warning',
    'StaleAttachmentCleared',
    `attachment to node ${nodeId} cleared: the node no longer exists`,
  );
  fx.metric({ name: 'staleCleared' });
  if (reconcile) fx.metric({ name: 'reconcile', action: 'stale_cleared' });
  fx.persist();
  return next;
}

function refuse(
  s: VolumeState,
  e: PublishEvent,
  fx: Fx,
  reason: 'conflict' | 'fencing',
  message: string,
): Outcome {
  if (reason === 'conflict') {
    fx.event('Warning', 'AttachmentConflict', `publish to node ${e.nodeId} refused: ${message}`);
    fx.metric({ name: 'conflict' });
  }
  fx.metric({ name: 'attach', status: 'failure' });
  return { ok: false, reason, message, nodes: nodesOf(s) };
}

function publish(state: VolumeState | undefined, e: PublishEvent, now: number): TransitionResult {
  const fx = new Fx(e.volumeId);
  if (state?.attachments.some((a) => a.nodeId === e.nodeId)) {
    fx.metric({ name: 'attach', status: 'success' });
    return { state, effects: fx.list, outcome: IDEMPOTENT };
  }
  let s: VolumeState = state ?? { volumeId: e.volumeId, attachments: [], fencing: e.fencing };
  if (e.fencing && e.hostNqn === undefined) {
    const outcome = refuse(
      s,
      e,
      fx,
      'fencing',
      `host NQN of node ${e.nodeId} is unknown and host fencing is on`,
    );
    return { state, effects: fx.list, outcome };
  }
  for (const a of s.attachments) {
    if (e.goneNodes.includes(a.nodeId)) s = clearGone(s, a.nodeId, now, fx, false);
  }
  const mine: Attachment = {
    nodeId: e.nodeId,
    attachedAt: now,
    ...(e.hostNqn === undefined ? {} : { hostNqn: e.hostNqn }),
  };
  const current = nodesOf(s);
  if (current.length === 0) {
    const d = s.lastDetach;
    const handOff = d !== undefined && d.nodeId !== e.nodeId && now - d.at < e.graceMs;
    if (handOff) fx.metric({ name: 'gracePeriodUsed' });
    const { lastDetach: _d, ...rest } = s;
    return attached(
      { ...rest, attachments: [mine] },
      e,
      fx,
      handOff ? ` (hand-off from ${d.nodeId})` : '',
    );
  }
  if (current.length === 1 && s.migration === undefined && e.multiNode && e.block) {
    const source = current[0] ?? '';
    const migration = { source, target: e.nodeId, startedAt: now, timeoutMs: e.migrationTimeoutMs };
    const next: VolumeState = { ...s, attachments: [...s.attachments, mine], migration };
    fx.event(
      'Normal',
      'MigrationStarted',
      `live migration from ${source} to ${e.nodeId} started (timeout ${fmtSeconds(e.migrationTimeoutMs)})`,
    );
    fx.metric({ name: 'migrationStarted' });
    return attached(next, e, fx, '');
  }
  const outcome = refuse(s, e, fx, 'conflict', conflictMessage(s, e));
  return { state: s, effects: fx.list, outcome };
}

function conflictMessage(s: VolumeState, e: PublishEvent): string {
  const nodes = nodesOf(s);
  if (nodes.length >= 2) {
    const state =
      s.migration?.failedAt !== undefined ? 'a timed-out live migration' : 'a live migration';
    return `volume ${s.volumeId} is published to nodes ${nodes.join(' and ')} (${state}); a third node is not allowed`;
  }
  const why =
    e.multiNode && !e.block
      ? 'multi-node access is only allowed for block volumes'
      : e.multiNode
        ? 'multi-node access is only allowed for a live migration'
        : 'the volume is single-writer';
  return `volume ${s.volumeId} is published to node ${nodes[0] ?? ''}; ${why}`;
}

function attached(chosen: VolumeState, e: PublishEvent, fx: Fx, note: string): TransitionResult {
  const next = chosen.fencing === e.fencing ? chosen : { ...chosen, fencing: e.fencing };
  fx.allowHosts(next);
  fx.event('Normal', 'VolumeAttached', `volume published to node ${e.nodeId}${note}`, true);
  fx.metric({ name: 'attach', status: 'success' });
  fx.persist();
  return { state: next, effects: fx.list, outcome: OK };
}

function unpublish(
  state: VolumeState | undefined,
  e: UnpublishEvent,
  now: number,
): TransitionResult {
  const fx = new Fx(e.volumeId);
  if (state === undefined || !state.attachments.some((a) => a.nodeId === e.nodeId)) {
    fx.metric({ name: 'detach', status: 'success' });
    return { state, effects: fx.list, outcome: IDEMPOTENT };
  }
  endMigration(state, e.nodeId, 'unpublish', now, fx);
  const next = without(state, e.nodeId, now);
  fx.allowHosts(next);
  fx.event('Normal', 'VolumeDetached', `volume unpublished from node ${e.nodeId}`, true);
  fx.metric({ name: 'detach', status: 'success' });
  fx.persist();
  return { state: next, effects: fx.list, outcome: OK };
}

function tick(state: VolumeState | undefined, e: TickEvent, now: number): TransitionResult {
  const fx = new Fx(e.volumeId);
  if (state === undefined) return { state, effects: [], outcome: IDEMPOTENT };
  const m = state.migration;
  if (m !== undefined && m.failedAt === undefined && now >= m.startedAt + m.timeoutMs) {
    fx.event(
      'Warning',
      'MigrationFailed',
      `migration from ${m.source} to ${m.target} failed after ${fmtSeconds(now - m.startedAt)}: ` +
        `timeout of ${fmtSeconds(m.timeoutMs)} exceeded; both nodes are still published, a third is refused`,
    );
    fx.metric({ name: 'migrationEnded', result: 'timeout' });
    fx.metric({ name: 'reconcile', action: 'migration_timeout' });
    fx.persist();
    return {
      state: { ...state, migration: { ...m, failedAt: now } },
      effects: fx.list,
      outcome: OK,
    };
  }
  const idle = state.attachments.length === 0;
  if (idle && (state.lastDetach === undefined || now - state.lastDetach.at >= e.graceMs)) {
    fx.persist();
    return { state: undefined, effects: fx.list, outcome: OK };
  }
  return { state, effects: [], outcome: IDEMPOTENT };
}

function nodeGone(state: VolumeState | undefined, e: NodeGoneEvent, now: number): TransitionResult {
  const fx = new Fx(e.volumeId);
  if (state === undefined || !state.attachments.some((a) => a.nodeId === e.nodeId)) {
    return { state, effects: [], outcome: IDEMPOTENT };
  }
  const next = clearGone(state, e.nodeId, now, fx, true);
  return { state: next, effects: fx.list, outcome: OK };
}
