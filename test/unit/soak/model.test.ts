import t from 'tap';
import { Generator } from '../../../test/soak/gen';
import {
  apply,
  emptyModel,
  GRACE_MS,
  invalid,
  normalize,
  resourcesOf,
  SHORT_MIGRATION_S,
  teardownOps,
  type Op,
} from '../../../test/soak/model';
import { Rng } from '../../../test/soak/rng';
import { closed, ddmin, focus } from '../../../test/soak/shrink';
import { figure, parseArgs } from '../../../test/soak/run';

t.test('the random source is a function of its seed', async (t) => {
  const seq = (seed: number) => {
    const r = new Rng(seed);
    return Array.from({ length: 8 }, () => r.u32());
  };
  t.same(seq(42), seq(42), 'same seed, same numbers');
  t.not(JSON.stringify(seq(42)), JSON.stringify(seq(43)), 'another seed, other numbers');
  const r = new Rng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const v = r.int(3, 7);
    if (!(v >= 3 && v <= 7 && Number.isInteger(v))) t.fail(`int out of range: ${v}`);
    seen.add(v);
  }
  t.same([...seen].sort(), [3, 4, 5, 6, 7], 'every value of the range comes up');
  for (let i = 0; i < 500; i++) {
    if (r.weighted({ never: 0, always: 1 }) !== 'always') t.fail('a zero weight was picked');
  }
  t.throws(() => r.pick([]), /empty/);
});

const create = (vol: string, extra: Partial<Extract<Op, { k: 'create' }>> = {}): Op => ({
  k: 'create',
  vol,
  mode: 'block',
  rwx: false,
  fenced: true,
  mib: 64,
  ...extra,
});

t.test('the model allows only what a cluster could ask', async (t) => {
  const m = emptyModel();
  apply(m, create('v1'));
  apply(m, create('v2', { rwx: true, migrationS: SHORT_MIGRATION_S }));
  apply(m, create('v3', { mode: 'fs', fs: 'ext4' }));
  apply(m, { k: 'attach', vol: 'v1', node: 'a' });
  t.match(
    invalid(m, { k: 'attach', vol: 'v1', node: 'b' }) ?? '',
    /single-node/,
    'RWO stays on one node',
  );
  t.equal(
    invalid(m, { k: 'conflict', vol: 'v1', node: 'b' }),
    undefined,
    'a second node to refuse',
  );
  t.match(invalid(m, { k: 'conflict', vol: 'v1', node: 'c' }) ?? '', /not a second node/);
  t.match(invalid(m, { k: 'write', vol: 'v1', node: 'a', slot: 0 }) ?? '', /not mounted/);
  apply(m, { k: 'mount', vol: 'v1', node: 'a' });
  t.match(invalid(m, { k: 'detach', vol: 'v1', node: 'a' }) ?? '', /still mounted/);
  t.match(invalid(m, { k: 'delete', vol: 'v1' }) ?? '', /attached/);
  t.match(invalid(m, { k: 'write', vol: 'v1', node: 'a', slot: 64 }) ?? '', /beyond the end/);
  t.equal(invalid(m, { k: 'write', vol: 'v1', node: 'a', slot: 63 }), undefined);

  // A live migration of the RWX block volume: a → b, then it times out.
  apply(m, { k: 'attach', vol: 'v2', node: 'a' });
  apply(m, { k: 'mount', vol: 'v2', node: 'a' });
  t.same(apply(m, { k: 'attach', vol: 'v2', node: 'b' }), { migrationStarted: true });
  t.equal(invalid(m, { k: 'conflict', vol: 'v2', node: 'c' }), undefined, 'a third node to refuse');
  t.match(invalid(m, { k: 'conflict', vol: 'v2', node: 'a' }) ?? '', /attached there/);
  apply(m, { k: 'mount', vol: 'v2', node: 'b' });
  t.match(invalid(m, { k: 'write', vol: 'v2', node: 'b', slot: 1 }) ?? '', /not the writer/);
  t.equal(
    invalid(m, { k: 'write', vol: 'v2', node: 'a', slot: 1 }),
    undefined,
    'the source writes',
  );
  apply(m, { k: 'unmount', vol: 'v2', node: 'b' });
  t.match(invalid(m, { k: 'expand', vol: 'v2', mib: 128 }) ?? '', /migration/);
  t.same(apply(m, { k: 'wait', vol: 'v2', ms: 1000 }), {}, 'a short wait does not time it out');
  t.same(apply(m, { k: 'wait', vol: 'v2', ms: SHORT_MIGRATION_S * 1000 }), {
    migrationEnded: 'timeout',
  });
  t.same(apply(m, { k: 'detach', vol: 'v2', node: 'b' }), {}, 'a timed-out migration ends once');
  apply(m, { k: 'attach', vol: 'v2', node: 'b' });
  t.same(
    apply(m, { k: 'detach', vol: 'v2', node: 'b' }),
    { migrationEnded: 'failed' },
    'target left: aborted',
  );
  apply(m, { k: 'attach', vol: 'v2', node: 'b' });
  apply(m, { k: 'unmount', vol: 'v2', node: 'a' });
  t.same(
    apply(m, { k: 'detach', vol: 'v2', node: 'a' }),
    { migrationEnded: 'success' },
    'source left: done',
  );

  t.match(invalid(m, { k: 'attach', vol: 'v3', node: 'a' }) ?? 'ok', 'ok');
  apply(m, { k: 'attach', vol: 'v3', node: 'a' });
  t.match(
    invalid(m, { k: 'attach', vol: 'v3', node: 'b' }) ?? '',
    /single-node/,
    'fs volumes never go multi-node',
  );
  t.match(invalid(m, create('v4', { from: { vol: 'v3' } })) ?? '', /another kind/);
  t.match(
    invalid(m, create('v4', { mode: 'fs', fs: 'ext4', mib: 32, from: { vol: 'v3' } })) ?? '',
    /smaller/,
  );
  t.throws(() => apply(m, { k: 'mount', vol: 'nope', node: 'a' }), /invalid operation/);

  const down = teardownOps(m);
  for (const op of down) apply(m, op);
  t.equal(m.volumes.size, 0, 'the teardown deletes every volume');
  t.equal(m.snapshots.size, 0);
});

