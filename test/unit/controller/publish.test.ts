import t from 'tap';
import { FakeRds } from '../../fakes/routeros';
import { codeOf, status } from '../../helpers/csi';
import { BLOCK_RWO, BLOCK_RWX, MOUNT_RWO, PVC, PVC2, createReq, startController } from './harness';

type PubRes = { publish_context: Record<string, string> };

t.test(
  'single-node publish: idempotent, second node FAILED_PRECONDITION naming the first',
  async (t) => {
    const rds = new FakeRds();
    const { c } = await startController(t, rds);
    await c('CreateVolume', createReq(PVC));
    const pub = (node: string, extra: Record<string, unknown> = {}) =>
      c<PubRes>('ControllerPublishVolume', {
        volume_id: PVC,
        node_id: node,
        volume_capability: MOUNT_RWO,
        ...extra,
      });
    const a = await pub('node-a');
    t.same(await pub('node-a'), a, 'same node again: same publish_context');
    const err = await pub('node-b').catch((e: { code: number; details: string }) => e);
    t.equal((err as { code: number }).code, status.FAILED_PRECONDITION);
    t.match((err as { details: string }).details, /node-a/);
    t.equal(
      await codeOf(pub('node-a', { readonly: true })),
      status.ALREADY_EXISTS,
      'incompatible re-publish',
    );
    await c('ControllerUnpublishVolume', { volume_id: PVC, node_id: 'node-a' });
    await c('ControllerUnpublishVolume', { volume_id: PVC, node_id: 'node-a' });
    t.equal(await codeOf(pub('node-b')), 'OK');
    await c('ControllerUnpublishVolume', { volume_id: PVC });
    t.equal(await codeOf(pub('node-a')), 'OK', 'an empty node_id unpublished every node');
  },
);

t.test(
  'a node outside the known set is NOT_FOUND; without a set any node is accepted',
  async (t) => {
    const rds = new FakeRds();
    const known = await startController(t, rds, { knownNodes: new Set(['node-a']) });
    await known.c('CreateVolume', createReq(PVC));
    const req = { volume_id: PVC, volume_capability: MOUNT_RWO };
    t.equal(
      await codeOf(known.c('ControllerPublishVolume', { ...req, node_id: 'node-x' })),
      status.NOT_FOUND,
      'unknown node',
    );
    t.same(known.attachments.publishedNodes(PVC), [], 'nothing was published');
    t.equal(await codeOf(known.c('ControllerPublishVolume', { ...req, node_id: 'node-a' })), 'OK');
    const open = await startController(t, rds);
    t.equal(
      await codeOf(
        open.c('ControllerPublishVolume', { ...req, volume_id: PVC2, node_id: 'node-x' }),
      ),
      status.NOT_FOUND,
      'no set of nodes: an unknown volume is still NOT_FOUND',
    );
    await open.c('CreateVolume', createReq(PVC2));
    t.equal(
      await codeOf(
        open.c('ControllerPublishVolume', { ...req, volume_id: PVC2, node_id: 'node-x' }),
      ),
      'OK',
      'no set of nodes: the node id is taken on trust',
    );
  },
);

t.test('publish errors', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  await c('CreateVolume', createReq(PVC, { volume_capabilities: [BLOCK_RWX] }));
  const pub = (req: Record<string, unknown>) => codeOf(c('ControllerPublishVolume', req));
  t.equal(await pub({ node_id: 'n', volume_capability: BLOCK_RWO }), status.INVALID_ARGUMENT);
  t.equal(await pub({ volume_id: PVC, volume_capability: BLOCK_RWO }), status.INVALID_ARGUMENT);
  t.equal(await pub({ volume_id: PVC, node_id: 'n' }), status.INVALID_ARGUMENT);
  t.equal(
    await pub({
      volume_id: PVC,
      node_id: 'n',
      volume_capability: { access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' }, mount: {} },
    }),
    status.INVALID_ARGUMENT,
  );
  t.equal(
    await pub({ volume_id: PVC2, node_id: 'n', volume_capability: BLOCK_RWO }),
    status.NOT_FOUND,
  );
  t.equal(
    await pub({
      volume_id: PVC,
      node_id: 'n',
      volume_capability: BLOCK_RWO,
      volume_context: { migrationTimeoutSeconds: '5' },
    }),
    status.INVALID_ARGUMENT,
  );
  t.equal(await codeOf(c('ControllerUnpublishVolume', { node_id: 'n' })), status.INVALID_ARGUMENT);
  t.equal(await codeOf(c('ControllerUnpublishVolume', { volume_id: PVC2, node_id: 'n' })), 'OK');
});

t.test('block RWX: two nodes (a migration), not three', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  await c('CreateVolume', createReq(PVC, { volume_capabilities: [BLOCK_RWX] }));
  const pub = (node: string) =>
    codeOf(
      c('ControllerPublishVolume', { volume_id: PVC, node_id: node, volume_capability: BLOCK_RWX }),
    );
  t.equal(await pub('a'), 'OK');
  t.equal(await pub('b'), 'OK');
  t.equal(await pub('c'), status.RESOURCE_EXHAUSTED);
});
