/**
 * The attachment rules end to end: the real client-node against the stand-in API server
 * (informers, PV lookups, events, lease) and the AttachmentManager on top, with a fake
 * clock for the rules and real time only for HTTP.
 */
import t from 'tap';
import type { PublishRequest } from '../../../src/controller/attachments-port';
import { FakeClock } from '../../fakes/kube-clock';
import { metric } from '../../unit/controller/attachments/setup';
import { node, pv, until, va } from './helpers';
import { apiServer, startController } from './runtime';

const nqn = (n: string) => `nqn.2014-08.org.nvmexpress:uuid:host-${n}`;

function publishReq(
  volumeId: string,
  nodeId: string,
  opts: { timeout?: number; pvc?: boolean } = {},
): PublishRequest {
  return {
    volumeId,
    nodeId,
    accessMode: 'MULTI_NODE_MULTI_WRITER',
    block: true,
    readonly: false,
    volume: {
      volumeId,
      nqn: `nqn.2000-02.com.mikrotik:${volumeId}`,
      sizeBytes: 1 << 30,
      migrationTimeoutSeconds: opts.timeout ?? 300,
      hostFencing: false,
      ...(opts.pvc === false ? {} : { pvc: { namespace: 'vms', name: `disk-${volumeId}` } }),
    },
    signal: new AbortController().signal,
  };
}

const sig = () => new AbortController().signal;

function seedNodes(server: Awaited<ReturnType<typeof apiServer>>) {
  for (const n of ['a', 'b', 'c']) server.put('nodes', node(n, { hostNqn: nqn(n) }));
}

t.test(
  'migration: events land on the PVC from the volume context with reason, type, message',
  async (t) => {
    const clock = new FakeClock();
    const server = await apiServer(t, clock);
    seedNodes(server);
    const { att, kube, metrics } = await startController(t, server, clock);
    await att.manager.publish(publishReq('vm-1', 'a'));
    clock.advance(2_000);
    await att.manager.publish(publishReq('vm-1', 'b'));
    await t.rejects(att.manager.publish(publishReq('vm-1', 'c')), { code: 'failed-precondition' });
    clock.advance(20_000);
    await att.manager.unpublish({ volumeId: 'vm-1', nodeId: 'a', signal: sig() });
    await kube.recorder.flush();
    const events = server
      .list('events', 'vms')
      .sort((x, y) => String(x.metadata.name).localeCompare(String(y.metadata.name)));
    const got = events.map((e) => `${String(e.type)}/${String(e.reason)}`);
    t.same(got.sort(), [
      'Normal/MigrationCompleted',
      'Normal/MigrationStarted',
      'Normal/VolumeAttached',
      'Normal/VolumeAttached',
      'Normal/VolumeDetached',
      'Warning/AttachmentConflict',
    ]);
    for (const e of events) {
      t.match(e, {
        involvedObject: { kind: 'PersistentVolumeClaim', namespace: 'vms', name: 'disk-vm-1' },
        source: { component: 'rds-csi-controller' },
      });
    }
    const msg = (reason: string) => events.find((e) => e.reason === reason)?.message;
    t.match(msg('MigrationStarted'), /from a to b started \(timeout 300s\)/);
    t.match(msg('MigrationCompleted'), /completed in 20s/);
    t.match(msg('AttachmentConflict'), /publish to node c refused: .*nodes a and b/);
    t.equal(await metric(metrics, 'events_posted_total', { reason: 'VolumeAttached' }), 2);
    t.equal(await metric(metrics, 'migration_migrations_total', { result: 'success' }), 1);
    t.equal(await metric(metrics, 'migration_duration_seconds', {}, '_sum'), 20);
    t.equal(await metric(metrics, 'attachment_conflicts_total'), 1);
    await until(() => kube.isLeader(), 'leader elected');
    t.equal(
      server.get('leases', 'rds-csi-controller', 'kube-system')?.spec &&
        (
          server.get('leases', 'rds-csi-controller', 'kube-system')?.spec as {
            holderIdentity?: string;
          }
        ).holderIdentity,
      'ctrl-0',
    );
  },
);

