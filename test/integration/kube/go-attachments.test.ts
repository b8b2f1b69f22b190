/**
 * Taking over the Go driver's attachments: state rebuilt from the VolumeAttachments of its
 * attacher (rds.csi.srvlab.io), keyed by the PV's volume handle (v0.1.0 handles differ from
 * PV names), its stale PV annotations ignored, a migration in flight keeping its window.
 */
import t from 'tap';
import { FakeClock } from '../../fakes/kube-clock';
import { FakeExports } from '../../fakes/kube-exports';
import { goPv, goVa, GO_DRIVER } from '../../fixtures/go-driver/kube';
import { goV010Handle } from '../../fixtures/go-driver/state';
import { metric } from '../../unit/controller/attachments/setup';
import { node, pv, until, va } from './helpers';
import { apiServer, startController } from './runtime';

const sig = () => new AbortController().signal;

t.test('Go attachments are rebuilt by volume handle; legacy annotations are ignored', async (t) => {
  const clock = new FakeClock();
  const server = await apiServer(t, clock);
  for (const n of ['a', 'b', 'c']) server.put('nodes', node(n));
  const v010pv = 'pvc-0a0a0a0a-1111-4222-8333-444444444444';
  const v010 = goV010Handle(v010pv);
  server.put('persistentvolumes', goPv(v010pv, v010, { version: 'v0.1.0', annotatedNode: 'c' }));
  server.put('volumeattachments', goVa('csi-1', v010pv, 'a', clock.t - 60_000));
  const stale = 'pvc-22222222-3333-4444-8555-666666666666';
  server.put('persistentvolumes', goPv(stale, stale, { version: 'v0.2.0', annotatedNode: 'b' }));
  // Another driver's objects in the same cluster are not ours.
  server.put('persistentvolumes', pv('pv-other', 'vol-other'));
  server.put('volumeattachments', va('va-other', 'pv-other', 'b', clock.t - 1000));

  const { att } = await startController(
    t,
    server,
    clock,
    { exports: new FakeExports() },
    'ctrl-0',
    GO_DRIVER,
  );
  t.same(att.manager.publishedNodes(v010), ['a'], 'keyed by the handle, not the PV name');
  t.same(att.manager.publishedNodes(v010pv), []);
  t.same(att.manager.publishedNodes(stale), [], 'attached-node annotation is not state');
  t.same(att.manager.publishedNodes('vol-other'), []);
  await t.rejects(
    att.manager.publish({
      volumeId: v010,
      nodeId: 'b',
      accessMode: 'SINGLE_NODE_WRITER',
      block: false,
      readonly: false,
      volume: {
        volumeId: v010,
        nqn: `nqn.2000-02.com.mikrotik:${v010}`,
        sizeBytes: 1 << 30,
        migrationTimeoutSeconds: 300,
        hostFencing: false,
      },
      signal: sig(),
    }),
    { code: 'failed-precondition' },
    'single writer still enforced after the switch',
  );
});

t.test('a Go migration in flight at the switch keeps its window and times out', async (t) => {
  const clock = new FakeClock();
  const server = await apiServer(t, clock);
  for (const n of ['a', 'b']) server.put('nodes', node(n));
  const vm = 'pvc-33333333-4444-4555-8666-777777777777';
  server.put(
    'persistentvolumes',
    goPv(vm, vm, { version: 'v0.5.0+', block: true, rwx: true, migrationTimeoutSeconds: '60' }),
  );
  const t0 = clock.t - 30_000;
  server.put('volumeattachments', goVa('csi-a', vm, 'a', t0));
  server.put('volumeattachments', goVa('csi-b', vm, 'b', t0 + 10_000));
  const { att, metrics } = await startController(
    t,
    server,
    clock,
    { exports: new FakeExports() },
    'ctrl-0',
    GO_DRIVER,
  );
  t.same(att.manager.publishedNodes(vm), ['a', 'b']);
  t.equal(att.manager.nextDeadline(), t0 + 10_000 + 60_000, 'the Go volume_context timeout');
  clock.advance(40_000);
  await att.reconciler.trigger('probe');
  await until(() => att.manager.nextDeadline() === undefined, 'deadline timer fired');
  t.equal(await metric(metrics, 'migration_migrations_total', { result: 'timeout' }), 1);
});
