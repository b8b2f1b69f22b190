/**
 * Invariants over random event sequences (seeded, so a failure replays): never more than
 * two nodes; two only for a multi-node block volume and only during a migration; every
 * migration ends by its window at the latest once ticks keep coming; the allow-list of a
 * fenced volume always equals the published nodes.
 */
import t from 'tap';
import {
  DENY_ALL_HOST_NQN,
  transition,
  type AttachmentEvent,
  type VolumeState,
} from '../../../../src/domain/attachment';
import { GRACE, NQN, T0, V, pub } from './fixtures';

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const NODES = ['a', 'b', 'c', 'd'];

function randomEvent(
  r: () => number,
  multiNode: boolean,
  block: boolean,
  fencing: boolean,
): AttachmentEvent {
  const node = NODES[Math.floor(r() * NODES.length)] ?? 'a';
  const k = r();
  if (k < 0.45) {
    return pub(node, {
      multiNode,
      block,
      fencing,
      migrationTimeoutMs: (30 + Math.floor(r() * 100)) * 1000,
      goneNodes: r() < 0.1 ? [NODES[Math.floor(r() * NODES.length)] ?? 'a'] : [],
    });
  }
  if (k < 0.75) return { kind: 'unpublish', volumeId: V, nodeId: node };
  if (k < 0.95) return { kind: 'tick', volumeId: V, graceMs: GRACE };
  return { kind: 'nodeGone', volumeId: V, nodeId: node };
}

t.test('invariants hold on random sequences', async (t) => {
  const SEEDS = 300;
  const STEPS = 200;
  let migrations = 0;
  let timeouts = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = prng(seed);
    const multiNode = r() < 0.6;
    const block = r() < 0.6;
    const fencing = r() < 0.5;
    let state: VolumeState | undefined;
    let now = T0;
    let allowList: readonly string[] | undefined;
    for (let i = 0; i < STEPS; i++) {
      now += Math.floor(r() * 40_000);
      const ev = randomEvent(r, multiNode, block, fencing);
      const before = state?.migration;
      const res = transition(state, ev, now);
      state = res.state;
      for (const e of res.effects) if (e.kind === 'allowHosts') allowList = e.hostNqns;
      if (state?.migration !== undefined && before === undefined) migrations++;
      if (
        res.effects.some(
          (e) =>
            e.kind === 'metric' &&
            e.metric.name === 'migrationEnded' &&
            e.metric.result === 'timeout',
        )
      )
        timeouts++;

      const n = state?.attachments.length ?? 0;
      const where = `seed ${seed} step ${i} (${ev.kind})`;
      if (n > 2) t.fail(`more than two nodes at ${where}`);
      if (n === 2 && !(multiNode && block)) t.fail(`two nodes without RWX block at ${where}`);
      if (n === 2 && state?.migration === undefined)
        t.fail(`two nodes without a migration at ${where}`);
      if (n < 2 && state?.migration !== undefined)
        t.fail(`migration without two nodes at ${where}`);
      const m = state?.migration;
      if (
        m !== undefined &&
        m.failedAt === undefined &&
        ev.kind === 'tick' &&
        now >= m.startedAt + m.timeoutMs
      ) {
        t.fail(`migration past its window survived a tick at ${where}`);
      }
      if (fencing && state !== undefined && allowList !== undefined) {
        const want =
          state.attachments.length === 0
            ? [DENY_ALL_HOST_NQN]
            : state.attachments.map((a) => NQN(a.nodeId)).sort();
        if (JSON.stringify(want) !== JSON.stringify(allowList))
          t.fail(`allow-list drift at ${where}`);
      }
      if (!res.outcome.ok && res.outcome.reason === 'conflict' && res.outcome.nodes.length === 0) {
        t.fail(`conflict with no blocking node at ${where}`);
      }
    }
    // A migration always ends: one tick past any window fails whatever is still open.
    const final = transition(state, { kind: 'tick', volumeId: V, graceMs: GRACE }, now + 3_600_001);
    const fm = final.state?.migration;
    if (fm !== undefined && fm.failedAt === undefined)
      t.fail(`seed ${seed}: migration never ended`);
  }
  t.ok(migrations > 50, `sequences exercised migrations (${migrations})`);
  t.ok(timeouts > 5, `sequences exercised timeouts (${timeouts})`);
});
