import t, { type Test } from 'tap';
import { FakeKubeApiServer } from '../../fakes/kube-apiserver';
import { createKubeClients, loadKubeConfig } from '../../../src/kube/client';
import { toNodeInfo, toVolumeAttachmentInfo } from '../../../src/kube/convert';
import { SupervisedInformer } from '../../../src/kube/informer';
import { KubeApiError, type NodeInfo } from '../../../src/kube/ports';
import { nullLogger } from '../../../src/observability/logger';
import { node, pv, until, va } from './helpers';

async function setup(t: Test) {
  const server = new FakeKubeApiServer();
  await server.start();
  const kc = loadKubeConfig(
    { kind: 'inline', text: server.kubeconfig() },
    'rds-csi/1.2.3 (controller)',
  );
  const clients = createKubeClients(kc, { component: 'rds-csi-controller', instance: 'test' });
  t.teardown(() => server.stop());
  return { server, clients };
}

t.test(
  'informer lists, watches, resumes after a dropped watch and relists after 410',
  async (t) => {
    const { server, clients } = await setup(t);
    server.put('nodes', node('n1', { hostNqn: 'nqn.2014-08.org.nvmexpress:uuid:n1' }));
    const log: string[] = [];
    let relists = 0;
    const inf = new SupervisedInformer({
      name: 'nodes',
      listWatch: clients.nodes,
      convert: toNodeInfo,
      key: (n: NodeInfo) => n.name,
      logger: nullLogger(),
      backoffInitialMs: 10,
      backoffMaxMs: 50,
      onAdd: (n) => log.push(`add ${n.name}`),
      onUpdate: (_o, n) => log.push(`update ${n.name} ready=${n.ready}`),
      onDelete: (n) => log.push(`delete ${n.name}`),
      onRelist: () => relists++,
    });
    t.teardown(() => inf.stop());
    inf.start();
    await inf.waitForSync();
    t.equal(inf.get('n1')?.hostNqn, 'nqn.2014-08.org.nvmexpress:uuid:n1');
    await until(() => server.openWatches === 1, 'watch open');
    server.put('nodes', node('n2'));
    await until(() => inf.get('n2') !== undefined, 'n2 via watch');
    server.put('nodes', node('n2', { ready: false }));
    await until(() => inf.get('n2')?.ready === false, 'n2 NotReady');

    // Dropped connection: resumes from the last resourceVersion, no relist, nothing missed.
    server.dropWatches();
    server.put('nodes', node('n3'));
    await until(() => inf.get('n3') !== undefined, 'n3 after the watch was dropped');
    t.equal(relists, 1, 'a dropped watch resumes without a relist');

    // Lost history: the resumed watch gets 410 and the informer relists, seeing the delete.
    server.dropWatches();
    server.remove('nodes', 'n1');
    server.compact();
    await until(() => inf.get('n1') === undefined, 'n1 deleted seen through relist');
    t.equal(relists, 2, 'relisted once after 410 Gone');
    t.ok(inf.stats.gone >= 1);
    t.same(log.slice(0, 4), ['add n1', 'add n2', 'update n2 ready=false', 'add n3']);
    t.ok(log.includes('delete n1'));
  },
);

t.test('informer backs off and recovers from API errors', async (t) => {
  const { server, clients } = await setup(t);
  server.put('volumeattachments', va('va1', 'pv1', 'n1', Date.now()));
  server.fail('GET', /volumeattachments$/, 500, 3);
  const inf = new SupervisedInformer({
    name: 'vas',
    listWatch: clients.volumeAttachments,
    convert: toVolumeAttachmentInfo,
    key: (v) => v.name,
    logger: nullLogger(),
    backoffInitialMs: 5,
    backoffMaxMs: 20,
    random: () => 0.5,
  });
  t.teardown(() => inf.stop());
  inf.start();
  await inf.waitForSync();
  t.equal(inf.stats.errors, 3, 'three failed lists, then success');
  t.match(inf.get('va1'), {
    nodeName: 'n1',
    pvName: 'pv1',
    attached: true,
    attacher: 'rds-csi.dev',
  });
});

t.test('PV lookups, events and leases through the real client', async (t) => {
  const { server, clients } = await setup(t);
  server.put(
    'persistentvolumes',
    pv('pv1', 'vol-1', {
      block: true,
      rwx: true,
      attrs: { migrationTimeoutSeconds: '60' },
      claim: { namespace: 'ns', name: 'c1' },
    }),
  );
  t.match(await clients.pvs.getPv('pv1'), {
    volumeHandle: 'vol-1',
    volumeMode: 'Block',
    accessModes: ['ReadWriteMany'],
    volumeAttributes: { migrationTimeoutSeconds: '60' },
    claimRef: { namespace: 'ns', name: 'c1' },
  });
  t.equal(await clients.pvs.getPv('nope'), undefined, '404 → undefined');
  t.equal((await clients.pvs.findPvByHandle('rds-csi.dev', 'vol-1'))?.name, 'pv1');

  await clients.events.create(
    'ns',
    { kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'c1' },
    { type: 'Warning', reason: 'R', message: 'm' },
    new Date(),
  );
  const ev = server.list('events', 'ns');
  t.equal(ev.length, 1);
  t.match(ev[0], {
    type: 'Warning',
    reason: 'R',
    message: 'm',
    involvedObject: { kind: 'PersistentVolumeClaim', name: 'c1', namespace: 'ns' },
    metadata: { namespace: 'ns' },
  });

  t.equal(await clients.leases.get('kube-system', 'l'), undefined);
  const created = await clients.leases.create('kube-system', 'l', {
    holder: 'a',
    leaseDurationSeconds: 15,
    renewTime: 1_700_000_000_123,
    transitions: 0,
  });
  t.equal(created.holder, 'a');
  t.equal(created.renewTime, 1_700_000_000_123, 'MicroTime round-trips');
  const dup = await clients.leases
    .create('kube-system', 'l', { transitions: 0 })
    .catch((e: unknown) => e);
  t.ok(dup instanceof KubeApiError && dup.status === 409, 'create of an existing lease → 409');
  const updated = await clients.leases.update('kube-system', 'l', { ...created, holder: 'b' });
  t.equal(updated.holder, 'b');
  const err = await clients.leases
    .update('kube-system', 'l', { ...created, holder: 'c' })
    .catch((e: unknown) => e);
  t.ok(err instanceof KubeApiError && err.status === 409, 'stale resourceVersion → 409');
});
