import t from 'tap';
import {
  DENY_ALL_HOST_NQN,
  transition,
  type AttachmentEvent,
  type Effect,
  type VolumeState,
} from '../../../../src/domain/attachment';
import { GRACE, NQN, T0, V, WINDOW, idle, migrating, pub, rwxBlock, single } from './fixtures';

const STATES: Record<string, VolumeState | undefined> = {
  none: undefined,
  idleRecent: idle('a', T0),
  idleOld: idle('a', T0 - 10 * GRACE),
  singleA: single('a'),
  fencedA: single('a', true),
  migAB: migrating('a', 'b'),
  failedAB: migrating('a', 'b', T0 + WINDOW + 1000),
};

const EVENTS: Record<string, AttachmentEvent> = {
  pubA: pub('a'),
  pubB: pub('b'),
  pubBrwx: pub('b', rwxBlock),
  pubBrwxMount: pub('b', { multiNode: true, block: false }),
  pubBgone: pub('b', { goneNodes: ['a'] }),
  pubBfenceNoNqn: pub('b', { fencing: true, hostNqn: undefined }),
  pubCrwx: pub('c', rwxBlock),
  unpubA: { kind: 'unpublish', volumeId: V, nodeId: 'a' },
  unpubB: { kind: 'unpublish', volumeId: V, nodeId: 'b' },
  unpubC: { kind: 'unpublish', volumeId: V, nodeId: 'c' },
  tick: { kind: 'tick', volumeId: V, graceMs: GRACE },
  goneA: { kind: 'nodeGone', volumeId: V, nodeId: 'a' },
  goneC: { kind: 'nodeGone', volumeId: V, nodeId: 'c' },
};

/** The clock for every row: 10 s after T0 (inside the grace period and the window). */
const NOW = T0 + 10_000;
/** `tick` rows use a time past the migration window too, to show enforcement. */
const LATE = T0 + 1000 + WINDOW;

/**
 * Expected result per (state, event): `ok|refused|fencing`, the nodes afterwards ('' = none,
 * '-' = no state kept), migration afterwards (none/active/failed) and the event reasons.
 */
