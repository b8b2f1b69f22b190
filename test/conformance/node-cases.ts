import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { join } from 'node:path';
import type { Case } from './framework';
import { expectCode, expectOk } from './framework';
import { capFor, paths, publishedVolume } from './objects';

/** Node capabilities released consumers know (CSI 1.11). */
const KNOWN_NODE_CAPABILITIES = [
  'STAGE_UNSTAGE_VOLUME',
  'GET_VOLUME_STATS',
  'EXPAND_VOLUME',
  'VOLUME_CONDITION',
  'SINGLE_NODE_MULTI_WRITER',
  'VOLUME_MOUNT_GROUP',
];

export const nodeCases: Case[] = [
  {
    group: 'Node',
    name: 'NodeGetCapabilities and NodeGetInfo',
    rule: 'NodeGetCapabilities lists only known RPC types; NodeGetInfo: node_id is REQUIRED, max_volumes_per_node is not negative, accessible_topology is set when the plugin advertises VOLUME_ACCESSIBILITY_CONSTRAINTS',
    async run({ client }) {
      const caps = await client.node<{ capabilities: { rpc: { type: string } }[] }>(
        'NodeGetCapabilities',
      );
      const types = caps.capabilities.map((c) => c.rpc.type);
      assert.ok(types.includes('STAGE_UNSTAGE_VOLUME'));
      for (const t of types) assert.ok(KNOWN_NODE_CAPABILITIES.includes(t), `capability ${t}`);
      const info = await client.node<{
        node_id: string;
        max_volumes_per_node: string;
        accessible_topology: { segments: Record<string, string> } | null;
      }>('NodeGetInfo');
      assert.ok(info.node_id.length > 0);
      assert.ok(Number(info.max_volumes_per_node) >= 0, 'max_volumes_per_node');
      const plugin = await client.identity<{
        capabilities: { service?: { type: string } | null }[];
      }>('GetPluginCapabilities');
      if (plugin.capabilities.some((c) => c.service?.type === 'VOLUME_ACCESSIBILITY_CONSTRAINTS')) {
        assert.ok(info.accessible_topology, 'topology reported');
      }
    },
  },
  {
    group: 'Node',
    name: 'NodeStageVolume argument errors',
    rule: 'NodeStageVolume: volume_id, staging_target_path and volume_capability are REQUIRED → INVALID_ARGUMENT',
    async run(ctx) {
      const { staging } = paths(ctx, 'stargs');
      const cap = capFor(ctx);
      await expectCode(
        ctx.client.node('NodeStageVolume', {
          staging_target_path: staging,
          volume_capability: cap,
        }),
        status.INVALID_ARGUMENT,
        'no volume_id',
      );
      await expectCode(
        ctx.client.node('NodeStageVolume', { volume_id: 'pvc-1', volume_capability: cap }),
        status.INVALID_ARGUMENT,
        'no staging path',
      );
      await expectCode(
        ctx.client.node('NodeStageVolume', { volume_id: 'pvc-1', staging_target_path: staging }),
        status.INVALID_ARGUMENT,
        'no capability',
      );
    },
  },
  {
    group: 'Node',
    name: 'NodePublishVolume argument errors and publish before stage',
    rule: 'NodePublishVolume: volume_id, target_path and volume_capability are REQUIRED (INVALID_ARGUMENT); STAGE_UNSTAGE plugins need the volume staged first → FAILED_PRECONDITION',
    async run(ctx) {
      const { staging, target } = paths(ctx, 'pubargs');
      const cap = capFor(ctx);
      await expectCode(
        ctx.client.node('NodePublishVolume', {
          target_path: target,
          staging_target_path: staging,
          volume_capability: cap,
        }),
        status.INVALID_ARGUMENT,
        'no id',
      );
      await expectCode(
        ctx.client.node('NodePublishVolume', {
          volume_id: 'pvc-1',
          staging_target_path: staging,
          volume_capability: cap,
        }),
        status.INVALID_ARGUMENT,
        'no target',
      );
      await expectCode(
        ctx.client.node('NodePublishVolume', {
          volume_id: 'pvc-1',
          staging_target_path: staging,
          target_path: target,
        }),
        status.INVALID_ARGUMENT,
        'no capability',
      );
      const { v } = await publishedVolume(ctx, 'unstaged');
      await expectCode(
        ctx.client.node('NodePublishVolume', {
          volume_id: v.volume_id,
          staging_target_path: staging,
          target_path: target,
          volume_capability: cap,
          volume_context: v.volume_context,
        }),
        status.FAILED_PRECONDITION,
        'not staged',
      );
    },
  },
  {
    group: 'Node',
    name: 'NodeUnpublishVolume and NodeUnstageVolume argument errors and idempotency',
    rule: 'NodeUnpublishVolume/NodeUnstageVolume: volume_id and the path are REQUIRED (INVALID_ARGUMENT); undoing what was never done is OK',
    async run(ctx) {
      const { staging, target } = paths(ctx, 'undo');
      await expectCode(
        ctx.client.node('NodeUnpublishVolume', { target_path: target }),
        status.INVALID_ARGUMENT,
        'unpublish no id',
      );
      await expectCode(
        ctx.client.node('NodeUnpublishVolume', { volume_id: 'pvc-1' }),
        status.INVALID_ARGUMENT,
        'unpublish no path',
      );
      await expectCode(
        ctx.client.node('NodeUnstageVolume', { staging_target_path: staging }),
        status.INVALID_ARGUMENT,
        'unstage no id',
      );
      await expectCode(
        ctx.client.node('NodeUnstageVolume', { volume_id: 'pvc-1' }),
        status.INVALID_ARGUMENT,
        'unstage no path',
      );
      await expectOk(
        ctx.client.node('NodeUnpublishVolume', {
          volume_id: 'pvc-12121212-1212-1212-1212-121212121212',
          target_path: target,
        }),
        'unpublish never published',
      );
      await expectOk(
        ctx.client.node('NodeUnstageVolume', {
          volume_id: 'pvc-12121212-1212-1212-1212-121212121212',
          staging_target_path: staging,
        }),
        'unstage never staged',
      );
    },
  },
  {
    group: 'Node',
    name: 'NodeGetVolumeStats argument errors and unknown paths',
    rule: 'NodeGetVolumeStats: volume_id and volume_path are REQUIRED (INVALID_ARGUMENT); a path that does not exist → NOT_FOUND',
    async run(ctx) {
      await expectCode(
        ctx.client.node('NodeGetVolumeStats', { volume_path: '/x' }),
        status.INVALID_ARGUMENT,
        'no id',
      );
      await expectCode(
        ctx.client.node('NodeGetVolumeStats', { volume_id: 'pvc-1' }),
        status.INVALID_ARGUMENT,
        'no path',
      );
      await expectCode(
        ctx.client.node('NodeGetVolumeStats', {
          volume_id: 'pvc-1',
          volume_path: join(ctx.params.targetRoot, 'does-not-exist'),
        }),
        status.NOT_FOUND,
        'unknown path',
      );
    },
  },
  {
    group: 'Node',
    name: 'NodeExpandVolume argument errors',
    rule: 'NodeExpandVolume: volume_id and volume_path are REQUIRED → INVALID_ARGUMENT',
    async run(ctx) {
      await expectCode(
        ctx.client.node('NodeExpandVolume', { volume_path: '/x' }),
        status.INVALID_ARGUMENT,
        'no id',
      );
      await expectCode(
        ctx.client.node('NodeExpandVolume', { volume_id: 'pvc-1' }),
        status.INVALID_ARGUMENT,
        'no path',
      );
    },
  },
  {
    group: 'Node',
    name: 'Stage, publish, stats, unpublish, unstage, each idempotent',
    rule: 'Node RPCs are idempotent: a repeated Stage/Publish with the same arguments is OK; Stats reports usage of a published volume; Unpublish/Unstage twice is OK',
    async run(ctx) {
      const { v, publishContext } = await publishedVolume(ctx, 'flow');
      const { staging, target } = paths(ctx, 'flow');
      const cap = capFor(ctx);
      const stage = {
        volume_id: v.volume_id,
        staging_target_path: staging,
        volume_capability: cap,
        publish_context: publishContext,
        volume_context: v.volume_context,
      };
      const publish = { ...stage, target_path: target };
      ctx.defer(() =>
        ctx.client.node('NodeUnstageVolume', {
          volume_id: v.volume_id,
          staging_target_path: staging,
        }),
      );
      ctx.defer(() =>
        ctx.client.node('NodeUnpublishVolume', { volume_id: v.volume_id, target_path: target }),
      );
      await expectOk(ctx.client.node('NodeStageVolume', stage), 'stage');
      await expectOk(ctx.client.node('NodeStageVolume', stage), 'stage again');
      await expectOk(ctx.client.node('NodePublishVolume', publish), 'publish');
      await expectOk(ctx.client.node('NodePublishVolume', publish), 'publish again');
      const stats = await ctx.client.node<{ usage: { unit: string; total: string }[] }>(
        'NodeGetVolumeStats',
        { volume_id: v.volume_id, volume_path: target },
      );
      assert.ok(
        stats.usage.some((u) => u.unit === 'BYTES' && Number(u.total) > 0),
        'byte usage reported',
      );
      await expectOk(
        ctx.client.node('NodeUnpublishVolume', { volume_id: v.volume_id, target_path: target }),
        'unpublish',
      );
      await expectOk(
        ctx.client.node('NodeUnpublishVolume', { volume_id: v.volume_id, target_path: target }),
        'unpublish again',
      );
      await expectOk(
        ctx.client.node('NodeUnstageVolume', {
          volume_id: v.volume_id,
          staging_target_path: staging,
        }),
        'unstage',
      );
      await expectOk(
        ctx.client.node('NodeUnstageVolume', {
          volume_id: v.volume_id,
          staging_target_path: staging,
        }),
        'unstage again',
      );
    },
  },
  {
    group: 'Node',
    name: 'NodeStageVolume of a staged volume at another path',
    rule: 'NodeStageVolume: a volume already staged at a different staging_target_path → FAILED_PRECONDITION',
    async run(ctx) {
      const { v, publishContext } = await publishedVolume(ctx, 'twice');
      const first = paths(ctx, 'twice-a');
      const second = paths(ctx, 'twice-b');
      const cap = capFor(ctx);
      const stage = {
        volume_id: v.volume_id,
        volume_capability: cap,
        publish_context: publishContext,
        volume_context: v.volume_context,
      };
      ctx.defer(() =>
        ctx.client.node('NodeUnstageVolume', {
          volume_id: v.volume_id,
          staging_target_path: first.staging,
        }),
      );
      await expectOk(
        ctx.client.node('NodeStageVolume', { ...stage, staging_target_path: first.staging }),
        'stage',
      );
      await expectCode(
        ctx.client.node('NodeStageVolume', { ...stage, staging_target_path: second.staging }),
        status.FAILED_PRECONDITION,
        'other path',
      );
    },
  },
];
