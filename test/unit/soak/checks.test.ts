import t from 'tap';
import { DENY_ALL_HOST_NQN } from '../../../src/domain/attachment';
import type { Bed, NodeName, NvmeControllerView } from '../../../test/soak/bed-types';
import { checkExclusive, checkMetrics } from '../../../test/soak/checks';
import { Executor } from '../../../test/soak/exec';

const NQN = (v: string) => `nqn.2000-02.com.mikrotik:pvc-${v}`;
const HOST = (n: string) => `nqn.2014-08.org.nvmexpress:uuid:host-${n}`;

/** A bed whose kernels, allow-lists and metrics are what the test says. */
function fakeBed(state: {
  controllers: Record<NodeName, NvmeControllerView[]>;
  allow: Record<string, string[] | 'any'>;
  metrics?: string;
}): Bed {
  return {
    controllers: (n: NodeName) => Promise.resolve(state.controllers[n]),
    allowList: (nqn: string) => Promise.resolve(state.allow[nqn]),
    hostNqn: HOST,
    metrics: () => Promise.resolve(state.metrics ?? ''),
  } as unknown as Bed;
}

function executorWith(bed: Bed, volumes: Record<string, { rwx: boolean; fenced: boolean }>) {
  const ex = new Executor(bed, 1, () => undefined);
  for (const [name, v] of Object.entries(volumes)) {
    ex.volumes.set(name, {
      pvName: `pv-${name}`,
      volumeId: `pvc-${name}`,
      ctx: { nqn: NQN(name) },
      capability: {},
      block: true,
      rwx: v.rwx,
      fenced: v.fenced,
      mib: 64,
      migrationMs: 30_000,
      data: new Map(),
      publishContext: new Map(),
      podUid: new Map(),
    });
  }
  return ex;
}

const live = (name: string, v: string): NvmeControllerView => ({
  name,
  subsysnqn: NQN(v),
  state: 'live',
});

t.test('exclusivity: from the kernels and the allow-lists, by the volume facts', async (t) => {
  const bed = fakeBed({
    controllers: {
      a: [live('nvme0', 'rwo'), live('nvme1', 'rwx')],
      b: [live('nvme0', 'rwo'), live('nvme1', 'rwx')],
    },
    allow: { [NQN('rwo')]: [HOST('a')], [NQN('rwx')]: [HOST('a'), HOST('b')] },
  });
  const ex = executorWith(bed, {
    rwo: { rwx: false, fenced: true },
    rwx: { rwx: true, fenced: true },
  });
  await checkExclusive(bed, ex);
  t.same(
    ex.violations.map((v) => `${v.invariant}: ${v.detail}`),
    ['single-node volumes on one node: rwo is connected on a and b'],
    'the single-node volume on two kernels is caught; the migrating one is not',
  );

  const wide = fakeBed({
    controllers: { a: [], b: [{ ...live('nvme3', 'rwx'), state: 'deleting' }] },
    allow: {
      [NQN('rwx')]: [HOST('a'), HOST('b'), HOST('c')],
      [NQN('open')]: 'any',
      [NQN('closed')]: [DENY_ALL_HOST_NQN],
    },
  });
  const ex2 = executorWith(wide, {
    rwx: { rwx: true, fenced: true },
    open: { rwx: false, fenced: true },
    closed: { rwx: false, fenced: true },
  });
  await checkExclusive(wide, ex2);
  t.same(
    ex2.violations.map((v) => v.invariant).sort(),
    ['fenced volumes stay fenced', 'multi-node volumes on at most two nodes'],
    'a third host and an open target are caught; the deny-all placeholder is no host',
  );
});

t.test('metrics: counters grow exactly as the history says, within one process', async (t) => {
  const text = (success: number, attach: number) =>
    [
      `rds_csi_migration_migrations_total{result="success"} ${success}`,
      'rds_csi_migration_migrations_total{result="failed"} 0',
      'rds_csi_migration_migrations_total{result="timeout"} 0',
      `rds_csi_attachment_attach_total{status="success"} ${attach}`,
      'rds_csi_attachment_detach_total{status="success"} 0',
    ].join('\n');
  const state = { controllers: { a: [], b: [] }, allow: {}, metrics: text(0, 0) };
  const bed = fakeBed(state);
  const ex = executorWith(bed, {});
  const first = await checkMetrics(bed, ex, undefined);
  ex.migrationEnds.push({ vol: 'x', result: 'success', at: Date.now() - 60_000 });
  ex.rpcs.push({ rpc: 'ControllerPublishVolume', code: 'OK', ms: 1 });
  ex.rpcs.push({ rpc: 'ControllerPublishVolume', code: 'FAILED_PRECONDITION', ms: 1 });
  state.metrics = text(1, 1);
  const second = await checkMetrics(bed, ex, first);
  t.same(ex.violations, [], 'one migration and one successful publish, both counted');
  state.metrics = text(3, 1);
  await checkMetrics(bed, ex, second);
  t.match(ex.violations[0]?.detail, /result="success"\} grew by 2, the history ended 0/);
  ex.violations.length = 0;
  ex.controllerEpoch++;
  state.metrics = text(0, 0);
  await checkMetrics(bed, ex, second);
  t.same(ex.violations, [], 'a restarted controller starts its counters over: not compared');
});

t.test('migration ends are timed: an elapsed window is a time-out at its deadline', async (t) => {
  const bed = fakeBed({ controllers: { a: [], b: [] }, allow: {} });
  const ex = executorWith(bed, { vm: { rwx: true, fenced: true } });
  const vm = ex.volumes.get('vm')!;
  const now = Date.now();
  vm.migration = { source: 'a', target: 'b', startedAt: now - 45_000 };
  t.same(
    ex.migrationsEndedBy(now, 10_000),
    {
      ended: { success: 0, failed: 0, timeout: 1 },
      ambiguous: false,
    },
    'still published to both, but the 30 s window elapsed 15 s ago',
  );
  vm.migration = { source: 'a', target: 'b', startedAt: now - 25_000 };
  t.same(
    ex.migrationsEndedBy(now, 10_000),
    {
      ended: { success: 0, failed: 0, timeout: 0 },
      ambiguous: true,
    },
    'a deadline 5 s away: too close to tell which side a scrape falls on',
  );
  delete vm.migration;
  ex.migrationEnds.push({ vol: 'vm', result: 'failed', at: now - 20_000 });
  t.same(ex.migrationsEndedBy(now, 10_000).ended, { success: 0, failed: 1, timeout: 0 });
});