type Row = readonly [string, string, string, string];
const E: Record<string, Record<string, Row>> = {
  none: {
    pubA: ['ok', 'a', 'none', 'VolumeAttached'],
    pubB: ['ok', 'b', 'none', 'VolumeAttached'],
    pubBrwx: ['ok', 'b', 'none', 'VolumeAttached'],
    pubBrwxMount: ['ok', 'b', 'none', 'VolumeAttached'],
    pubBgone: ['ok', 'b', 'none', 'VolumeAttached'],
    pubBfenceNoNqn: ['fencing', '-', 'none', ''],
    pubCrwx: ['ok', 'c', 'none', 'VolumeAttached'],
    unpubA: ['idem', '-', 'none', ''],
    unpubB: ['idem', '-', 'none', ''],
    unpubC: ['idem', '-', 'none', ''],
    tick: ['idem', '-', 'none', ''],
    goneA: ['idem', '-', 'none', ''],
    goneC: ['idem', '-', 'none', ''],
  },
  idleRecent: {
    pubA: ['ok', 'a', 'none', 'VolumeAttached'],
    pubB: ['ok', 'b', 'none', 'VolumeAttached'],
    pubBrwx: ['ok', 'b', 'none', 'VolumeAttached'],
    pubBrwxMount: ['ok', 'b', 'none', 'VolumeAttached'],
    pubBgone: ['ok', 'b', 'none', 'VolumeAttached'],
    pubBfenceNoNqn: ['fencing', '', 'none', ''],
    pubCrwx: ['ok', 'c', 'none', 'VolumeAttached'],
    unpubA: ['idem', '', 'none', ''],
    unpubB: ['idem', '', 'none', ''],
    unpubC: ['idem', '', 'none', ''],
    tick: ['ok', '-', 'none', ''],
    goneA: ['idem', '', 'none', ''],
    goneC: ['idem', '', 'none', ''],
  },
  idleOld: {
    pubA: ['ok', 'a', 'none', 'VolumeAttached'],
    pubB: ['ok', 'b', 'none', 'VolumeAttached'],
    pubBrwx: ['ok', 'b', 'none', 'VolumeAttached'],
    pubBrwxMount: ['ok', 'b', 'none', 'VolumeAttached'],
    pubBgone: ['ok', 'b', 'none', 'VolumeAttached'],
    pubBfenceNoNqn: ['fencing', '', 'none', ''],
    pubCrwx: ['ok', 'c', 'none', 'VolumeAttached'],
    unpubA: ['idem', '', 'none', ''],
    unpubB: ['idem', '', 'none', ''],
    unpubC: ['idem', '', 'none', ''],
    tick: ['ok', '-', 'none', ''],
    goneA: ['idem', '', 'none', ''],
    goneC: ['idem', '', 'none', ''],
  },
  singleA: {
    pubA: ['idem', 'a', 'none', ''],
    pubB: ['refused', 'a', 'none', 'AttachmentConflict'],
    pubBrwx: ['ok', 'a,b', 'active', 'MigrationStarted,VolumeAttached'],
    pubBrwxMount: ['refused', 'a', 'none', 'AttachmentConflict'],
    pubBgone: ['ok', 'b', 'none', 'StaleAttachmentCleared,VolumeAttached'],
    pubBfenceNoNqn: ['fencing', 'a', 'none', ''],
    pubCrwx: ['ok', 'a,c', 'active', 'MigrationStarted,VolumeAttached'],
    unpubA: ['ok', '', 'none', 'VolumeDetached'],
    unpubB: ['idem', 'a', 'none', ''],
    unpubC: ['idem', 'a', 'none', ''],
    tick: ['idem', 'a', 'none', ''],
    goneA: ['ok', '', 'none', 'StaleAttachmentCleared'],
    goneC: ['idem', 'a', 'none', ''],
  },
  fencedA: {
    pubA: ['idem', 'a', 'none', ''],
    pubB: ['refused', 'a', 'none', 'AttachmentConflict'],
    pubBrwx: ['ok', 'a,b', 'active', 'MigrationStarted,VolumeAttached'],
    pubBrwxMount: ['refused', 'a', 'none', 'AttachmentConflict'],
    pubBgone: ['ok', 'b', 'none', 'StaleAttachmentCleared,VolumeAttached'],
    pubBfenceNoNqn: ['fencing', 'a', 'none', ''],
    pubCrwx: ['ok', 'a,c', 'active', 'MigrationStarted,VolumeAttached'],
    unpubA: ['ok', '', 'none', 'VolumeDetached'],
    unpubB: ['idem', 'a', 'none', ''],
    unpubC: ['idem', 'a', 'none', ''],
    tick: ['idem', 'a', 'none', ''],
    goneA: ['ok', '', 'none', 'StaleAttachmentCleared'],
    goneC: ['idem', 'a', 'none', ''],
  },
  migAB: {
    pubA: ['idem', 'a,b', 'active', ''],
    pubB: ['idem', 'a,b', 'active', ''],
    pubBrwx: ['idem', 'a,b', 'active', ''],
    pubBrwxMount: ['idem', 'a,b', 'active', ''],
    pubBgone: ['idem', 'a,b', 'active', ''],
    pubBfenceNoNqn: ['idem', 'a,b', 'active', ''],
    pubCrwx: ['refused', 'a,b', 'active', 'AttachmentConflict'],
    unpubA: ['ok', 'b', 'none', 'MigrationCompleted,VolumeDetached'],
    unpubB: ['ok', 'a', 'none', 'MigrationFailed,VolumeDetached'],
    unpubC: ['idem', 'a,b', 'active', ''],
    tick: ['ok', 'a,b', 'failed', 'MigrationFailed'],
    goneA: ['ok', 'b', 'none', 'MigrationFailed,StaleAttachmentCleared'],
    goneC: ['idem', 'a,b', 'active', ''],
  },
  failedAB: {
    pubA: ['idem', 'a,b', 'failed', ''],
    pubB: ['idem', 'a,b', 'failed', ''],
    pubBrwx: ['idem', 'a,b', 'failed', ''],
    pubBrwxMount: ['idem', 'a,b', 'failed', ''],
    pubBgone: ['idem', 'a,b', 'failed', ''],
    pubBfenceNoNqn: ['idem', 'a,b', 'failed', ''],
    pubCrwx: ['refused', 'a,b', 'failed', 'AttachmentConflict'],
    unpubA: ['ok', 'b', 'none', 'VolumeDetached'],
    unpubB: ['ok', 'a', 'none', 'VolumeDetached'],
    unpubC: ['idem', 'a,b', 'failed', ''],
    tick: ['idem', 'a,b', 'failed', ''],
    goneA: ['ok', 'b', 'none', 'StaleAttachmentCleared'],
    goneC: ['idem', 'a,b', 'failed', ''],
  },
};

