// One soak run: issues operations in list order, runs those that share no resource (a volume,
// a snapshot, a fault class) side by side, checks exclusivity continuously and everything
// else at settle points, then takes everything down and checks that nothing is left.
import { node } from '../integration/kube/helpers';
import type { Bed } from './bed-types';
import {
  checkEvents,
  checkExclusive,
  checkMetrics,
  checkNothingLeft,
  checkSettled,
  type SettleState,
} from './checks';
import { Executor, type Stats, type Violation } from './exec';
import { Generator, type GenOptions } from './gen';
import {
  apply,
  describe,
  emptyModel,
  invalid,
  resourcesOf,
  teardownOps,
  type MigrationResult,
  type Op,
} from './model';

const THIRD_NODE_NQN = 'nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-00000000000c';

export interface SoakOptions {
  seed: number;
  /** How long to keep issuing new operations (the teardown comes after). */
  minutes: number;
  /** Replay exactly these operations instead of generating (teardown ops included). */
  replay?: readonly Op[];
  /** Operations in flight at once (default 3). */
  parallel?: number;
  /** Operations between settle points (default 30). */
  settleEvery?: number;
  gen?: GenOptions;
  log: (line: string) => void;
}

export interface SoakResult {
  seed: number;
  /** Every operation issued, in order, teardown included: replayable with `--replay`. */
  ops: Op[];
  violations: Violation[];
  stats: Stats;
  durationMs: number;
  /** Index of the operation that ended the run with a violation, if one did. */
  failedAt?: number;
}

interface Running {
  readonly i: number;
  readonly op: Op;
  readonly resources: string[];
  done: boolean;
}

export async function runSoak(bed: Bed, opts: SoakOptions): Promise<SoakResult> {
  const started = Date.now();
  const stopIssuingAt = started + opts.minutes * 60_000;
  const parallel = opts.parallel ?? 3;
  const settleEvery = opts.settleEvery ?? 30;
  const ex = new Executor(bed, opts.seed, opts.log);
  const model = emptyModel();
  const gen = opts.replay === undefined ? new Generator(opts.seed, opts.gen) : undefined;
  const replay = opts.replay === undefined ? undefined : [...opts.replay];
  const issued: Op[] = [];
  const endedByVolume = new Map<string, Record<MigrationResult, number>>();
  let failedAt: number | undefined;

  const nextOp = (): Op | undefined => {
    if (replay !== undefined) {
      for (;;) {
        const op = replay.shift();
        if (op === undefined) return undefined;
        if (invalid(model, op) === undefined) return op;
        opts.log(`replay: skipping ${describe(op)} (${invalid(model, op) ?? ''})`);
      }
    }
    return gen?.next();
  };

  /** Applies at issue time: the model is what the cluster has asked for so far. */
  const issue = (op: Op): number => {
    const effect = apply(model, op);
    if (effect.migrationEnded !== undefined && op.k !== 'fault' && 'vol' in op) {
      const per = endedByVolume.get(op.vol) ?? { success: 0, failed: 0, timeout: 0 };
      per[effect.migrationEnded]++;
      endedByVolume.set(op.vol, per);
    }
    issued.push(op);
    return issued.length - 1;
  };

  // ---- the scheduler ----
  const pending: Running[] = [];
  const inflight = new Set<Promise<void>>();
  let sinceSettle = 0;

  const runOne = (r: Running): void => {
    const p = ex
      .run(r.i, r.op)
      .catch((err: unknown) => {
        if (ex.violations.length === 0)
          ex.violate('operations complete', `${describe(r.op)}: ${(err as Error).message}`, r.i);
      })
      .finally(() => {
        r.done = true;
        inflight.delete(p);
        sinceSettle++;
      });
    inflight.add(p);
  };

  /** Starts every pending op whose resources no earlier unfinished op holds. */
  const pump = (): void => {
    for (let k = 0; k < pending.length && inflight.size < parallel; k++) {
      const r = pending[k] as Running;
      if (r.done || (r as { started?: boolean }).started) continue;
      const earlier = pending.slice(0, k).filter((e) => !e.done);
      if (earlier.some((e) => e.resources.some((x) => r.resources.includes(x)))) continue;
      (r as { started?: boolean }).started = true;
      runOne(r);
    }
    while (pending.length > 0 && (pending[0] as Running).done) pending.shift();
  };

  const drain = async (): Promise<void> => {
    for (;;) {
      pump();
      if (inflight.size === 0 && pending.every((r) => r.done)) break;
      await Promise.race(inflight);
    }
    pending.length = 0;
  };

  // ---- continuous exclusivity check ----
  let checking = false;
  const ticker = setInterval(() => {
    if (checking) return;
    checking = true;
    checkExclusive(bed, ex)
      .catch((err: unknown) =>
        opts.log(`exclusivity check failed to read: ${(err as Error).message}`),
      )
      .finally(() => {
        checking = false;
      });
  }, 10_000);

  let settle: SettleState | undefined;
  const settlePoint = async (why: string): Promise<void> => {
    await drain();
    opts.log(`settle point (${why}) after ${issued.length} operations`);
    await checkSettled(bed, ex, model);
    settle = await checkMetrics(bed, ex, settle);
    sinceSettle = 0;
  };

  // A third node, known to Kubernetes, that no volume may be published to during a migration.
  bed.api.put('nodes', node('c', { hostNqn: THIRD_NODE_NQN }));
  try {
    settle = await checkMetrics(bed, ex, undefined);
    const lookahead = parallel * 3;
    for (;;) {
      if (ex.violations.length > 0) break;
      if (replay === undefined && Date.now() >= stopIssuingAt) break;
      if (sinceSettle >= settleEvery) await settlePoint('periodic');
      while (pending.filter((r) => !r.done).length < lookahead) {
        const op = nextOp();
        if (op === undefined) break;
        const i = issue(op);
        pending.push({ i, op, resources: resourcesOf(op), done: false });
      }
      pump();
      if (inflight.size === 0) {
        if (pending.every((r) => r.done)) break; // replay exhausted
        continue;
      }
      await Promise.race(inflight);
    }
    if (ex.violations.length > 0) {
      failedAt = ex.violations[0]?.op;
      ex.abort();
      await drain();
    } else {
      await drain();
      if (replay === undefined) {
        await settlePoint('before the teardown');
        for (const op of teardownOps(model)) {
          const i = issue(op);
          pending.push({ i, op, resources: resourcesOf(op), done: false });
        }
      }
      await drain();
      if (ex.violations.length === 0) {
        await checkSettled(bed, ex, model);
        settle = await checkMetrics(bed, ex, settle);
        checkEvents(bed, ex, endedByVolume);
        await checkNothingLeft(bed, ex);
      }
    }
  } finally {
    clearInterval(ticker);
  }
  return {
    seed: opts.seed,
    ops: issued,
    violations: ex.violations,
    stats: ex.stats,
    durationMs: Date.now() - started,
    ...(failedAt === undefined ? {} : { failedAt }),
  };
}
