import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { Case } from './framework';
import { expectCode, expectOk } from './framework';
import { blockCap, capFor, createVolume, mountCap, type CreatedVolume } from './objects';

const GiB = 1024 ** 3;

/** Controller capabilities of CSI 1.11, which released consumers know (value 1 to 13). */
const RELEASED_CONTROLLER_CAPABILITIES = [
  'CREATE_DELETE_VOLUME',
  'PUBLISH_UNPUBLISH_VOLUME',
  'LIST_VOLUMES',
  'GET_CAPACITY',
  'CREATE_DELETE_SNAPSHOT',
  'LIST_SNAPSHOTS',
  'CLONE_VOLUME',
  'PUBLISH_READONLY',
  'EXPAND_VOLUME',
  'LIST_VOLUMES_PUBLISHED_NODES',
  'VOLUME_CONDITION',
  'GET_VOLUME',
  'SINGLE_NODE_MULTI_WRITER',
];

export const controllerCases: Case[] = [
  {
    group: 'Controller',
    name: 'ControllerGetCapabilities lists only capabilities released consumers know',
    rule: 'ControllerGetCapabilities: every capability is a known RPC type other than UNKNOWN; the alpha GET_SNAPSHOT (CSI 1.12) only when the operator opted in, because released csi-sanity and sidecars fail on values they do not know',
    async run({ client, params }) {
      const res = await client.controller<{ capabilities: { rpc: { type: string } }[] }>(
        'ControllerGetCapabilities',
      );
      const types = res.capabilities.map((c) => c.rpc.type);
      assert.ok(types.includes('CREATE_DELETE_VOLUME'));
      const known = params.getSnapshotAdvertised
        ? [...RELEASED_CONTROLLER_CAPABILITIES, 'GET_SNAPSHOT']
        : RELEASED_CONTROLLER_CAPABILITIES;
      for (const t of types) assert.ok(known.includes(t), `capability ${t}`);
      assert.equal(new Set(types).size, types.length, 'each capability once');
      assert.equal(types.includes('GET_SNAPSHOT'), params.getSnapshotAdvertised === true);
    },
  },
  {
    group: 'Controller',
    name: 'CreateVolume without a name',
    rule: 'CreateVolume: name is REQUIRED; a missing required field is INVALID_ARGUMENT',
    async run(ctx) {
      await expectCode(
        ctx.client.controller('CreateVolume', { volume_capabilities: [capFor(ctx)] }),
        status.INVALID_ARGUMENT,
        'no name',
      );
    },
  },
  {
    group: 'Controller',
    name: 'CreateVolume without capabilities',
    rule: 'CreateVolume: volume_capabilities is REQUIRED → INVALID_ARGUMENT',
    async run(ctx) {
      await expectCode(
        ctx.client.controller('CreateVolume', { name: ctx.unique('nocap') }),
        status.INVALID_ARGUMENT,
        'no capabilities',
      );
      await expectCode(
        ctx.client.controller('CreateVolume', {
          name: ctx.unique('nomode'),
          volume_capabilities: [{ mount: {} }],
        }),
        status.INVALID_ARGUMENT,
        'capability without access_mode',
      );
    },
  },
  {
    group: 'Controller',
    name: 'CreateVolume with an impossible capacity range',
    rule: 'CreateVolume: a capacity range the plugin cannot satisfy is OUT_OF_RANGE',
    async run(ctx) {
      await expectCode(
        ctx.client.controller('CreateVolume', {
          name: ctx.unique('range'),
          capacity_range: { required_bytes: String(2 * GiB), limit_bytes: String(GiB) },
          volume_capabilities: [capFor(ctx)],
          parameters: ctx.params.parameters,
        }),
        status.OUT_OF_RANGE,
        'limit below required',
      );
      await expectCode(
        ctx.client.controller('CreateVolume', {
          name: ctx.unique('tiny'),
          capacity_range: { limit_bytes: '1024' },
          volume_capabilities: [capFor(ctx)],
          parameters: ctx.params.parameters,
        }),
        status.OUT_OF_RANGE,
        'limit below the minimum volume size',
      );
    },
  },
  {
    group: 'Controller',
    name: 'CreateVolume is idempotent by name',
    rule: 'CreateVolume: a second call with the same name and compatible parameters returns the same volume with OK',
    async run(ctx) {
      const name = ctx.unique('idem');
      const a = await createVolume(ctx, name);
      const b = await createVolume(ctx, name);
      assert.equal(b.volume_id, a.volume_id);
      assert.equal(b.capacity_bytes, a.capacity_bytes);
      assert.deepEqual(b.volume_context, a.volume_context);
      assert.ok(
        Number(a.capacity_bytes) >= ctx.params.sizeBytes,
        'capacity at least the requested size',
      );
    },
  },
  {
    group: 'Controller',
    name: 'CreateVolume with the same name and a different size',
    rule: 'CreateVolume: a volume with this name exists but is incompatible with the request → ALREADY_EXISTS',
    async run(ctx) {
      const name = ctx.unique('conflict');
      await createVolume(ctx, name);
      await expectCode(
        ctx.client.controller('CreateVolume', {
          name,
          capacity_range: {
            required_bytes: String(ctx.params.sizeBytes * 4),
            limit_bytes: String(ctx.params.sizeBytes * 4),
          },
          volume_capabilities: [capFor(ctx)],
          parameters: ctx.params.parameters,
        }),
        status.ALREADY_EXISTS,
        'different size',
      );
    },
  },
  {
    group: 'Controller',
    name: 'CreateVolume from a missing source',
    rule: 'CreateVolume: a volume_content_source that does not exist → NOT_FOUND',
    async run(ctx) {
      for (const source of [
        { snapshot: { snapshot_id: 'snap-does-not-exist' } },
        { volume: { volume_id: 'pvc-00000000-0000-0000-0000-000000000000' } },
      ]) {
        await expectCode(
          ctx.client.controller('CreateVolume', {
            name: ctx.unique('nosrc'),
            capacity_range: { required_bytes: String(ctx.params.sizeBytes) },
            volume_capabilities: [capFor(ctx)],
            parameters: ctx.params.parameters,
            volume_content_source: source,
          }),
          status.NOT_FOUND,
          JSON.stringify(source),
        );
      }
    },
  },
  {
    group: 'Controller',
    name: 'CreateVolume clones a volume',
    rule: 'CreateVolume: with a volume content source, the new volume reports that source',
    async run(ctx) {
      const src = await createVolume(ctx, ctx.unique('src'));
      const clone = await createVolume(ctx, ctx.unique('clone'), {
        volume_content_source: { volume: { volume_id: src.volume_id } },
      });
      assert.notEqual(clone.volume_id, src.volume_id);
      assert.equal(
        (clone.content_source as { volume?: { volume_id: string } } | undefined)?.volume?.volume_id,
        src.volume_id,
      );
      assert.ok(Number(clone.capacity_bytes) >= Number(src.capacity_bytes));
    },
  },
  {
    group: 'Controller',
    name: 'DeleteVolume argument errors and idempotency',
    rule: 'DeleteVolume: volume_id is REQUIRED (INVALID_ARGUMENT); deleting a volume that does not exist is OK',
    async run(ctx) {
      await expectCode(
        ctx.client.controller('DeleteVolume', {}),
        status.INVALID_ARGUMENT,
        'no volume_id',
      );
      await expectOk(
        ctx.client.controller('DeleteVolume', {
          volume_id: 'pvc-11111111-2222-3333-4444-555555555555',
        }),
        'unknown id',
      );
      const v = await createVolume(ctx, ctx.unique('del'));
      await expectOk(
        ctx.client.controller('DeleteVolume', { volume_id: v.volume_id }),
        'first delete',
      );
      await expectOk(
        ctx.client.controller('DeleteVolume', { volume_id: v.volume_id }),
        'second delete',
      );
    },
  },
  {
    group: 'Controller',
    name: 'ValidateVolumeCapabilities',
    rule: 'ValidateVolumeCapabilities: volume_id and volume_capabilities are REQUIRED; unknown volume → NOT_FOUND; supported capabilities are confirmed, unsupported ones are not',
    async run(ctx) {
      await expectCode(
        ctx.client.controller('ValidateVolumeCapabilities', { volume_capabilities: [capFor(ctx)] }),
        status.INVALID_ARGUMENT,
        'no id',
      );
      const v = await createVolume(ctx, ctx.unique('vvc'));
      await expectCode(
        ctx.client.controller('ValidateVolumeCapabilities', { volume_id: v.volume_id }),
        status.INVALID_ARGUMENT,
        'no caps',
      );
      await expectCode(
        ctx.client.controller('ValidateVolumeCapabilities', {
          volume_id: 'pvc-99999999-9999-9999-9999-999999999999',
          volume_capabilities: [capFor(ctx)],
        }),
        status.NOT_FOUND,
        'unknown volume',
      );
      const ok = await ctx.client.controller<{
        confirmed: { volume_capabilities: unknown[] } | null;
      }>('ValidateVolumeCapabilities', {
        volume_id: v.volume_id,
        volume_capabilities: [capFor(ctx)],
      });
      assert.ok(
        ok.confirmed && ok.confirmed.volume_capabilities.length === 1,
        'supported capability confirmed',
      );
      const rwxMount = await ctx.client.controller<{ confirmed: unknown; message: string }>(
        'ValidateVolumeCapabilities',
        {
          volume_id: v.volume_id,
          volume_capabilities: [mountCap('MULTI_NODE_MULTI_WRITER')],
        },
      );
      assert.equal(rwxMount.confirmed, null, 'multi-writer filesystem is not confirmed');
      assert.ok(rwxMount.message.length > 0, 'and the plugin says why');
    },
  },
  {
    group: 'Controller',
    name: 'ListVolumes pages with max_entries and tokens',
    rule: 'ListVolumes: at most max_entries entries; next_token continues the listing; an invalid starting_token → ABORTED; negative max_entries → INVALID_ARGUMENT',
    async run(ctx) {
      const created = new Set<string>();
      for (let i = 0; i < 5; i++)
        created.add((await createVolume(ctx, ctx.unique('list'))).volume_id);
      const seen: string[] = [];
      let token = '';
      for (let page = 0; page < 1000; page++) {
        const res = await ctx.client.controller<{
          entries: { volume: CreatedVolume }[];
          next_token: string;
        }>('ListVolumes', {
          max_entries: 2,
          starting_token: token,
        });
        assert.ok(res.entries.length <= 2, 'page size respected');
        seen.push(...res.entries.map((e) => e.volume.volume_id));
        token = res.next_token;
        if (!token) break;
      }
      for (const id of created) assert.ok(seen.includes(id), `${id} listed`);
      assert.equal(new Set(seen).size, seen.length, 'no volume listed twice');
      await expectCode(
        ctx.client.controller('ListVolumes', { starting_token: 'not-a-token' }),
        status.ABORTED,
        'bad token',
      );
      await expectCode(
        ctx.client.controller('ListVolumes', { max_entries: -1 }),
        status.INVALID_ARGUMENT,
        'negative max_entries',
      );
    },
  },
  {
    group: 'Controller',
    name: 'GetCapacity reports the pool',
    rule: 'GetCapacity: available_capacity is the space available for new volumes with the given parameters',
    async run(ctx) {
      const res = await ctx.client.controller<{
        available_capacity: string;
        maximum_volume_size: { value: string } | null;
      }>('GetCapacity', {
        volume_capabilities: [capFor(ctx)],
        parameters: ctx.params.parameters,
      });
      assert.ok(Number(res.available_capacity) > 0);
      if (res.maximum_volume_size) assert.ok(Number(res.maximum_volume_size.value) > 0);
    },
  },
  {
    group: 'Controller',
    name: 'MULTI_NODE_MULTI_WRITER only for block volumes',
    rule: 'CreateVolume: a capability the plugin does not support is INVALID_ARGUMENT (a shared filesystem on two nodes would corrupt it)',
    async run(ctx) {
      await expectCode(
        ctx.client.controller('CreateVolume', {
          name: ctx.unique('rwxfs'),
          capacity_range: { required_bytes: String(ctx.params.sizeBytes) },
          volume_capabilities: [mountCap('MULTI_NODE_MULTI_WRITER')],
          parameters: ctx.params.parameters,
        }),
        status.INVALID_ARGUMENT,
        'RWX mount',
      );
      const v = await createVolume(ctx, ctx.unique('rwxblock'), {
        volume_capabilities: [blockCap('MULTI_NODE_MULTI_WRITER')],
      });
      assert.ok(v.volume_id);
    },
  },
  {
    group: 'Controller',
    name: 'ControllerExpandVolume',
    rule: 'ControllerExpandVolume: volume_id and capacity_range are REQUIRED; unknown volume → NOT_FOUND; the new capacity is at least the requested bytes; node expansion is required for filesystems',
    async run(ctx) {
      await expectCode(
        ctx.client.controller('ControllerExpandVolume', {
          capacity_range: { required_bytes: '1' },
        }),
        status.INVALID_ARGUMENT,
        'no id',
      );
      const v = await createVolume(ctx, ctx.unique('grow'));
      await expectCode(
        ctx.client.controller('ControllerExpandVolume', { volume_id: v.volume_id }),
        status.INVALID_ARGUMENT,
        'no range',
      );
      await expectCode(
        ctx.client.controller('ControllerExpandVolume', {
          volume_id: 'pvc-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
          capacity_range: { required_bytes: String(2 * GiB) },
        }),
        status.NOT_FOUND,
        'unknown volume',
      );
      const want = Number(v.capacity_bytes) * 2;
      const res = await ctx.client.controller<{
        capacity_bytes: string;
        node_expansion_required: boolean;
      }>('ControllerExpandVolume', {
        volume_id: v.volume_id,
        capacity_range: { required_bytes: String(want) },
        volume_capability: capFor(ctx),
      });
      assert.ok(Number(res.capacity_bytes) >= want);
      assert.equal(res.node_expansion_required, ctx.params.accessType === 'mount');
    },
  },
  {
    group: 'Controller',
    name: 'ControllerGetVolume',
    rule: 'ControllerGetVolume: volume_id is REQUIRED; unknown volume → NOT_FOUND; a known volume is returned with its status',
    async run(ctx) {
      await expectCode(
        ctx.client.controller('ControllerGetVolume', {}),
        status.INVALID_ARGUMENT,
        'no id',
      );
      await expectCode(
        ctx.client.controller('ControllerGetVolume', {
          volume_id: 'pvc-bbbbbbbb-bbbb-cccc-dddd-eeeeeeeeeeee',
        }),
        status.NOT_FOUND,
        'unknown',
      );
      const v = await createVolume(ctx, ctx.unique('get'));
      const res = await ctx.client.controller<{
        volume: CreatedVolume;
        status: { published_node_ids: string[]; volume_condition: { abnormal: boolean } | null };
      }>('ControllerGetVolume', { volume_id: v.volume_id });
      assert.equal(res.volume.volume_id, v.volume_id);
      assert.deepEqual(res.status.published_node_ids, []);
      assert.equal(res.status.volume_condition?.abnormal ?? false, false);
    },
  },
];
