/**
 * Conformance-style checks of every Controller RPC through the real gRPC server, the SSH
 * adapters and rds-sim: happy paths, error codes, idempotent retries and paging.
 */
import t from 'tap';
import { codeOf, status } from '../../helpers/csi';
import { MiB } from '../../../src/domain/sizes';
import {
  BASE,
  BLOCK_RWX,
  MOUNT_RWO,
  PVC,
  PVC2,
  createReq,
  pvcName,
  type VolumeRes,
} from '../../unit/controller/harness';
import { rig } from './setup';

interface ListRes {
  entries: { volume: { volume_id: string }; status: { published_node_ids: string[] } }[];
  next_token: string;
}

t.test('volume lifecycle against the simulator', async (t) => {
  const { c, poolFiles } = await rig(t);
  const req = createReq(PVC, { capacity_range: { required_bytes: String(1.5 * MiB + 1) } });
  const v = await c<VolumeRes>('CreateVolume', req);
  t.equal(v.volume.volume_id, PVC);
  t.equal(v.volume.capacity_bytes, String(2 * MiB));
  t.equal(v.volume.volume_context.nqn, `nqn.2000-02.com.mikrotik:${PVC}`);
  t.same(await poolFiles(), [`${BASE}/${PVC}.rdscsi.img`]);
  t.same(await c<VolumeRes>('CreateVolume', req), v, 'idempotent');
  t.equal(
    await codeOf(
      c('CreateVolume', createReq(PVC, { capacity_range: { required_bytes: String(4 * MiB) } })),
    ),
    status.ALREADY_EXISTS,
  );
  t.equal(
    await codeOf(c('CreateVolume', createReq(PVC2, { parameters: { bogus: 'x' } }))),
    status.INVALID_ARGUMENT,
  );
  t.equal(
    await codeOf(
      c(
        'CreateVolume',
        createReq(PVC2, {
          capacity_range: { required_bytes: String(2 * MiB), limit_bytes: String(MiB) },
        }),
      ),
    ),
    status.OUT_OF_RANGE,
  );

  const ex = await c<{ capacity_bytes: string; node_expansion_required: boolean }>(
    'ControllerExpandVolume',
    {
      volume_id: PVC,
      capacity_range: { required_bytes: String(5 * MiB) },
      volume_capability: MOUNT_RWO,
    },
  );
  t.same(ex, { capacity_bytes: String(5 * MiB), node_expansion_required: true });
  t.equal(
    await codeOf(
      c('ControllerExpandVolume', { volume_id: PVC2, capacity_range: { required_bytes: '1' } }),
    ),
    status.NOT_FOUND,
  );

  await c('ControllerPublishVolume', {
    volume_id: PVC,
    node_id: 'node-a',
    volume_capability: MOUNT_RWO,
  });
  t.equal(
    await codeOf(
      c('ControllerPublishVolume', {
        volume_id: PVC,
        node_id: 'node-b',
        volume_capability: MOUNT_RWO,
      }),
    ),
    status.FAILED_PRECONDITION,
  );
  type Get = { status: { published_node_ids: string[]; volume_condition: { abnormal: boolean } } };
  const g = await c<Get>('ControllerGetVolume', { volume_id: PVC });
  t.same(g.status.published_node_ids, ['node-a']);
  t.equal(g.status.volume_condition.abnormal, false);
  t.equal(await codeOf(c('DeleteVolume', { volume_id: PVC })), status.FAILED_PRECONDITION);
  await c('ControllerUnpublishVolume', { volume_id: PVC, node_id: 'node-a' });

  type Cap = { available_capacity: string };
  const cap = await c<Cap>('GetCapacity', {});
  t.ok(Number(cap.available_capacity) > 0);

  await c('DeleteVolume', { volume_id: PVC });
  t.same(await poolFiles(), [], 'disk and file removed');
  t.equal(await codeOf(c('DeleteVolume', { volume_id: PVC })), 'OK');
  t.equal(await codeOf(c('ControllerGetVolume', { volume_id: PVC })), status.NOT_FOUND);
});

t.test(
  'on a fresh RDS: deleting unknown volumes and snapshots is OK, lists are empty',
  async (t) => {
    const { c } = await rig(t);
    t.equal(await codeOf(c('DeleteVolume', { volume_id: PVC })), 'OK');
    t.equal(
      await codeOf(c('DeleteSnapshot', { snapshot_id: 'snap-0123456789abcdef0123456789abcdef' })),
      'OK',
    );
    t.same((await c<ListRes>('ListVolumes', {})).entries, []);
    t.same((await c<{ entries: unknown[] }>('ListSnapshots', {})).entries, []);
    t.equal(
      await codeOf(
        c('ControllerPublishVolume', {
          volume_id: PVC,
          node_id: 'n',
          volume_capability: MOUNT_RWO,
        }),
      ),
      status.NOT_FOUND,
    );
  },
);

t.test('block RWX volume and mount RWX refusal', async (t) => {
  const { c } = await rig(t);
  const v = await c<VolumeRes>('CreateVolume', { name: PVC, volume_capabilities: [BLOCK_RWX] });
  t.equal(v.volume.volume_context.fsType, undefined);
  t.equal(
    await codeOf(
      c('CreateVolume', {
        name: PVC2,
        volume_capabilities: [{ access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' }, mount: {} }],
      }),
    ),
    status.INVALID_ARGUMENT,
  );
});

t.test('ListVolumes pages across 120 volumes on the simulator', async (t) => {
  const { c } = await rig(t);
  const n = 120;
  for (let i = 0; i < n; i += 10) {
    await Promise.all(
      Array.from({ length: 10 }, (_, k) => c('CreateVolume', createReq(pvcName(i + k)))),
    );
  }
  const seen: string[] = [];
  let token = '';
  do {
    const r = await c<ListRes>('ListVolumes', { max_entries: 25, starting_token: token });
    seen.push(...r.entries.map((e) => e.volume.volume_id));
    token = r.next_token;
  } while (token !== '');
  t.equal(seen.length, n);
  t.same(seen, Array.from({ length: n }, (_, i) => pvcName(i)).sort());
  t.equal(await codeOf(c('ListVolumes', { starting_token: 'x' })), status.ABORTED);
});
