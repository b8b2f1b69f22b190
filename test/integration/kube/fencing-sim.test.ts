/**
 * Host fencing through the real RouterOS adapter over SSH against rds-sim: the disk's
 * allow-list follows the published nodes (host NQNs from the Node annotation), names no
 * real host when nothing is published, and the reconciler puts it back after drift.
 */
import t from 'tap';
import { DENY_ALL_HOST_NQN } from '../../../src/domain/attachment';
import { FakeClock } from '../../fakes/kube-clock';
import { harness, volumeSpec } from '../routeros/harness';
import { metric } from '../../unit/controller/attachments/setup';
import { node } from './helpers';
import { apiServer, startController } from './runtime';

const nqn = (n: string) => `nqn.2014-08.org.nvmexpress:uuid:host-${n}`;

t.test('fenced migration hand-off sets the RDS allow-list each step', async (t) => {
  const h = await harness(t);
  await h.ros.volumes.create(volumeSpec('pvc-fenced'));
  const clock = new FakeClock();
  const server = await apiServer(t, clock);
  for (const n of ['a', 'b']) server.put('nodes', node(n, { hostNqn: nqn(n) }));
  const { att, metrics } = await startController(t, server, clock, {
    exports: h.ros.exports,
    volumes: h.ros.volumes,
  });
  const publish = (nodeId: string) =>
    att.manager.publish({
      volumeId: 'pvc-fenced',
      nodeId,
      accessMode: 'MULTI_NODE_MULTI_WRITER',
      block: true,
      readonly: false,
      volume: {
        volumeId: 'pvc-fenced',
        nqn: 'nqn.2000-02.com.mikrotik:pvc-fenced',
        sizeBytes: 1024 ** 2,
        migrationTimeoutSeconds: 300,
        hostFencing: true,
      },
      signal: new AbortController().signal,
    });
  const allowed = async () =>
    [...((await h.ros.volumes.get('pvc-fenced'))?.allowedHosts ?? [])].sort();
  await publish('a');
  t.same(await allowed(), [nqn('a')]);
  await publish('b');
  t.same(await allowed(), [nqn('a'), nqn('b')]);
  await att.manager.unpublish({
    volumeId: 'pvc-fenced',
    nodeId: 'a',
    signal: new AbortController().signal,
  });
  t.same(await allowed(), [nqn('b')]);
  await h.ros.exports.setAllowedHosts('pvc-fenced', []);
  const report = await att.reconciler.trigger('probe');
  // No VolumeAttachments exist in this test, so that difference is reported too.
  t.same(
    report?.drift.map((d) => d.replace(/:.*/, '')),
    ['volume pvc-fenced', 'volume pvc-fenced'],
  );
  t.ok(report?.drift.some((d) => /RDS allow-list \[\] differs/.test(d)));
  t.same(await allowed(), [nqn('b')], 'reconciler restored the allow-list');
  t.equal(await metric(metrics, 'attachment_reconcile_total', { action: 'drift' }), 2);
  await att.manager.unpublish({ volumeId: 'pvc-fenced', signal: new AbortController().signal });
  t.same(await allowed(), [DENY_ALL_HOST_NQN]);
});
