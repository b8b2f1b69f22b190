/**
 * Two controller replicas against one stand-in API server, as the chart deploys them: the
 * replica that did not serve a move must answer from the VolumeAttachments when it is
 * called next (failover), after a lost watch too; events carry the claim's uid (so
 * `kubectl describe pvc` shows them), repeats are counted on one event, and every
 * request names the driver.
 */
import t, { type Test } from 'tap';
import type { PublishRequest } from '../../../src/controller/attachments-port';
import { FakeClock } from '../../fakes/kube-clock';
import { FakeExports } from '../../fakes/kube-exports';
import { claimUid, node, pv, pvc, until, va } from './helpers';
import { apiServer, startController } from './runtime';

const nqn = (n: string) => `nqn.2014-08.org.nvmexpress:uuid:host-${n}`;
const sig = () => new AbortController().signal;

function rwo(volumeId: string, nodeId: string, pvcName?: string): PublishRequest {
  return {
    volumeId,
    nodeId,
    accessMode: 'SINGLE_NODE_WRITER',
    block: false,
    readonly: false,
    volume: {
      volumeId,
      nqn: `nqn.2000-02.com.mikrotik:${volumeId}`,
      sizeBytes: 1 << 30,
      migrationTimeoutSeconds: 300,
      hostFencing: false,
      ...(pvcName === undefined ? {} : { pvc: { namespace: 'apps', name: pvcName } }),
    },
    signal: sig(),
  };
}

async function twoReplicas(t: Test) {
  const clock = new FakeClock();
  const server = await apiServer(t, clock);
  for (const n of ['a', 'b', 'c']) server.put('nodes', node(n, { hostNqn: nqn(n) }));
  server.put('persistentvolumeclaims', pvc('apps', 'data'));
  server.put(
    'persistentvolumes',
    pv('pv-m', 'vol-m', { claim: { namespace: 'apps', name: 'data' } }),
  );
  server.put('volumeattachments', va('va-a', 'pv-m', 'a', clock.t - 60_000));
  const A = await startController(t, server, clock, { exports: new FakeExports() }, 'ctrl-0');
  const B = await startController(t, server, clock, { exports: new FakeExports() }, 'ctrl-1');
  return { clock, server, A, B };
}

t.test('the replica that did not serve a move follows the VolumeAttachments', async (t) => {
  const { clock, server, A, B } = await twoReplicas(t);
  t.same(B.att.manager.publishedNodes('vol-m'), ['a'], 'both start from the VolumeAttachments');
  // A serves the move a → b, the attacher records it as it would.
  await A.att.manager.unpublish({ volumeId: 'vol-m', nodeId: 'a', signal: sig() });
  server.remove('volumeattachments', 'va-a');
  server.put('volumeattachments', va('va-b', 'pv-m', 'b', clock.t, false));
  await A.att.manager.publish(rwo('vol-m', 'b'));
  server.put('volumeattachments', va('va-b', 'pv-m', 'b', clock.t, true));
  await until(() => B.att.manager.publishedNodes('vol-m').join() === 'b', 'B sees the move');
  // B takes over: the attacher's reconcile of node b is accepted, node a is refused.
  await B.att.manager.publish(rwo('vol-m', 'b'));
  await t.rejects(B.att.manager.publish(rwo('vol-m', 'a')), {
    code: 'failed-precondition',
    message: /node b/,
  });
  await B.att.manager.unpublish({ volumeId: 'vol-m', nodeId: 'b', signal: sig() });
  server.remove('volumeattachments', 'va-b');
  await until(() => A.att.manager.publishedNodes('vol-m').length === 0, 'A sees the detach');
  t.same(B.att.manager.publishedNodes('vol-m'), [], 'nothing holds DeleteVolume back');
});

