/** Controller cases of ControllerPublishVolume / ControllerUnpublishVolume. */
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { Case, CaseContext } from './framework';
import { expectCode, expectOk } from './framework';
import { capFor, createVolume, nodeId, type CreatedVolume } from './objects';

type PublishRes = { publish_context: Record<string, string> };

/** A node id no driver is deployed on. */
const NO_SUCH_NODE = 'no-such-node-0c1e4a7f';

/** A volume and the request that publishes it to `node`; unpublished after the case. */
async function publishable(ctx: CaseContext, tag: string, node: string) {
  const v = await createVolume(ctx, ctx.unique(tag));
  const req = {
    volume_id: v.volume_id,
    node_id: node,
    volume_capability: capFor(ctx),
    volume_context: v.volume_context,
  };
  ctx.defer(() => ctx.client.controller('ControllerUnpublishVolume', { volume_id: v.volume_id }));
  return { v, req };
}

async function publishedNodes(ctx: CaseContext, v: CreatedVolume): Promise<string[]> {
  const res = await ctx.client.controller<{ status: { published_node_ids: string[] } }>(
    'ControllerGetVolume',
    { volume_id: v.volume_id },
  );
  return res.status.published_node_ids;
}

export const publishCases: Case[] = [
  {
    group: 'Controller',
    name: 'ControllerPublishVolume argument errors',
    rule: 'ControllerPublishVolume: volume_id, node_id and volume_capability are REQUIRED (INVALID_ARGUMENT); an unknown volume → NOT_FOUND',
    async run(ctx) {
      const node = await nodeId(ctx);
      const v = await createVolume(ctx, ctx.unique('pubargs'));
      const cap = capFor(ctx);
      await expectCode(
        ctx.client.controller('ControllerPublishVolume', { node_id: node, volume_capability: cap }),
        status.INVALID_ARGUMENT,
        'no volume_id',
      );
      await expectCode(
        ctx.client.controller('ControllerPublishVolume', {
          volume_id: v.volume_id,
          volume_capability: cap,
        }),
        status.INVALID_ARGUMENT,
        'no node_id',
      );
      await expectCode(
        ctx.client.controller('ControllerPublishVolume', { volume_id: v.volume_id, node_id: node }),
        status.INVALID_ARGUMENT,
        'no capability',
      );
      await expectCode(
        ctx.client.controller('ControllerPublishVolume', {
          volume_id: 'pvc-12345678-1234-1234-1234-123456789012',
          node_id: node,
          volume_capability: cap,
        }),
        status.NOT_FOUND,
        'unknown volume',
      );
    },
  },
  {
    group: 'Controller',
    name: 'ControllerPublishVolume to a node that does not exist',
    rule: 'ControllerPublishVolume: a node_id that names no node → NOT_FOUND, and nothing is published (the driver knows its nodes with Kubernetes and in the all-in-one mode)',
    async run(ctx) {
      const { v, req } = await publishable(ctx, 'nonode', NO_SUCH_NODE);
      await expectCode(
        ctx.client.controller('ControllerPublishVolume', req),
        status.NOT_FOUND,
        'unknown node',
      );
      assert.deepEqual(await publishedNodes(ctx, v), [], 'not published anywhere');
      await expectCode(
        ctx.client.controller('ControllerPublishVolume', {
          ...req,
          volume_id: 'pvc-0badc0de-0000-4000-8000-000000000000',
        }),
        status.NOT_FOUND,
        'unknown volume and unknown node',
      );
    },
  },
  {
    group: 'Controller',
    name: 'ControllerPublishVolume is idempotent',
    rule: 'ControllerPublishVolume: publishing again to the same node with the same arguments is OK with the same publish_context; the same node with an incompatible readonly flag → ALREADY_EXISTS; ControllerUnpublishVolume twice is OK',
    async run(ctx) {
      const node = await nodeId(ctx);
      const { v, req } = await publishable(ctx, 'pub', node);
      const first = await ctx.client.controller<PublishRes>('ControllerPublishVolume', req);
      for (let i = 0; i < 3; i++) {
        const again = await ctx.client.controller<PublishRes>('ControllerPublishVolume', req);
        assert.deepEqual(again.publish_context, first.publish_context, `publish #${i + 2}`);
      }
      assert.deepEqual(await publishedNodes(ctx, v), [node], 'published once, to this node');
      await expectCode(
        ctx.client.controller('ControllerPublishVolume', { ...req, readonly: true }),
        status.ALREADY_EXISTS,
        'readonly differs',
      );
      const unpublish = { volume_id: v.volume_id, node_id: node };
      await expectOk(ctx.client.controller('ControllerUnpublishVolume', unpublish), 'unpublish');
      await expectOk(ctx.client.controller('ControllerUnpublishVolume', unpublish), 'again');
      assert.deepEqual(await publishedNodes(ctx, v), [], 'unpublished');
    },
  },
  {
    group: 'Controller',
    name: 'A single-node volume stays on one node',
    rule: 'ControllerPublishVolume: a single-node volume published to one node and asked for on another → FAILED_PRECONDITION; after unpublish it may move',
    skip: (p) =>
      p.otherNodeId === undefined ? 'needs a second node the controller knows' : undefined,
    async run(ctx) {
      const node = await nodeId(ctx);
      const other = ctx.params.otherNodeId!;
      const { v, req } = await publishable(ctx, 'move', node);
      await expectOk(ctx.client.controller('ControllerPublishVolume', req), 'publish');
      await expectCode(
        ctx.client.controller('ControllerPublishVolume', { ...req, node_id: other }),
        status.FAILED_PRECONDITION,
        'second node',
      );
      await expectOk(
        ctx.client.controller('ControllerUnpublishVolume', {
          volume_id: v.volume_id,
          node_id: node,
        }),
        'unpublish',
      );
      await expectOk(
        ctx.client.controller('ControllerPublishVolume', { ...req, node_id: other }),
        'free to move after unpublish',
      );
      assert.deepEqual(await publishedNodes(ctx, v), [other]);
    },
  },
  {
    group: 'Controller',
    name: 'ControllerUnpublishVolume argument errors and unknown volumes',
    rule: 'ControllerUnpublishVolume: volume_id is REQUIRED; a volume or node the plugin cannot find is regarded as unpublished → OK',
    async run(ctx) {
      await expectCode(
        ctx.client.controller('ControllerUnpublishVolume', { node_id: 'n' }),
        status.INVALID_ARGUMENT,
        'no volume_id',
      );
      await expectOk(
        ctx.client.controller('ControllerUnpublishVolume', {
          volume_id: 'pvc-abcdefab-abcd-abcd-abcd-abcdefabcdef',
          node_id: 'n',
        }),
        'unknown volume',
      );
      const v = await createVolume(ctx, ctx.unique('unpubnode'));
      await expectOk(
        ctx.client.controller('ControllerUnpublishVolume', {
          volume_id: v.volume_id,
          node_id: NO_SUCH_NODE,
        }),
        'unknown node',
      );
    },
  },
];
