import t from 'tap';
import { DENY_ALL_HOST_NQN } from '../../../../src/domain/attachment';
import { UnavailableError } from '../../../../src/domain/errors';
import { metric, nqn, req, setup, unreq } from './setup';

t.test(
  'single-writer: conflict is FAILED_PRECONDITION naming the node, counted, evented',
  async (t) => {
    const { service, metrics, events, exports } = setup();
    exports.addDisk('v1');
    t.same(await service.publish(req('v1', 'a')), { readonly: 'false' });
    t.same(
      await service.publish(req('v1', 'a')),
      { readonly: 'false' },
      'idempotent, same context',
    );
    const err = await service.publish(req('v1', 'b')).catch((e: unknown) => e);
    t.match(err, { code: 'failed-precondition', message: /published to node a/ });
    t.same(service.publishedNodes('v1'), ['a']);
    t.equal(await metric(metrics, 'attachment_conflicts_total'), 1);
    t.equal(await metric(metrics, 'attachment_attach_total', { status: 'success' }), 2);
    t.equal(await metric(metrics, 'attachment_attach_total', { status: 'failure' }), 1);
    t.same(
      events.map((e) => `${e.type}/${e.reason}`),
      ['Normal/VolumeAttached', 'Warning/AttachmentConflict'],
    );
    t.match(events[0]?.message, /volume published to node a in \d+ms/);
    const changed = await service
      .publish(req('v1', 'a', { readonly: true }))
      .catch((e: unknown) => e);
    t.match(changed, { code: 'already-exists' });
  },
);

t.test('grace period is counted; a deleted blocking node does not block', async (t) => {
  const { service, metrics, clock, nodes, events } = setup({ graceMs: 30_000 });
  await service.publish(req('v1', 'a'));
  await service.unpublish(unreq('v1', 'a'));
  clock.advance(10_000);
  await service.publish(req('v1', 'b'));
  t.equal(await metric(metrics, 'attachment_grace_period_used_total'), 1);
  nodes.map.delete('b');
  const early = await service.publish(req('v1', 'c')).catch((e: unknown) => e);
  t.match(
    early,
    { code: 'failed-precondition' },
    'a node deleted a moment ago still holds the volume (kubelet may re-register it)',
  );
  t.same(service.publishedNodes('v1'), ['b']);
  t.equal(service.nextGoneDeadline(), clock.now() + service.nodeGoneGraceMs);
  clock.advance(service.nodeGoneGraceMs);
  await service.publish(req('v1', 'c'));
  t.same(service.publishedNodes('v1'), ['c']);
  t.equal(service.nextGoneDeadline(), undefined, 'the cleared node is forgotten');
  t.equal(await metric(metrics, 'attachment_stale_cleared_total'), 1);
  t.ok(events.some((e) => e.reason === 'StaleAttachmentCleared' && /node b/.test(e.message)));
  const unknown = await service.publish(req('v2', 'b')).catch((e: unknown) => e);
  t.match(unknown, { code: 'not-found' }, 'a node missing from a synced cache is NOT_FOUND');
});

t.test(
  'migration: start, third node refused, success on source unpublish with duration',
  async (t) => {
    const { service, metrics, clock, events } = setup();
    await service.publish(req('vm', 'a', { rwx: true }));
    clock.advance(1000);
    await service.publish(req('vm', 'b', { rwx: true }));
    t.equal(await metric(metrics, 'migration_active_migrations'), 1);
    t.match(await service.publish(req('vm', 'c', { rwx: true })).catch((e: unknown) => e), {
      code: 'failed-precondition',
      message: /nodes a and b/,
    });
    clock.advance(45_000);
    await service.unpublish(unreq('vm', 'a'));
    t.same(service.publishedNodes('vm'), ['b']);
    t.equal(await metric(metrics, 'migration_active_migrations'), 0);
    t.equal(await metric(metrics, 'migration_migrations_total', { result: 'success' }), 1);
    t.equal(await metric(metrics, 'migration_duration_seconds', {}, '_sum'), 45);
    t.equal(await metric(metrics, 'migration_duration_seconds', {}, '_count'), 1);
    t.ok(
      events.some(
        (e) =>
          e.reason === 'MigrationStarted' && /from a to b started \(timeout 300s\)/.test(e.message),
      ),
    );
    t.ok(
      events.some((e) => e.reason === 'MigrationCompleted' && /completed in 45s/.test(e.message)),
    );
    t.match(await service.publish(req('fs', 'a', { rwx: true, block: false })), {
      readonly: 'false',
    });
    t.match(
      await service.publish(req('fs', 'b', { rwx: true, block: false })).catch((e: unknown) => e),
      {
        code: 'failed-precondition',
        message: /only allowed for block volumes/,
      },
    );
  },
);

