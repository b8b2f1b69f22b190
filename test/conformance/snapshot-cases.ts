import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { Case } from './framework';
import { expectCode, expectOk } from './framework';
import { createSnapshot, createVolume, type CreatedSnapshot } from './objects';

type ListRes = { entries: { snapshot: CreatedSnapshot }[]; next_token: string };

export const snapshotCases: Case[] = [
  {
    group: 'Snapshots',
    name: 'CreateSnapshot argument errors',
    rule: 'CreateSnapshot: name and source_volume_id are REQUIRED (INVALID_ARGUMENT); a source that does not exist → NOT_FOUND',
    async run(ctx) {
      await expectCode(
        ctx.client.controller('CreateSnapshot', { source_volume_id: 'pvc-1' }),
        status.INVALID_ARGUMENT,
        'no name',
      );
      await expectCode(
        ctx.client.controller('CreateSnapshot', { name: ctx.unique('s') }),
        status.INVALID_ARGUMENT,
        'no source',
      );
      await expectCode(
        ctx.client.controller('CreateSnapshot', {
          name: ctx.unique('s'),
          source_volume_id: 'pvc-cccccccc-bbbb-cccc-dddd-eeeeeeeeeeee',
        }),
        status.NOT_FOUND,
        'unknown source',
      );
    },
  },
  {
    group: 'Snapshots',
    name: 'CreateSnapshot is idempotent by name',
    rule: 'CreateSnapshot: the same name and source returns the same snapshot; the same name with another source → ALREADY_EXISTS',
    async run(ctx) {
      const a = await createVolume(ctx, ctx.unique('snapsrc'));
      const b = await createVolume(ctx, ctx.unique('snapsrc'));
      const name = ctx.unique('snap');
      const s1 = await createSnapshot(ctx, name, a.volume_id);
      const s2 = await createSnapshot(ctx, name, a.volume_id);
      assert.equal(s2.snapshot_id, s1.snapshot_id);
      assert.equal(s1.source_volume_id, a.volume_id);
      assert.equal(s1.ready_to_use, true);
      assert.ok(Number(s1.size_bytes) > 0);
      assert.ok(s1.creation_time && Number(s1.creation_time.seconds) > 0, 'creation time recorded');
      assert.deepEqual(s2.creation_time, s1.creation_time, 'same creation time on retry');
      await expectCode(
        ctx.client.controller('CreateSnapshot', { name, source_volume_id: b.volume_id }),
        status.ALREADY_EXISTS,
        'other source',
      );
    },
  },
  {
    group: 'Snapshots',
    name: 'DeleteSnapshot argument errors and idempotency',
    rule: 'DeleteSnapshot: snapshot_id is REQUIRED; deleting a snapshot that does not exist is OK',
    async run(ctx) {
      await expectCode(
        ctx.client.controller('DeleteSnapshot', {}),
        status.INVALID_ARGUMENT,
        'no id',
      );
      await expectOk(
        ctx.client.controller('DeleteSnapshot', { snapshot_id: 'snap-doesnotexist' }),
        'unknown',
      );
    },
  },
  {
    group: 'Snapshots',
    name: 'ListSnapshots filters by id and source and pages',
    rule: 'ListSnapshots: snapshot_id filters to that snapshot (none when unknown); source_volume_id filters by source; max_entries/next_token page',
    async run(ctx) {
      const v = await createVolume(ctx, ctx.unique('lsrc'));
      const other = await createVolume(ctx, ctx.unique('lsrc'));
      const mine = [];
      for (let i = 0; i < 3; i++)
        mine.push(await createSnapshot(ctx, ctx.unique('ls'), v.volume_id));
      const foreign = await createSnapshot(ctx, ctx.unique('ls'), other.volume_id);

      const byId = await ctx.client.controller<ListRes>('ListSnapshots', {
        snapshot_id: mine[0]!.snapshot_id,
      });
      assert.deepEqual(
        byId.entries.map((e) => e.snapshot.snapshot_id),
        [mine[0]!.snapshot_id],
      );
      const none = await ctx.client.controller<ListRes>('ListSnapshots', {
        snapshot_id: 'snap-unknown',
      });
      assert.equal(none.entries.length, 0);

      const seen: string[] = [];
      let token = '';
      for (let i = 0; i < 100; i++) {
        const page = await ctx.client.controller<ListRes>('ListSnapshots', {
          source_volume_id: v.volume_id,
          max_entries: 2,
          starting_token: token,
        });
        assert.ok(page.entries.length <= 2);
        for (const e of page.entries) assert.equal(e.snapshot.source_volume_id, v.volume_id);
        seen.push(...page.entries.map((e) => e.snapshot.snapshot_id));
        token = page.next_token;
        if (!token) break;
      }
      assert.deepEqual([...seen].sort(), mine.map((s) => s.snapshot_id).sort());
      assert.ok(!seen.includes(foreign.snapshot_id));
      await expectCode(
        ctx.client.controller('ListSnapshots', { starting_token: 'garbage' }),
        status.ABORTED,
        'bad token',
      );
    },
  },
  {
    group: 'Snapshots',
    name: 'Restore a snapshot into a new volume',
    rule: 'CreateVolume: with a snapshot content source, the new volume reports that source and is at least the snapshot size',
    async run(ctx) {
      const v = await createVolume(ctx, ctx.unique('rsrc'));
      const s = await createSnapshot(ctx, ctx.unique('rs'), v.volume_id);
      const restored = await createVolume(ctx, ctx.unique('restored'), {
        volume_content_source: { snapshot: { snapshot_id: s.snapshot_id } },
      });
      assert.equal(
        (restored.content_source as { snapshot?: { snapshot_id: string } } | undefined)?.snapshot
          ?.snapshot_id,
        s.snapshot_id,
      );
      assert.ok(Number(restored.capacity_bytes) >= Number(s.size_bytes));
    },
  },
];
