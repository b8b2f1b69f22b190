import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { Case } from './framework';
import { expectCode, expectOk } from './framework';
import { createSnapshot, createVolume, maxLengthName, type CreatedSnapshot } from './objects';

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
    rule: 'ListSnapshots: snapshot_id filters to that snapshot (none when unknown, not an error); source_volume_id filters by source (none when unknown); max_entries/next_token page; an invalid starting_token → ABORTED',
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
      const noSource = await ctx.client.controller<ListRes>('ListSnapshots', {
        source_volume_id: 'pvc-5eed0000-0000-4000-8000-000000000000',
      });
      assert.equal(noSource.entries.length, 0, 'an unknown source has no snapshots');

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
  {
    group: 'Snapshots',
    name: 'ListSnapshots shows new snapshots and drops deleted ones',
    rule: 'ListSnapshots: without filters or max_entries all snapshots come in one response; each has snapshot_id, source_volume_id and creation_time; a created snapshot is listed, a deleted one no longer is',
    async run(ctx) {
      const v = await createVolume(ctx, ctx.unique('lssrc'));
      const s = await createSnapshot(ctx, ctx.unique('lsnew'), v.volume_id);
      const ids = async (): Promise<string[]> => {
        const res = await ctx.client.controller<ListRes>('ListSnapshots', {});
        assert.equal(res.next_token, '', 'one response');
        for (const { snapshot: e } of res.entries) {
          assert.ok(e.snapshot_id && e.source_volume_id, `ids of ${JSON.stringify(e)}`);
          assert.ok(e.creation_time && Number(e.creation_time.seconds) > 0, 'creation_time');
        }
        return res.entries.map((e) => e.snapshot.snapshot_id);
      };
      assert.ok((await ids()).includes(s.snapshot_id), 'listed after create');
      await expectOk(
        ctx.client.controller('DeleteSnapshot', { snapshot_id: s.snapshot_id }),
        'delete',
      );
      assert.ok(!(await ids()).includes(s.snapshot_id), 'not listed after delete');
    },
  },
  {
    group: 'Snapshots',
    name: 'ListSnapshots continues from a token without max_entries',
    rule: 'ListSnapshots: a next_token passed as starting_token without max_entries returns all remaining entries at once, none of the first page again',
    async run(ctx) {
      const v = await createVolume(ctx, ctx.unique('pgsrc'));
      // Two snapshots are enough for a full first page of one and a rest of at least one.
      for (let i = 0; i < 2; i++) await createSnapshot(ctx, ctx.unique('pg'), v.volume_id);
      const all = await ctx.client.controller<ListRes>('ListSnapshots', {});
      const first = await ctx.client.controller<ListRes>('ListSnapshots', { max_entries: 1 });
      assert.equal(first.entries.length, 1, 'first page is full');
      assert.ok(first.next_token, 'more entries follow');
      const rest = await ctx.client.controller<ListRes>('ListSnapshots', {
        starting_token: first.next_token,
      });
      assert.equal(rest.next_token, '', 'the rest in one response');
      const ids = (r: ListRes) => r.entries.map((e) => e.snapshot.snapshot_id);
      assert.deepEqual(
        [...ids(first), ...ids(rest)].sort(),
        ids(all).sort(),
        'both pages together are the whole listing',
      );
    },
  },
  {
    group: 'Snapshots',
    name: 'CreateSnapshot with a name of maximum length',
    rule: 'CreateSnapshot: a name of 128 characters is accepted, and a repeated call with it returns the same snapshot',
    async run(ctx) {
      const v = await createVolume(ctx, ctx.unique('maxsrc'));
      const name = maxLengthName(ctx, 'snapmax');
      const a = await createSnapshot(ctx, name, v.volume_id);
      const b = await createSnapshot(ctx, name, v.volume_id);
      assert.equal(b.snapshot_id, a.snapshot_id);
    },
  },
  {
    group: 'Snapshots',
    name: 'GetSnapshot answers whether or not it is advertised',
    rule: 'GetSnapshot: snapshot_id is REQUIRED (INVALID_ARGUMENT); an unknown snapshot → NOT_FOUND; a snapshot is returned with its source and creation time (the RPC works even while GET_SNAPSHOT is not advertised)',
    async run(ctx) {
      await expectCode(ctx.client.controller('GetSnapshot', {}), status.INVALID_ARGUMENT, 'no id');
      await expectCode(
        ctx.client.controller('GetSnapshot', { snapshot_id: 'snap-does-not-exist' }),
        status.NOT_FOUND,
        'unknown',
      );
      const v = await createVolume(ctx, ctx.unique('getsrc'));
      const s = await createSnapshot(ctx, ctx.unique('get'), v.volume_id);
      const got = await ctx.client.controller<{ snapshot: CreatedSnapshot }>('GetSnapshot', {
        snapshot_id: s.snapshot_id,
      });
      assert.equal(got.snapshot.snapshot_id, s.snapshot_id);
      assert.equal(got.snapshot.source_volume_id, v.volume_id);
      assert.deepEqual(got.snapshot.creation_time, s.creation_time);
    },
  },
];
