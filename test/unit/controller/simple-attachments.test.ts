import t from 'tap';
import { SimpleAttachments } from '../../fakes/simple-attachments';
import type { PublishRequest } from '../../../src/controller/attachments-port';
import type { AccessMode } from '../../../src/domain/capabilities';

const signal = new AbortController().signal;
const req = (
  nodeId: string,
  accessMode: AccessMode = 'SINGLE_NODE_WRITER',
  extra: Partial<PublishRequest> = {},
): PublishRequest => ({
  volumeId: 'pvc-1',
  nodeId,
  accessMode,
  block: accessMode === 'MULTI_NODE_MULTI_WRITER',
  readonly: false,
  volume: {
    volumeId: 'pvc-1',
    nqn: 'nqn.x:pvc-1',
    sizeBytes: 1,
    migrationTimeoutSeconds: 300,
    hostFencing: false,
  },
  signal,
  ...extra,
});

t.test('single node: one at a time, idempotent, unpublish idempotent', async (t) => {
  const a = new SimpleAttachments();
  const ctx = await a.publish(req('n1'));
  t.equal(await a.publish(req('n1')), ctx);
  await t.rejects(a.publish(req('n2')), { code: 'failed-precondition', message: /n1/ });
  await t.rejects(a.publish(req('n1', 'SINGLE_NODE_WRITER', { readonly: true })), {
    code: 'already-exists',
  });
  t.same(a.publishedNodes('pvc-1'), ['n1']);
  await a.unpublish({ volumeId: 'pvc-1', nodeId: 'n1', signal });
  await a.unpublish({ volumeId: 'pvc-1', nodeId: 'n1', signal });
  await a.unpublish({ volumeId: 'other', signal });
  t.same(a.publishedNodes('pvc-1'), []);
  await a.publish(req('n2'));
  a.volumeDeleted('pvc-1');
  t.same(a.publishedNodes('pvc-1'), []);
});

t.test('multi-node: up to the cap; a cancelled call does nothing', async (t) => {
  const a = new SimpleAttachments({ maxMultiNodes: 2 });
  await a.publish(req('n1', 'MULTI_NODE_MULTI_WRITER'));
  await a.publish(req('n2', 'MULTI_NODE_MULTI_WRITER'));
  await t.rejects(a.publish(req('n3', 'MULTI_NODE_MULTI_WRITER')), { code: 'resource-exhausted' });
  t.same(a.publishedNodes('pvc-1'), ['n1', 'n2']);
  const ac = new AbortController();
  ac.abort();
  await t.rejects(
    a.publish(req('n9', 'SINGLE_NODE_WRITER', { volumeId: 'pvc-2', signal: ac.signal })),
  );
  t.same(a.publishedNodes('pvc-2'), []);
});