t.test('generated histories are valid, deterministic and tell every story', async (t) => {
  const kinds = new Set<string>();
  const faults = new Set<string>();
  const results = new Set<string>();
  let graceWaits = 0;
  let clones = 0;
  let restores = 0;
  for (let seed = 1; seed <= 25; seed++) {
    const g = new Generator(seed);
    const ops: Op[] = [];
    for (let i = 0; i < 400; i++) ops.push(g.next()); // next() throws on an invalid op
    const again = new Generator(seed);
    const replay = Array.from({ length: 400 }, () => again.next());
    if (JSON.stringify(replay) !== JSON.stringify(ops)) t.fail(`seed ${seed} is not deterministic`);
    t.same(normalize(ops), ops, `seed ${seed}: normalize keeps a valid history whole`);
    const m = emptyModel();
    for (const op of ops) {
      kinds.add(op.k);
      if (op.k === 'fault') faults.add(op.fault.kind);
      if (op.k === 'wait' && op.ms > GRACE_MS && op.ms < 30_000) graceWaits++;
      if (op.k === 'create' && op.from !== undefined) {
        if ('vol' in op.from) clones++;
        else restores++;
      }
      const e = apply(m, op);
      if (e.migrationEnded !== undefined) results.add(e.migrationEnded);
    }
    g.teardown();
    t.equal(g.model.volumes.size, 0, `seed ${seed}: teardown leaves no volume`);
  }
  t.same([...kinds].sort(), [
    'attach',
    'conflict',
    'create',
    'delete',
    'delete-snapshot',
    'detach',
    'expand',
    'fault',
    'mount',
    'snapshot',
    'unmount',
    'verify',
    'wait',
    'write',
  ]);
  t.equal(faults.size, 11, `every fault kind comes up: ${[...faults].join(', ')}`);
  t.same([...results].sort(), ['failed', 'success', 'timeout'], 'migrations end every way');
  t.ok(graceWaits > 0, 'moves outside the grace period');
  t.ok(clones > 0 && restores > 0, `clones ${clones}, restores ${restores}`);

  const quiet = new Generator(3, { faultWeight: 0 });
  for (let i = 0; i < 300; i++)
    if (quiet.next().k === 'fault') t.fail('a fault with faultWeight 0');
  const noKill = new Generator(3, { withoutFaults: ['controller-kill'] });
  for (let i = 0; i < 600; i++) {
    const op = noKill.next();
    if (op.k === 'fault' && op.fault.kind === 'controller-kill') t.fail('an excluded fault');
  }
});