t.test('an attach in flight here is kept; another replica’s is not claimed', async (t) => {
  const { clock, server, A, B } = await twoReplicas(t);
  await A.att.manager.unpublish({ volumeId: 'vol-m', nodeId: 'a', signal: sig() });
  server.remove('volumeattachments', 'va-a');
  await until(() => B.att.manager.publishedNodes('vol-m').length === 0, 'B sees the detach');
  server.put('volumeattachments', va('va-b', 'pv-m', 'b', clock.t, false));
  await A.att.manager.publish(rwo('vol-m', 'b'));
  // Another status change of the not-yet-attached VA: A keeps its publish, B claims nothing.
  server.put('volumeattachments', { ...va('va-b', 'pv-m', 'b', clock.t, false), status: {} });
  await until(() => server.openWatches >= 4, 'watches open');
  await new Promise((r) => setTimeout(r, 200));
  t.same(A.att.manager.publishedNodes('vol-m'), ['b']);
  t.same(B.att.manager.publishedNodes('vol-m'), []);
});

t.test('a relist after a lost watch replaces what a replica believed', async (t) => {
  const { clock, server, B } = await twoReplicas(t);
  await until(() => server.openWatches >= 4, 'watches open');
  server.dropWatches();
  server.remove('volumeattachments', 'va-a');
  server.put('volumeattachments', va('va-b', 'pv-m', 'b', clock.t));
  server.compact();
  await until(() => B.kube.volumeAttachments.stats.gone >= 1, '410 Gone seen');
  await until(() => B.att.manager.publishedNodes('vol-m').join() === 'b', 'B relisted');
  t.same(B.att.manager.publishedNodes('vol-m'), ['b']);
});

t.test('events: claim uid (kubectl describe), repeats counted, replica named', async (t) => {
  const { server, A } = await twoReplicas(t);
  server.put('persistentvolumeclaims', pvc('apps', 'other'));
  server.put(
    'persistentvolumes',
    pv('pv-o', 'vol-o', { claim: { namespace: 'apps', name: 'other' } }),
  );
  await A.att.manager.publish(rwo('vol-o', 'a', 'other'));
  for (let i = 0; i < 3; i++) {
    await t.rejects(A.att.manager.publish(rwo('vol-o', 'b', 'other')), {
      code: 'failed-precondition',
    });
  }
  await A.kube.recorder.flush();
  const agents = new Set(server.userAgents); // before this test's own request
  // What `kubectl describe pvc other -n apps` asks for.
  const sel = [
    'involvedObject.name=other',
    'involvedObject.namespace=apps',
    'involvedObject.kind=PersistentVolumeClaim',
    `involvedObject.uid=${claimUid('apps', 'other')}`,
  ].join(',');
  const res = await fetch(
    `${server.url}/api/v1/namespaces/apps/events?fieldSelector=${encodeURIComponent(sel)}`,
  );
  const items = ((await res.json()) as { items: Array<Record<string, unknown>> }).items;
  const seen = Object.fromEntries(items.map((e) => [String(e.reason), e.count]));
  t.same(seen, { VolumeAttached: 1, AttachmentConflict: 3 }, 'one conflict event, count 3');
  for (const e of items) {
    t.match(e, {
      reportingComponent: 'rds-csi-controller',
      reportingInstance: 'ctrl-0',
      source: { component: 'rds-csi-controller' },
    });
  }
  const conflict = items.find((e) => e.reason === 'AttachmentConflict');
  t.not(conflict?.firstTimestamp, undefined);
  t.ok(
    !server.requests.some(
      (r) =>
        r.startsWith('GET /api/v1/persistentvolumes?') || r === 'GET /api/v1/persistentvolumes',
    ),
    'no cluster-wide PV list',
  );
  t.same([...agents], ['rds-csi/test (controller)'], 'every request names the driver');
});

t.test('two replicas elect one leader; the other takes over when it leaves', async (t) => {
  const { server, A, B } = await twoReplicas(t);
  await until(() => A.kube.isLeader() || B.kube.isLeader(), 'a leader');
  t.not(A.kube.isLeader(), B.kube.isLeader(), 'exactly one leads');
  const [leader, other] = A.kube.isLeader() ? [A, B] : [B, A];
  await leader.att.stop();
  await until(() => other.kube.isLeader(), 'takeover');
  const lease = server.get('leases', 'rds-csi-controller', 'kube-system')?.spec as {
    holderIdentity?: string;
    leaseTransitions?: number;
  };
  t.equal(lease.holderIdentity, other === A ? 'ctrl-0' : 'ctrl-1');
  t.ok((lease.leaseTransitions ?? 0) >= 1);
});
