import t from 'tap';
import { Reconciler, createAttachmentManager } from '../../../../src/controller/attachments';
import { nullLogger } from '../../../../src/observability/logger';
import { metric, nqn, req, setup } from './setup';

function withReconciler(s: ReturnType<typeof setup>, over: { leader?: boolean } = {}) {
  const rec = new Reconciler({
    service: s.service,
    nodes: s.nodes,
    volumes: s.exports,
    exports: s.exports,
    isLeader: () => over.leader ?? true,
    metrics: s.metrics,
    logger: nullLogger(),
    now: s.clock.now,
    intervalMs: 300_000,
    timers: s.clock.timerApi,
  });
  return rec;
}

/** Let promise chains started by timers settle. */
const settle = () => new Promise((r) => setTimeout(r, 20));

t.test('the deadline timer fails a migration with no RPC arriving', async (t) => {
  const s = setup();
  const rec = withReconciler(s);
  void rec.start();
  await settle();
  await s.service.publish(req('vm', 'a', { rwx: true, timeout: 60 }));
  await s.service.publish(req('vm', 'b', { rwx: true, timeout: 60 }));
  rec.armDeadline();
  s.clock.advance(59_000);
  await settle();
  t.equal(await metric(s.metrics, 'migration_migrations_total', { result: 'timeout' }), 0);
  s.clock.advance(1_000);
  await settle();
  t.equal(await metric(s.metrics, 'migration_migrations_total', { result: 'timeout' }), 1);
  t.ok(s.events.some((e) => e.reason === 'MigrationFailed'));
  t.equal(rec.last?.reason, 'migration-deadline');
  t.match(rec.last?.drift, [/timed out and both are still published/], 'stale side reported');
  await rec.stop();
});

t.test(
  'a pass clears nodes deleted for the grace and reports drift; allow-list repaired',
  async (t) => {
    const s = setup();
    s.exports.addDisk('v1');
    const rec = withReconciler(s);
    await s.service.publish(req('v1', 'a', { fencing: true }));
    s.exports.allow.set('v1', []);
    void rec.start();
    await settle();
    t.match(rec.last?.drift, [/RDS allow-list \[\] differs/]);
    t.same(s.exports.allow.get('v1'), [nqn('a')], 'allow-list set back');
    t.equal(await metric(s.metrics, 'attachment_reconcile_total', { action: 'drift' }), 1);
    s.nodes.map.delete('a');
    s.clock.advance(300_000);
    await settle();
    t.equal(rec.last?.reason, 'interval');
    t.same(rec.last?.cleared, [], 'first seen deleted: the node-gone grace starts');
    t.same(s.service.publishedNodes('v1'), ['a']);
    s.clock.advance(s.service.nodeGoneGraceMs);
    await settle();
    t.equal(rec.last?.reason, 'node-gone-deadline', 'a timer ends the grace');
    t.same(rec.last?.cleared, ['a']);
    t.same(s.service.publishedNodes('v1'), []);
    t.equal(await metric(s.metrics, 'attachment_stale_cleared_total'), 1);
    t.equal(await metric(s.metrics, 'attachment_reconcile_total', { action: 'stale_cleared' }), 1);
    await rec.stop();
  },
);

t.test('followers do not report drift; an unsynced node cache clears nothing', async (t) => {
  const s = setup();
  const rec = withReconciler(s, { leader: false });
  await s.service.publish(req('vm', 'a', { rwx: true, timeout: 30 }));
  await s.service.publish(req('vm', 'b', { rwx: true, timeout: 30 }));
  s.clock.advance(31_000);
  s.nodes.synced = false;
  s.nodes.map.delete('a');
  const r = await rec.trigger('manual');
  t.equal(r?.timedOut, 1, 'windows are enforced on every replica');
  t.same(r?.drift, []);
  t.same(r?.cleared, []);
});

t.test('triggers during a pass coalesce into one more pass', async (t) => {
  const s = setup();
  const rec = withReconciler(s);
  const first = rec.trigger('one');
  void rec.trigger('two');
  void rec.trigger('three');
  await first;
  await settle();
  t.equal(rec.passes, 2);
  t.equal(rec.last?.reason, 'three');
});

t.test('without Kubernetes: RDS reconnect triggers a pass; start and stop are clean', async (t) => {
  const s = setup();
  let reconnect: () => void = () => undefined;
  let unsubscribed = false;
  const rt = createAttachmentManager({
    driverName: 'rds-csi.dev',
    exports: s.exports,
    health: {
      onReconnect: (cb) => {
        reconnect = cb;
        return () => (unsubscribed = true);
      },
    },
    metrics: s.metrics,
    logger: nullLogger(),
    now: s.clock.now,
    timers: s.clock.timerApi,
  });
  await rt.start();
  t.equal(rt.reconciler.last?.reason, 'start');
  await rt.manager.publish(req('v1', 'a'));
  reconnect();
  await settle();
  t.equal(rt.reconciler.last?.reason, 'rds-reconnect');
  await rt.stop();
  t.equal(unsubscribed, true);
  t.equal(s.clock.pending, 0, 'no timers left');
});