t.test('operations that share a volume, snapshot or fault class never overlap', async (t) => {
  t.same(resourcesOf(create('v2', { from: { vol: 'v1' } })), ['vol:v2', 'vol:v1']);
  t.same(resourcesOf(create('v2', { from: { snap: 's1' } })), ['vol:v2', 'snap:s1']);
  t.same(resourcesOf({ k: 'fault', fault: { kind: 'sim-hang', times: 1 }, ms: 1 }), ['fault:sim']);
  t.same(resourcesOf({ k: 'fault', fault: { kind: 'node-kill', node: 'b' }, ms: 1 }), [
    'fault:node-b',
  ]);
});

t.test('shrinking keeps the failing volume and finds a minimal history', async (t) => {
  const ops: Op[] = [
    create('v1'),
    create('v2'),
    { k: 'fault', fault: { kind: 'api-down' }, ms: 1000 },
    { k: 'attach', vol: 'v2', node: 'b' },
    { k: 'attach', vol: 'v1', node: 'a' },
    { k: 'mount', vol: 'v1', node: 'a' },
    { k: 'snapshot', snap: 's1', vol: 'v1' },
    create('v3', { from: { snap: 's1' } }),
    { k: 'write', vol: 'v1', node: 'a', slot: 2 },
    { k: 'attach', vol: 'v3', node: 'b' },
    { k: 'mount', vol: 'v3', node: 'b' },
    { k: 'verify', vol: 'v3', node: 'b' },
  ];
  const focused = focus(ops, ops.length - 1);
  t.notOk(
    focused.some((op) => 'vol' in op && op.vol === 'v2'),
    'the unrelated volume is gone',
  );
  t.ok(
    focused.some((op) => op.k === 'snapshot'),
    'the restore source stays',
  );
  t.ok(
    focused.some((op) => op.k === 'fault'),
    'faults before the failure stay',
  );
  const m = emptyModel();
  for (const op of focused) apply(m, op);
  t.equal(m.volumes.size, 0, 'the focused history ends torn down');

  // Fails whenever v1 is written: the minimal history is create, attach, mount, write.
  let replays = 0;
  const fails = async (c: Op[]) => {
    replays++;
    return c.some((op) => op.k === 'write' && op.vol === 'v1');
  };
  const minimal = await ddmin(closed(ops), fails, 60_000);
  const body = minimal.filter((op) => !['unmount', 'detach', 'delete'].includes(op.k));
  t.same(
    body.map((op) => op.k),
    ['create', 'attach', 'mount', 'write'],
    'one-minimal: each remaining operation is needed',
  );
  t.ok(await fails(minimal), 'the minimal history still fails');
  t.ok(replays > 1);
  t.same(await ddmin(closed(ops), fails, 0), closed(ops), 'no budget, no shrinking');
});

t.test('the command line and the figure', async (t) => {
  t.same(parseArgs(['--seed', '7', '--minutes=30', '--shrink', '--parallel', '2']), {
    seed: 7,
    minutes: 30,
    shrink: true,
    shrinkMinutes: 30,
    parallel: 2,
    faults: true,
  });
  t.throws(() => parseArgs(['--seed', 'x']), /needs a number/);
  t.throws(() => parseArgs(['--bogus']), /unknown argument/);
  t.throws(() => parseArgs(['--seed']), /needs a value/);
  const lines = figure({
    seed: 7,
    ops: [],
    violations: [],
    durationMs: 90_000,
    stats: {
      ops: 10,
      rpcs: 30,
      faults: 2,
      faultsByKind: { 'api-down': 1, 'sim-hang': 1 },
      writes: 4,
      verifiedMiB: 12,
      retries: 3,
      codes: {},
      migrations: { success: 1, failed: 0, timeout: 1 },
    },
  });
  t.match(
    lines.join('\n'),
    /operations executed {2}10[\s\S]*api-down 1, sim-hang 1[\s\S]*violations 0/,
  );
});