function summary(r: ReturnType<typeof transition>): Row {
  const o = r.outcome;
  const verdict = o.ok
    ? o.idempotent
      ? 'idem'
      : 'ok'
    : o.reason === 'conflict'
      ? 'refused'
      : 'fencing';
  const nodes = r.state === undefined ? '-' : r.state.attachments.map((a) => a.nodeId).join(',');
  const m = r.state?.migration;
  const mig = m === undefined ? 'none' : m.failedAt === undefined ? 'active' : 'failed';
  const reasons = r.effects
    .filter((e): e is Extract<Effect, { kind: 'event' }> => e.kind === 'event')
    .map((e) => e.reason)
    .join(',');
  return [verdict, nodes, mig, reasons];
}

t.test('every (state, event) pair', async (t) => {
  for (const [sName, state] of Object.entries(STATES)) {
    for (const [eName, event] of Object.entries(EVENTS)) {
      const expected = E[sName]?.[eName];
      t.ok(expected, `expectation for ${sName} × ${eName}`);
      const now = event.kind === 'tick' ? LATE : NOW;
      const r = transition(state, event, now);
      t.same(summary(r), expected, `${sName} × ${eName}`);
      const changed = r.state !== state;
      t.equal(
        r.effects.some((e) => e.kind === 'persist'),
        changed,
        `${sName} × ${eName}: persist iff changed`,
      );
    }
  }
});

const events = (r: ReturnType<typeof transition>) =>
  r.effects.filter((e): e is Extract<Effect, { kind: 'event' }> => e.kind === 'event');
const metrics = (r: ReturnType<typeof transition>) =>
  r.effects.flatMap((e) => (e.kind === 'metric' ? [e.metric] : []));

t.test('single-writer conflict names the current node and counts', async (t) => {
  const r = transition(single('a'), pub('b'), T0 + 5);
  t.match(r.outcome, { ok: false, reason: 'conflict', nodes: ['a'] });
  t.match(!r.outcome.ok && r.outcome.message, /published to node a/);
  t.same(metrics(r), [{ name: 'conflict' }, { name: 'attach', status: 'failure' }]);
  t.equal(events(r)[0]?.type, 'Warning');
  t.match(events(r)[0]?.message, /publish to node b refused/);
  t.same(r.state, single('a'), 'state unchanged');
});

t.test('grace period: a hand-off after the last unpublish is counted only inside it', async (t) => {
  const inside = transition(idle('a', T0), pub('b'), T0 + GRACE - 1);
  t.ok(metrics(inside).some((m) => m.name === 'gracePeriodUsed'));
  t.match(events(inside)[0]?.message, /hand-off from a/);
  t.equal(inside.state?.lastDetach, undefined);
  const after = transition(idle('a', T0), pub('b'), T0 + GRACE);
  t.notOk(metrics(after).some((m) => m.name === 'gracePeriodUsed'));
  const same = transition(idle('a', T0), pub('a'), T0 + 1);
  t.notOk(
    metrics(same).some((m) => m.name === 'gracePeriodUsed'),
    're-attach to the same node is no hand-off',
  );
  const detach = transition(single('a'), { kind: 'unpublish', volumeId: V, nodeId: 'a' }, T0 + 7);
  t.same(detach.state?.lastDetach, { nodeId: 'a', at: T0 + 7 }, 'DetachedAt recorded');
});

