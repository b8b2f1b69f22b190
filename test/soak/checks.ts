// The soak's invariants, read from the real kernels, rds-sim, the controller's metrics and
// the API server, and compared with the model (what a cluster asked for) and the history.
import { DENY_ALL_HOST_NQN } from '../../src/domain/attachment';
import { sample } from '../helpers/prometheus';
import { NODE_NAMES, type Bed, type NodeName } from './bed-types';
import type { Executor } from './exec';
import type { MigrationResult, Model } from './model';

/** Controller states that mean "this node can reach the namespace" (or is about to again). */
const CONNECTED = new Set(['live', 'connecting', 'resetting', 'new']);

/**
 * Exclusivity, checked continuously: a single-node volume is connected on at most one node,
 * a multi-node one on at most two. Reads only the kernels, so it holds whatever is in flight.
 */
export async function checkExclusive(bed: Bed, ex: Executor): Promise<void> {
  const byNqn = new Map<string, Set<NodeName>>();
  for (const n of NODE_NAMES) {
    for (const c of await bed.controllers(n)) {
      if (!CONNECTED.has(c.state)) continue;
      const set = byNqn.get(c.subsysnqn) ?? new Set<NodeName>();
      set.add(n);
      byNqn.set(c.subsysnqn, set);
    }
  }
  for (const [name, v] of ex.volumes) {
    const nodes = byNqn.get(v.ctx.nqn ?? '') ?? new Set();
    // The runtime's facts, not the model's: the model is applied when an operation is issued,
    // so a volume being taken down may already be gone from it while still connected.
    const rwx = v.rwx;
    if (!rwx && nodes.size > 1) {
      ex.violate(
        'single-node volumes on one node',
        `${name} is connected on ${[...nodes].join(' and ')}`,
      );
    }
    // The kernel target's allow-list: never more hosts than the access mode allows.
    if (!v.fenced) continue;
    const allow = await bed.allowList(v.ctx.nqn ?? '');
    if (allow === 'any')
      ex.violate('fenced volumes stay fenced', `${name}'s target lets any host in`);
    if (allow === undefined || allow === 'any') continue;
    const hosts = allow.filter((h) => h !== DENY_ALL_HOST_NQN);
    if (hosts.length > (rwx ? 2 : 1)) {
      ex.violate(
        rwx ? 'multi-node volumes on at most two nodes' : 'single-node volumes on one node',
        `${name}'s allow-list holds ${hosts.length} hosts: ${hosts.join(', ')}`,
      );
    }
  }
}

export interface SettleState {
  epoch: number;
  metrics?: string;
  /** Migration ends in the history when `metrics` was read. */
  ended: Record<MigrationResult, number>;
  /** Successful answers to each RPC so far. */
  ok: Record<string, number>;
  /** A migration deadline lay too close to the scrape to tell which side it fell on. */
  ambiguous?: boolean;
}

function okCounts(ex: Executor): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of ex.rpcs) if (r.code === 'OK') out[r.rpc] = (out[r.rpc] ?? 0) + 1;
  return out;
}

