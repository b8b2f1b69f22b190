import t, { type Test } from 'tap';
import { createKubeClients, loadKubeConfig } from '../../../src/kube/client';
import { HostNqnKeeper } from '../../../src/kube/host-nqn';
import { HOST_NQN_ANNOTATION } from '../../../src/kube/ports';
import { nullLogger } from '../../../src/observability/logger';
import type { FakeKubeApiServer } from '../../fakes/kube-apiserver';
import { apiServer } from './runtime';
import { node, until } from './helpers';

const NQN = 'nqn.2014-08.org.nvmexpress:uuid:11111111-2222-4333-8444-555555555555';

async function keeperFor(t: Test, server: FakeKubeApiServer, name: string) {
  const clients = createKubeClients(
    loadKubeConfig({ kind: 'inline', text: server.kubeconfig() }, 'rds-csi/test (node)'),
    { component: 'rds-csi-node', instance: name },
  );
  const uids: string[] = [];
  const keeper = new HostNqnKeeper({
    node: name,
    hostnqn: NQN,
    listWatch: clients.ownNode(name),
    annotate: (n, q) => clients.annotateNode(n, q),
    logger: nullLogger(),
    onUid: (uid) => uids.push(uid),
    backoffInitialMs: 20,
    backoffMaxMs: 100,
  });
  keeper.start();
  t.teardown(() => keeper.stop());
  return { keeper, uids };
}

const annotation = (server: FakeKubeApiServer, name: string) =>
  server.get('nodes', name)?.metadata.annotations?.[HOST_NQN_ANNOTATION];

t.test('the host NQN stays on the Node, also when the Node object is replaced', async (t) => {
  const server = await apiServer(t);
  server.put('nodes', node('other'));
  const { keeper, uids } = await keeperFor(t, server, 'n1');
  await new Promise((r) => setTimeout(r, 200));
  t.equal(keeper.writes, 0, 'no Node yet: nothing to annotate (kubelet registers it first)');

  server.put('nodes', node('n1'));
  await until(() => annotation(server, 'n1') === NQN, 'annotation written once the Node exists');
  await until(() => keeper.writes === 1, 'the write acknowledged');
  const firstUid = server.get('nodes', 'n1')?.metadata.uid;
  await until(() => uids.length === 1, 'the uid reported');
  t.equal(uids[0], firstUid);
  const writes = keeper.writes;

  // Changes to other Nodes are not even sent to this watch.
  for (let i = 0; i < 5; i++) server.put('nodes', node('other', { ready: i % 2 === 0 }));
  await new Promise((r) => setTimeout(r, 200));
  t.equal(keeper.writes, writes, 'other Nodes never cause a write');
  t.notOk(annotation(server, 'other'), 'and are never annotated');

  // `kubectl delete node n1`, then kubelet registers it again: a new object, no annotation.
  server.remove('nodes', 'n1');
  server.put('nodes', node('n1'));
  const secondUid = server.get('nodes', 'n1')?.metadata.uid;
  t.not(secondUid, firstUid, 're-registered with a new uid');
  await until(() => annotation(server, 'n1') === NQN, 'annotation restored on the new Node');
  await until(() => uids.length === 2, 'the new uid reported');
  t.equal(uids[1], secondUid, 'events name the new Node');

  // Someone strips the annotation: it comes back.
  server.put('nodes', node('n1'));
  await until(() => annotation(server, 'n1') === NQN, 'annotation restored after removal');
});

t.test('a refused write is retried until it lands', async (t) => {
  const server = await apiServer(t);
  server.put('nodes', node('n2'));
  server.fail('PATCH', /\/api\/v1\/nodes\/n2$/, 500, 3);
  const { keeper } = await keeperFor(t, server, 'n2');
  await until(() => annotation(server, 'n2') === NQN, 'annotation written after three refusals');
  await until(() => keeper.writes === 1, 'the write acknowledged');
  const patches = server.requests.filter((r) => r.startsWith('PATCH /api/v1/nodes/n2'));
  t.equal(patches.length, 4, 'three refused, the fourth landed');
});

t.test('the stand-in refuses a watch on a field it cannot select, like the real one', async (t) => {
  const server = await apiServer(t);
  const res = await fetch(
    `${server.url}/api/v1/nodes?watch=true&fieldSelector=spec.unschedulable%3Dtrue`,
  );
  t.equal(res.status, 400);
  const ok = await fetch(`${server.url}/api/v1/nodes?fieldSelector=metadata.name%3Dx`);
  t.equal(ok.status, 200);
});