t.test(
  'controller restart mid-migration: rebuilt from VolumeAttachments, timeout still enforced, event via claimRef',
  async (t) => {
    const clock = new FakeClock();
    const server = await apiServer(t, clock);
    seedNodes(server);
    const t0 = clock.t - 30_000;
    server.put(
      'persistentvolumes',
      pv('pv-vm', 'vm-2', {
        block: true,
        rwx: true,
        attrs: { migrationTimeoutSeconds: '60' },
        claim: { namespace: 'vms', name: 'disk-2' },
      }),
    );
    server.put('volumeattachments', va('va-a', 'pv-vm', 'a', t0));
    server.put('volumeattachments', va('va-b', 'pv-vm', 'b', t0 + 10_000));
    const { att, kube, metrics } = await startController(t, server, clock);
    t.same(att.manager.publishedNodes('vm-2'), ['a', 'b']);
    t.equal(await metric(metrics, 'migration_active_migrations'), 1, 'gauge restored');
    t.equal(
      att.manager.nextDeadline(),
      t0 + 10_000 + 60_000,
      'window starts at the later VA, length from the PV',
    );
    await t.rejects(att.manager.publish(publishReq('vm-2', 'c', { pvc: false })), {
      code: 'failed-precondition',
    });
    clock.advance(39_999);
    await att.reconciler.trigger('probe');
    t.equal(await metric(metrics, 'migration_migrations_total', { result: 'timeout' }), 0);
    clock.advance(1);
    await until(() => att.manager.nextDeadline() === undefined, 'deadline timer fired');
    t.equal(await metric(metrics, 'migration_migrations_total', { result: 'timeout' }), 1);
    t.equal(await metric(metrics, 'migration_active_migrations'), 0);
    await kube.recorder.flush();
    const failed = server.list('events', 'vms').find((e) => e.reason === 'MigrationFailed');
    t.match(failed, {
      type: 'Warning',
      involvedObject: { name: 'disk-2', namespace: 'vms' },
      message: /timeout of 60s exceeded/,
    });
  },
);

t.test('node deletion heals once the node stays deleted for the grace', async (t) => {
  const clock = new FakeClock();
  const server = await apiServer(t, clock);
  seedNodes(server);
  server.put(
    'persistentvolumes',
    pv('pv-x', 'vol-x', { claim: { namespace: 'apps', name: 'data' } }),
  );
  server.put('volumeattachments', va('va-x', 'pv-x', 'a', clock.t - 1000));
  const { att, kube, metrics } = await startController(t, server, clock);
  t.same(att.manager.publishedNodes('vol-x'), ['a']);
  const passes = att.reconciler.passes;
  server.remove('nodes', 'a');
  await until(() => att.reconciler.passes > passes, 'the pass the delete triggered');
  t.same(
    att.manager.publishedNodes('vol-x'),
    ['a'],
    'a node deleted a moment ago keeps its attachment (kubelet may re-register it)',
  );
  const before = att.reconciler.passes;
  clock.advance(att.manager.nodeGoneGraceMs);
  await until(
    () => att.manager.publishedNodes('vol-x').length === 0,
    'attachment of the deleted node cleared',
  );
  t.ok(att.reconciler.passes - before <= 2, 'healed by the pass the grace timer triggered');
  t.equal(await metric(metrics, 'attachment_stale_cleared_total'), 1);
  await att.manager.publish({
    ...publishReq('vol-x', 'b'),
    accessMode: 'SINGLE_NODE_WRITER',
    block: false,
  });
  await kube.recorder.flush();
  const stale = server.list('events', 'apps').find((e) => e.reason === 'StaleAttachmentCleared');
  t.match(stale, {
    type: 'Warning',
    message: /node a cleared: the node no longer exists/,
    involvedObject: { name: 'data' },
  });
});

t.test(
  'watch loss recovers: relist after 410 adds attachments made meanwhile; NotReady triggers a pass',
  async (t) => {
    const clock = new FakeClock();
    const server = await apiServer(t, clock);
    seedNodes(server);
    const { att, kube } = await startController(t, server, clock);
    server.put(
      'persistentvolumes',
      pv('pv-y', 'vol-y', { claim: { namespace: 'apps', name: 'y' } }),
    );
    await until(() => server.openWatches >= 2, 'watches open');
    server.dropWatches();
    server.put('volumeattachments', va('va-y', 'pv-y', 'b', clock.t));
    server.compact();
    await until(
      () => att.manager.publishedNodes('vol-y').length === 1,
      'state rebuilt after relist',
    );
    t.same(att.manager.publishedNodes('vol-y'), ['b']);
    t.ok(kube.volumeAttachments.stats.gone >= 1, 'saw 410 Gone');
    const before = att.reconciler.passes;
    server.put('nodes', node('b', { hostNqn: nqn('b'), ready: false }));
    await until(() => att.reconciler.passes > before, 'Ready→NotReady triggered a pass');
    t.same(att.manager.publishedNodes('vol-y'), ['b'], 'a NotReady node keeps its attachment');
  },
);