async function poll(
  what: string,
  f: () => Promise<string[]>,
  timeoutMs: number,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let problems: string[];
    try {
      problems = await f();
    } catch (err) {
      problems = [`${what}: ${(err as Error).message}`];
    }
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/**
 * Once every operation has finished and every fault is healed, the system must settle to
 * what the cluster asked for: fenced allow-lists equal the published nodes, each node holds
 * exactly the NVMe controllers and mounts of the volumes staged there.
 */
export async function checkSettled(bed: Bed, ex: Executor, model: Model): Promise<void> {
  const problems = await poll(
    'settle',
    async () => {
      const out: string[] = [];
      for (const [name, v] of model.volumes) {
        const rt = ex.volumes.get(name);
        if (rt === undefined) continue;
        const nqn = rt.ctx.nqn ?? '';
        const allow = await bed.allowList(nqn);
        const want = v.fenced ? ex.expectedAllowList(name, v.attached) : 'any';
        if (JSON.stringify(allow) !== JSON.stringify(want)) {
          out.push(
            `allow-list of ${name} is ${JSON.stringify(allow)}, published to [${[...v.attached].join(',')}]`,
          );
        }
      }
      for (const n of NODE_NAMES) {
        const have = new Set(
          (await bed.controllers(n)).filter((c) => CONNECTED.has(c.state)).map((c) => c.subsysnqn),
        );
        const want = new Set(
          [...model.volumes.values()]
            .filter((v) => v.mounted.has(n))
            .map((v) => ex.volumes.get(v.name)?.ctx.nqn ?? ''),
        );
        for (const q of have)
          if (!want.has(q)) out.push(`${n} holds a controller for ${q}, staged nowhere there`);
        for (const q of want) if (!have.has(q)) out.push(`${n} has no controller for staged ${q}`);
        const mounts = await bed.mounts(n);
        for (const [name, v] of model.volumes) {
          const rt = ex.volumes.get(name);
          if (rt === undefined) continue;
          const p = ex.paths(rt, n);
          const mine = mounts.filter((m) => m === p.target || m === p.staging);
          if (v.mounted.has(n) && !mounts.includes(p.target))
            out.push(`${name}: ${p.target} not mounted on ${n}`);
          if (!v.mounted.has(n) && mine.length > 0)
            out.push(`${name}: still mounted on ${n}: ${mine.join(' ')}`);
        }
        const known = [...ex.volumes.values()].flatMap((rt) => {
          const p = ex.paths(rt, n);
          return [p.target, p.staging];
        });
        for (const m of mounts) if (!known.includes(m)) out.push(`${n}: unexpected mount ${m}`);
      }
      return out;
    },
    120_000,
  );
  for (const p of problems) ex.violate('settles to what was asked', p);
}

/** Deadlines closer than this to a scrape make that interval's migration counts unreliable. */
const DEADLINE_SLACK_MS = 10_000;

/**
 * Metrics against the history, between two settle points served by the same controller
 * process (a restart resets every counter): migrations ended by result.
 */
export async function checkMetrics(
  bed: Bed,
  ex: Executor,
  prev: SettleState | undefined,
): Promise<SettleState> {
  let text: string | undefined;
  try {
    text = await bed.metrics();
  } catch (err) {
    ex.violate('metrics', `cannot scrape the controller: ${(err as Error).message}`);
  }
  const { ended, ambiguous } = ex.migrationsEndedBy(Date.now(), DEADLINE_SLACK_MS);
  const now: SettleState = {
    epoch: ex.controllerEpoch,
    ...(text === undefined ? {} : { metrics: text }),
    ended,
    ok: okCounts(ex),
    ambiguous,
  };
  if (prev?.metrics === undefined || text === undefined || prev.epoch !== now.epoch) return now;
  for (const result of ambiguous || prev.ambiguous
    ? []
    : (['success', 'failed', 'timeout'] as const)) {
    const series = `rds_csi_migration_migrations_total{result="${result}"}`;
    const got = (sample(text, series) ?? 0) - (sample(prev.metrics, series) ?? 0);
    const want = now.ended[result] - prev.ended[result];
    if (got !== want) {
      ex.violate(
        'metrics match the history',
        `${series} grew by ${got}, the history ended ${want} that way`,
      );
    }
  }
  // Every successful publish and unpublish the attacher saw is counted once (idempotent
  // repeats included), and nothing else is.
  for (const [series, rpc] of [
    ['rds_csi_attachment_attach_total{status="success"}', 'ControllerPublishVolume'],
    ['rds_csi_attachment_detach_total{status="success"}', 'ControllerUnpublishVolume'],
  ] as const) {
    const got = (sample(text, series) ?? 0) - (sample(prev.metrics, series) ?? 0);
    const want = (now.ok[rpc] ?? 0) - (prev.ok[rpc] ?? 0);
    if (got !== want) {
      ex.violate(
        'metrics match the history',
        `${series} grew by ${got}; ${want} ${rpc} calls succeeded`,
      );
    }
  }
  return now;
}

/** Events on the claims against the history: never more migration outcomes than happened. */
export function checkEvents(
  bed: Bed,
  ex: Executor,
  byVolume: Map<string, Record<MigrationResult, number>>,
): void {
  const counts = new Map<string, Record<string, number>>();
  for (const e of bed.api.list('events', 'soak')) {
    const name = (e.involvedObject as { name?: string } | undefined)?.name ?? '';
    const raw = (e as { reason?: unknown }).reason;
    const reason = typeof raw === 'string' ? raw : '';
    const c = counts.get(name) ?? {};
    c[reason] = (c[reason] ?? 0) + Number((e as { count?: unknown }).count ?? 1);
    counts.set(name, c);
  }
  for (const [vol, ended] of byVolume) {
    const c = counts.get(vol) ?? {};
    const completed = c.MigrationCompleted ?? 0;
    const failed = c.MigrationFailed ?? 0;
    if (completed > ended.success) {
      ex.violate(
        'events match the history',
        `${vol}: ${completed} MigrationCompleted events, ${ended.success} completed`,
      );
    }
    if (failed > ended.failed + ended.timeout) {
      ex.violate(
        'events match the history',
        `${vol}: ${failed} MigrationFailed events, ${ended.failed + ended.timeout} failed or timed out`,
      );
    }
  }
}

/** After the teardown nothing may be left anywhere. */
export async function checkNothingLeft(bed: Bed, ex: Executor): Promise<void> {
  const problems = await poll(
    'clean-up',
    async () => {
      const out: string[] = [];
      const inv = await bed.simInventory();
      if (inv.disks.length > 0) out.push(`rds-sim still has disks: ${inv.disks.join(', ')}`);
      if (inv.files.length > 0) out.push(`rds-sim still has files: ${inv.files.join(', ')}`);
      const subs = await bed.subsystems();
      if (subs.length > 0) out.push(`nvmet subsystems left: ${subs.join(', ')}`);
      for (const n of NODE_NAMES) {
        const c = await bed.controllers(n);
        if (c.length > 0)
          out.push(`${n}: NVMe controllers left: ${c.map((x) => x.subsysnqn).join(', ')}`);
        const m = await bed.mounts(n);
        if (m.length > 0) out.push(`${n}: mounts left: ${m.join(', ')}`);
        const p = await bed.strayProcesses(n);
        if (p.length > 0) out.push(`${n}: processes left: ${p.join(', ')}`);
      }
      return out;
    },
    90_000,
  );
  for (const p of problems) ex.violate('nothing left after clean-up', p);
}