t.test('migration: start, success with duration, window from the event', async (t) => {
  const start = transition(
    single('a', true),
    pub('b', { ...rwxBlock, fencing: true, migrationTimeoutMs: 60_000 }),
    T0 + 1000,
  );
  t.same(start.state?.migration, {
    source: 'a',
    target: 'b',
    startedAt: T0 + 1000,
    timeoutMs: 60_000,
  });
  t.match(events(start)[0]?.message, /from a to b started \(timeout 60s\)/);
  t.same(
    start.effects[0],
    { kind: 'allowHosts', volumeId: V, hostNqns: [NQN('a'), NQN('b')] },
    'allow-list set before anything else',
  );
  const done = transition(
    start.state,
    { kind: 'unpublish', volumeId: V, nodeId: 'a' },
    T0 + 43_000,
  );
  t.same(metrics(done)[0], { name: 'migrationEnded', result: 'success', durationSeconds: 42 });
  t.match(events(done)[0]?.message, /completed in 42s/);
  t.same(done.effects[0], { kind: 'allowHosts', volumeId: V, hostNqns: [NQN('b')] });
  t.equal(done.state?.migration, undefined);
});

t.test('timeout is enforced by tick exactly at the deadline, once', async (t) => {
  const m = migrating('a', 'b');
  const before = transition(
    m,
    { kind: 'tick', volumeId: V, graceMs: GRACE },
    T0 + 1000 + WINDOW - 1,
  );
  t.equal(before.state, m, 'nothing before the deadline');
  const at = transition(m, { kind: 'tick', volumeId: V, graceMs: GRACE }, T0 + 1000 + WINDOW);
  t.equal(at.state?.migration?.failedAt, T0 + 1000 + WINDOW);
  t.same(metrics(at), [
    { name: 'migrationEnded', result: 'timeout' },
    { name: 'reconcile', action: 'migration_timeout' },
  ]);
  t.equal(events(at)[0]?.type, 'Warning');
  t.match(events(at)[0]?.message, /timeout of 300s exceeded/);
  t.notOk(
    at.effects.some((e) => e.kind === 'allowHosts'),
    'a running VM is never cut off',
  );
  const again = transition(
    at.state,
    { kind: 'tick', volumeId: V, graceMs: GRACE },
    T0 + 10 * WINDOW,
  );
  t.same(again.effects, [], 'failed only once');
});

t.test('fencing: allow-list is exactly the published NQNs; empty set denies all', async (t) => {
  const first = transition(undefined, pub('a', { fencing: true }), T0);
  t.same(first.effects[0], { kind: 'allowHosts', volumeId: V, hostNqns: [NQN('a')] });
  const off = transition(first.state, { kind: 'unpublish', volumeId: V, nodeId: 'a' }, T0 + 1);
  t.same(off.effects[0], { kind: 'allowHosts', volumeId: V, hostNqns: [DENY_ALL_HOST_NQN] });
  const noFence = transition(undefined, pub('a'), T0);
  t.notOk(noFence.effects.some((e) => e.kind === 'allowHosts'));
  const refused = transition(undefined, pub('a', { fencing: true, hostNqn: undefined }), T0);
  t.match(refused.outcome, { ok: false, reason: 'fencing' });
  t.same(metrics(refused), [{ name: 'attach', status: 'failure' }]);
});

t.test('VolumeAttached and VolumeDetached ask for the operation duration', async (t) => {
  const r = transition(undefined, pub('a'), T0);
  t.equal(events(r)[0]?.timed, true);
});

t.test(
  'a gone blocking node is cleared and the allow-list set once, to the final set',
  async (t) => {
    const r = transition(single('a', true), pub('b', { fencing: true, goneNodes: ['a'] }), T0 + 5);
    const allow = r.effects.filter((e) => e.kind === 'allowHosts');
    t.same(allow, [{ kind: 'allowHosts', volumeId: V, hostNqns: [NQN('b')] }]);
    t.equal(r.effects[0]?.kind, 'allowHosts');
    t.ok(metrics(r).some((m) => m.name === 'staleCleared'));
  },
);
