/**
 * Controller cases on volume names, sizes and listings: the limits a CO relies on (name
 * length, optional fields) and that listings track creates and deletes.
 */
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { Case, CaseContext } from './framework';
import { expectCode, expectOk } from './framework';
import { createVolume, MAX_NAME_LENGTH, maxLengthName, type CreatedVolume } from './objects';

const GiB = 1024 ** 3;

type ListRes = { entries: { volume: CreatedVolume }[]; next_token: string };

/** Every volume id of one unpaged ListVolumes call; asserts it was one page. */
async function listAll(ctx: CaseContext): Promise<string[]> {
  const res = await ctx.client.controller<ListRes>('ListVolumes', {});
  assert.equal(res.next_token, '', 'without max_entries every entry is in one response');
  for (const e of res.entries) assert.ok(e.volume.volume_id, 'every entry has a volume_id');
  return res.entries.map((e) => e.volume.volume_id);
}

export const volumeCases: Case[] = [
  {
    group: 'Controller',
    name: 'CreateVolume with a name of maximum length',
    rule: 'CreateVolume: a name of 128 characters is accepted, and a repeated call with it returns the same volume',
    async run(ctx) {
      const name = maxLengthName(ctx, 'maxlen');
      assert.equal(name.length, MAX_NAME_LENGTH);
      const a = await createVolume(ctx, name);
      const b = await createVolume(ctx, name);
      assert.equal(b.volume_id, a.volume_id);
      assert.ok(Number(a.capacity_bytes) >= ctx.params.sizeBytes);
    },
  },
  {
    group: 'Controller',
    name: 'CreateVolume without a capacity range',
    rule: 'CreateVolume: capacity_range is OPTIONAL; without it the plugin chooses the size and reports it in capacity_bytes',
    async run(ctx) {
      const v = await createVolume(ctx, ctx.unique('nocap'), { capacity_range: null });
      assert.ok(Number(v.capacity_bytes) > 0, 'a size was chosen and reported');
    },
  },
  {
    group: 'Controller',
    name: 'ListVolumes shows new volumes and drops deleted ones',
    rule: 'ListVolumes: without max_entries all volumes come in one response without next_token; a created volume is listed and a deleted one no longer is',
    async run(ctx) {
      const before = await listAll(ctx);
      const v = await createVolume(ctx, ctx.unique('listed'));
      assert.ok(!before.includes(v.volume_id), 'not listed before it was created');
      assert.ok((await listAll(ctx)).includes(v.volume_id), 'listed after create');
      await expectOk(ctx.client.controller('DeleteVolume', { volume_id: v.volume_id }), 'delete');
      assert.ok(!(await listAll(ctx)).includes(v.volume_id), 'not listed after delete');
      await expectCode(
        ctx.client.controller('ControllerGetVolume', { volume_id: v.volume_id }),
        status.NOT_FOUND,
        'a deleted volume is gone',
      );
    },
  },
  {
    group: 'Controller',
    name: 'GetCapacity without optional fields',
    rule: 'GetCapacity: volume_capabilities, parameters and accessible_topology are OPTIONAL; a request with none of them is OK',
    async run(ctx) {
      const res = await expectOk(
        ctx.client.controller<{ available_capacity: string }>('GetCapacity', {}),
        'empty request',
      );
      assert.ok(Number(res.available_capacity) >= 0);
    },
  },
  {
    group: 'Controller',
    name: 'ControllerExpandVolume to an exact size',
    rule: 'ControllerExpandVolume: with required_bytes equal to limit_bytes the new capacity is exactly that size; a request with neither volume_id nor capacity_range is INVALID_ARGUMENT',
    async run(ctx) {
      await expectCode(
        ctx.client.controller('ControllerExpandVolume', {}),
        status.INVALID_ARGUMENT,
        'empty request',
      );
      const v = await createVolume(ctx, ctx.unique('exact'));
      const want = String(Number(v.capacity_bytes) + GiB);
      const res = await ctx.client.controller<{ capacity_bytes: string }>(
        'ControllerExpandVolume',
        {
          volume_id: v.volume_id,
          capacity_range: { required_bytes: want, limit_bytes: want },
        },
      );
      assert.equal(res.capacity_bytes, want);
    },
  },
];
