/**
 * Node cases about the paths a CO hands over: paths that hold no volume (stats, expand),
 * targets that already exist, targets the plugin must remove, and node expansion on a
 * published volume.
 */
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext } from './framework';
import { expectCode, expectOk } from './framework';
import { capFor, createVolume, paths, publishedVolume } from './objects';

const GiB = 1024 ** 3;

/** The relative path csi-sanity sends for a volume that does not exist. */
const RELATIVE = 'some/path';

/**
 * A volume staged and published on this node; unpublished and unstaged after the case.
 * With `targetExists` the target is created first, as a CO may do (a directory for a
 * mount volume, an empty file for a block volume).
 */
async function publishedOnNode(ctx: CaseContext, tag: string, targetExists = false) {
  const { v, publishContext } = await publishedVolume(ctx, tag);
  const { staging, target } = paths(ctx, tag);
  if (targetExists) {
    if (ctx.params.accessType === 'block') writeFileSync(target, '');
    else mkdirSync(target);
  }
  const stage = {
    volume_id: v.volume_id,
    staging_target_path: staging,
    volume_capability: capFor(ctx),
    publish_context: publishContext,
    volume_context: v.volume_context,
  };
  const publish = { ...stage, target_path: target };
  ctx.defer(() =>
    ctx.client.node('NodeUnstageVolume', { volume_id: v.volume_id, staging_target_path: staging }),
  );
  ctx.defer(() =>
    ctx.client.node('NodeUnpublishVolume', { volume_id: v.volume_id, target_path: target }),
  );
  await expectOk(ctx.client.node('NodeStageVolume', stage), 'stage');
  await expectOk(ctx.client.node('NodePublishVolume', publish), 'publish');
  return { v, staging, target, publish };
}

export const nodePathCases: Case[] = [
  {
    group: 'Node',
    name: 'NodeGetVolumeStats of a path that holds no volume',
    rule: 'NodeGetVolumeStats: a volume_path that does not exist, relative ones included, → NOT_FOUND, for an unknown volume and for a published one alike; INVALID_ARGUMENT is only for empty required fields',
    async run(ctx) {
      await expectCode(
        ctx.client.node('NodeGetVolumeStats', {
          volume_id: 'pvc-5a5a5a5a-0000-4000-8000-000000000000',
          volume_path: RELATIVE,
        }),
        status.NOT_FOUND,
        'unknown volume, relative path',
      );
      const { v } = await publishedOnNode(ctx, 'statsnf');
      for (const volume_path of [RELATIVE, '/path/does/not/exist']) {
        await expectCode(
          ctx.client.node('NodeGetVolumeStats', { volume_id: v.volume_id, volume_path }),
          status.NOT_FOUND,
          `published volume, ${volume_path}`,
        );
      }
    },
  },
  {
    group: 'Node',
    name: 'NodeExpandVolume of a path that holds no volume',
    rule: 'NodeExpandVolume: a volume_path that does not exist, relative ones included, → NOT_FOUND; a missing volume_id or volume_path stays INVALID_ARGUMENT, also for a volume that exists',
    async run(ctx) {
      await expectCode(
        ctx.client.node('NodeExpandVolume', {
          volume_id: 'pvc-5b5b5b5b-0000-4000-8000-000000000000',
          volume_path: RELATIVE,
        }),
        status.NOT_FOUND,
        'unknown volume, relative path',
      );
      const v = await createVolume(ctx, ctx.unique('expandnf'));
      await expectCode(
        ctx.client.node('NodeExpandVolume', {
          volume_id: v.volume_id,
          volume_capability: capFor(ctx),
        }),
        status.INVALID_ARGUMENT,
        'existing volume, no path',
      );
      await expectCode(
        ctx.client.node('NodeExpandVolume', {
          volume_path: ctx.params.targetRoot,
          volume_capability: capFor(ctx),
        }),
        status.INVALID_ARGUMENT,
        'no volume id',
      );
    },
  },
  {
    group: 'Node',
    name: 'NodeExpandVolume after ControllerExpandVolume on a published volume',
    rule: 'NodeExpandVolume: on a published volume whose capacity the controller grew, node expansion at the target path is OK and reports at least the new size',
    async run(ctx) {
      const { v, target } = await publishedOnNode(ctx, 'grownode');
      const want = String(Number(v.capacity_bytes) + GiB);
      await expectOk(
        ctx.client.controller('ControllerExpandVolume', {
          volume_id: v.volume_id,
          capacity_range: { required_bytes: want },
          volume_capability: capFor(ctx),
        }),
        'controller expand',
      );
      const res = await expectOk(
        ctx.client.node<{ capacity_bytes: string }>('NodeExpandVolume', {
          volume_id: v.volume_id,
          volume_path: target,
          capacity_range: { required_bytes: want },
          volume_capability: capFor(ctx),
        }),
        'node expand',
      );
      assert.ok(Number(res.capacity_bytes) >= Number(want), `capacity ${res.capacity_bytes}`);
    },
  },
  {
    group: 'Node',
    name: 'NodePublishVolume at a target path that already exists',
    rule: 'NodePublishVolume: a target_path the CO created beforehand (a directory for mount, a file for block) is used as is; publishing again is OK',
    async run(ctx) {
      const { publish } = await publishedOnNode(ctx, 'pretarget', true);
      await expectOk(ctx.client.node('NodePublishVolume', publish), 'publish again');
      const stats = await ctx.client.node<{ usage: { unit: string; total: string }[] }>(
        'NodeGetVolumeStats',
        { volume_id: publish.volume_id, volume_path: publish.target_path },
      );
      assert.ok(stats.usage.length > 0, 'the published volume reports usage');
    },
  },
  {
    group: 'Node',
    name: 'NodeUnpublishVolume removes the target path',
    rule: 'NodeUnpublishVolume: the plugin deletes the file or directory at target_path (the CO does not); a second call is OK',
    async run(ctx) {
      const { v, target } = await publishedOnNode(ctx, 'rmtarget');
      assert.ok(existsSync(target), 'the target exists while published');
      const req = { volume_id: v.volume_id, target_path: target };
      await expectOk(ctx.client.node('NodeUnpublishVolume', req), 'unpublish');
      assert.ok(!existsSync(target), `${target} was removed`);
      await expectOk(ctx.client.node('NodeUnpublishVolume', req), 'unpublish again');
      assert.ok(existsSync(join(target, '..')), 'its parent, which the CO made, stays');
    },
  },
];