t.test('timeout enforced by tick; migration then refuses a third node', async (t) => {
  const { service, metrics, clock, events } = setup();
  await service.publish(req('vm', 'a', { rwx: true, timeout: 30 }));
  await service.publish(req('vm', 'b', { rwx: true, timeout: 30 }));
  t.equal(service.nextDeadline(), clock.t + 30_000);
  clock.advance(29_999);
  t.equal(await service.tick(), 0);
  clock.advance(1);
  t.equal(await service.tick(), 1);
  t.equal(await metric(metrics, 'migration_migrations_total', { result: 'timeout' }), 1);
  t.equal(await metric(metrics, 'migration_active_migrations'), 0);
  t.equal(await metric(metrics, 'attachment_reconcile_total', { action: 'migration_timeout' }), 1);
  const failed = events.find((e) => e.reason === 'MigrationFailed');
  t.equal(failed?.type, 'Warning');
  t.match(failed?.message, /timeout of 30s exceeded/);
  t.equal(service.nextDeadline(), undefined);
  t.match(await service.publish(req('vm', 'c', { rwx: true })).catch((e: unknown) => e), {
    message: /timed-out live migration/,
  });
});

t.test(
  'fencing: allow-list follows published nodes; a failed RDS update commits nothing',
  async (t) => {
    const { service, exports, metrics } = setup();
    exports.addDisk('vm');
    await service.publish(req('vm', 'a', { rwx: true, fencing: true }));
    t.same(exports.allow.get('vm'), [nqn('a')]);
    exports.failNext = { count: 1, error: new UnavailableError('ssh down') };
    const err = await service
      .publish(req('vm', 'b', { rwx: true, fencing: true }))
      .catch((e: unknown) => e);
    t.match(err, { code: 'unavailable' });
    t.same(service.publishedNodes('vm'), ['a'], 'nothing committed');
    t.equal(await metric(metrics, 'attachment_attach_total', { status: 'failure' }), 1);
    await service.publish(req('vm', 'b', { rwx: true, fencing: true }));
    t.same(exports.allow.get('vm'), [nqn('a'), nqn('b')].sort());
    await service.unpublish(unreq('vm'));
    t.same(service.publishedNodes('vm'), []);
    t.same(exports.allow.get('vm'), [DENY_ALL_HOST_NQN], 'no node published: nobody may connect');
    t.equal(await metric(metrics, 'attachment_detach_total', { status: 'success' }), 2);
  },
);

t.test('publishes wait for the first rebuild; an aborted wait is CANCELLED', async (t) => {
  const { service } = setup();
  let release: () => void = () => undefined;
  service.holdUntil(new Promise<void>((r) => (release = r)));
  let done = false;
  const p = service.publish(req('v1', 'a')).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 20));
  t.equal(done, false, 'held');
  const ac = new AbortController();
  const aborted = service
    .publish({ ...req('v2', 'a'), signal: ac.signal })
    .catch((e: unknown) => e);
  ac.abort();
  t.match(await aborted, { code: 'cancelled' });
  release();
  await p;
  t.equal(done, true);
});

t.test('volumeDeleted forgets the volume and the gauge follows', async (t) => {
  const { service, metrics, pvcs } = setup();
  await service.publish(req('vm', 'a', { rwx: true }));
  await service.publish(req('vm', 'b', { rwx: true }));
  t.equal(await metric(metrics, 'migration_active_migrations'), 1);
  service.volumeDeleted('vm');
  t.same(service.publishedNodes('vm'), []);
  t.equal(await metric(metrics, 'migration_active_migrations'), 0);
  t.equal(pvcs.get('vm'), 'ns/claim-vm', 'PVC remembered from the volume context');
});

t.test('a deleted node that comes back within the grace keeps its volumes', async (t) => {
  const { service, clock, nodes, exports } = setup();
  exports.addDisk('v1');
  await service.publish(req('v1', 'a'));
  nodes.map.delete('a');
  t.same(service.goneNodes(['a']), [], 'just deleted: not gone yet');
  clock.advance(service.nodeGoneGraceMs - 1);
  t.same(service.goneNodes(['a']), [], 'one millisecond before the grace ends');
  nodes.add('a'); // kubelet re-registers
  t.same(service.goneNodes(['a']), []);
  t.equal(service.nextGoneDeadline(), undefined, 'present again: the wait starts over');
  nodes.map.delete('a');
  t.same(service.goneNodes(['a']), [], 'deleted again: a new grace');
  clock.advance(service.nodeGoneGraceMs - 1);
  t.same(service.goneNodes(['a']), []);
  clock.advance(1);
  t.same(service.goneNodes(['a']), ['a'], 'gone once deleted for the whole grace');
  t.same(service.publishedNodes('v1'), ['a'], 'asking never clears by itself');
});
