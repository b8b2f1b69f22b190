import t from 'tap';
import { FakeRds } from '../../fakes/routeros';
import { codeOf, status } from '../../helpers/csi';
import { GiB, MiB } from '../../../src/domain/sizes';
import { volumeIdFromName } from '../../../src/domain/ids';
import { InternalError } from '../../../src/domain/errors';
import { DENY_ALL_HOST_NQN } from '../../../src/domain/attachment';
import {
  BASE,
  BLOCK_RWO,
  BLOCK_RWX,
  MOUNT_RWO,
  PVC,
  createReq,
  startController,
  type VolumeRes,
} from './harness';

t.test('happy path: id, size, context, topology, disk and file on the RDS', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  const res = await c<VolumeRes>(
    'CreateVolume',
    createReq(PVC, {
      capacity_range: { required_bytes: String(1.5 * GiB + 1) },
      parameters: {
        'csi.storage.k8s.io/pvc/name': 'data',
        'csi.storage.k8s.io/pvc/namespace': 'apps',
        'csi.storage.k8s.io/pv/name': PVC,
      },
    }),
  );
  t.equal(res.volume.volume_id, PVC);
  t.equal(res.volume.capacity_bytes, String(1.5 * GiB + MiB), 'rounded up to whole MiB');
  t.same(res.volume.volume_context, {
    nqn: `nqn.2000-02.com.mikrotik:${PVC}`,
    traddr: '10.0.0.5',
    trsvcid: '4420',
    fsType: 'ext4',
    migrationTimeoutSeconds: '300',
    hostFencing: 'false',
    'csi.storage.k8s.io/pvc/name': 'data',
    'csi.storage.k8s.io/pvc/namespace': 'apps',
  });
  t.same(res.volume.accessible_topology, [{ segments: { 'rds-csi.dev/rds': 'rds-a' } }]);
  const disk = rds.disks.get(PVC);
  t.equal(disk?.filePath, `${BASE}/${PVC}.rdscsi.img`);
  t.equal(disk?.nvmeExport, true);
  t.same(disk?.allowedHosts, [], 'not fenced: any host may connect');
  t.equal(rds.fileTable.size, 1);
});

t.test('block volume has no fsType; defaults to the minimum size', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  const res = await c<VolumeRes>('CreateVolume', {
    name: 'sanity-block',
    volume_capabilities: [BLOCK_RWX],
    parameters: { nvmePort: '4421', poolPath: `${BASE}/fast`, hostFencing: 'true' },
  });
  const id = volumeIdFromName('sanity-block');
  t.equal(res.volume.volume_id, id);
  t.equal(res.volume.capacity_bytes, String(GiB));
  t.equal(res.volume.volume_context.fsType, undefined);
  t.equal(res.volume.volume_context.trsvcid, '4421');
  t.equal(res.volume.volume_context.hostFencing, 'true');
  t.equal(rds.disks.get(id)?.filePath, `${BASE}/fast/${id}.rdscsi.img`);
  t.same(
    rds.disks.get(id)?.allowedHosts,
    [DENY_ALL_HOST_NQN],
    'fenced: nobody may connect before the first publish',
  );
});

t.test('idempotent retries and ALREADY_EXISTS', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  const req = createReq(PVC, { capacity_range: { required_bytes: String(2 * GiB) } });
  const a = await c<VolumeRes>('CreateVolume', req);
  const b = await c<VolumeRes>('CreateVolume', req);
  t.same(b, a, 'same volume on retry');
  t.equal(rds.calls.filter((x) => x.method === 'create').length, 1, 'created once');
  t.equal(
    await codeOf(
      c('CreateVolume', createReq(PVC, { capacity_range: { required_bytes: String(3 * GiB) } })),
    ),
    status.ALREADY_EXISTS,
    'bigger size',
  );
  t.equal(
    await codeOf(
      c('CreateVolume', createReq(PVC, { capacity_range: { limit_bytes: String(GiB) } })),
    ),
    status.ALREADY_EXISTS,
    'limit below the existing size',
  );
  t.equal(
    await codeOf(c('CreateVolume', createReq(PVC, { parameters: { nvmePort: '4500' } }))),
    status.ALREADY_EXISTS,
    'other port',
  );
  t.equal(
    await codeOf(c('CreateVolume', createReq(PVC, { parameters: { poolPath: `${BASE}/x` } }))),
    status.ALREADY_EXISTS,
    'other pool',
  );
  t.equal(await codeOf(c('CreateVolume', createReq(PVC))), 'OK', 'no range is compatible');
});

t.test('INVALID_ARGUMENT before any RouterOS command', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  const cases: [string, Record<string, unknown>, RegExp?][] = [
    ['no name', { volume_capabilities: [MOUNT_RWO] }],
    ['no capabilities', { name: PVC }],
    [
      'capability without access type',
      { name: PVC, volume_capabilities: [{ access_mode: { mode: 'SINGLE_NODE_WRITER' } }] },
    ],
    [
      'mount RWX',
      {
        name: PVC,
        volume_capabilities: [{ access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' }, mount: {} }],
      },
      /raw block/,
    ],
    ['unknown parameter', createReq(PVC, { parameters: { colour: 'blue' } }), /"colour"/],
    [
      'bad fs',
      createReq(PVC, { volume_capabilities: [{ ...MOUNT_RWO, mount: { fs_type: 'btrfs' } }] }),
      /btrfs/,
    ],
    [
      'fs conflict',
      createReq(PVC, {
        parameters: { fsType: 'xfs' },
        volume_capabilities: [{ ...MOUNT_RWO, mount: { fs_type: 'ext4' } }],
      }),
      /conflicts/,
    ],
    ['negative size', createReq(PVC, { capacity_range: { required_bytes: '-5' } })],
  ];
  for (const [what, req, msg] of cases) {
    const err = await c('CreateVolume', req).then(
      () => undefined,
      (e: { code: number; details: string }) => e,
    );
    t.equal(err?.code, status.INVALID_ARGUMENT, what);
    if (msg) t.match(err?.details, msg, what);
  }
  t.same(rds.calls, [], 'nothing reached the RDS');
});

t.test('OUT_OF_RANGE', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  const range = (r: Record<string, string>): Promise<unknown> =>
    c('CreateVolume', createReq(PVC, { capacity_range: r }));
  t.equal(
    await codeOf(range({ required_bytes: String(2 * GiB), limit_bytes: String(GiB) })),
    status.OUT_OF_RANGE,
  );
  t.equal(
    await codeOf(range({ limit_bytes: String(100 * MiB) })),
    status.OUT_OF_RANGE,
    'below the minimum',
  );
  t.equal(await codeOf(range({ required_bytes: '9007199254740993' })), status.OUT_OF_RANGE);
  t.equal(await codeOf(range({ required_bytes: '9223372036854775807' })), status.OUT_OF_RANGE);
  t.equal(rds.disks.size, 0);
});

t.test('RESOURCE_EXHAUSTED: no space, or a topology this RDS is not in', async (t) => {
  const rds = new FakeRds({ quotaBytes: 4 * GiB });
  const { c } = await startController(t, rds);
  t.equal(
    await codeOf(
      c('CreateVolume', createReq(PVC, { capacity_range: { required_bytes: String(8 * GiB) } })),
    ),
    status.RESOURCE_EXHAUSTED,
  );
  t.same(rds.orphanFiles(), []);
  t.equal(
    await codeOf(
      c(
        'CreateVolume',
        createReq(PVC, {
          accessibility_requirements: { requisite: [{ segments: { 'rds-csi.dev/rds': 'other' } }] },
        }),
      ),
    ),
    status.RESOURCE_EXHAUSTED,
  );
  t.equal(
    await codeOf(
      c(
        'CreateVolume',
        createReq(PVC, {
          accessibility_requirements: { requisite: [{ segments: { 'rds-csi.dev/rds': 'rds-a' } }] },
        }),
      ),
    ),
    'OK',
  );
});

t.test('lost reply after the disk was made: the retry adopts it', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  rds.inject('create', { when: 'after' });
  t.equal(await codeOf(c('CreateVolume', createReq(PVC))), status.UNAVAILABLE);
  t.ok(rds.disks.has(PVC), 'the disk was made');
  const res = await c<VolumeRes>('CreateVolume', createReq(PVC));
  t.equal(res.volume.volume_id, PVC);
  t.equal(rds.disks.size, 1);
  t.same(rds.orphanFiles(), []);
});

t.test('a leftover image without a disk is removed and the create goes through', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  rds.putFile(`${BASE}/${PVC}.rdscsi.img`, 5 * GiB);
  const res = await c<VolumeRes>('CreateVolume', createReq(PVC));
  t.equal(res.volume.capacity_bytes, String(GiB));
  t.equal(rds.fileTable.get(`${BASE}/${PVC}.rdscsi.img`)?.size, GiB);
  t.same(rds.orphanFiles(), []);
});

t.test('a failed add that left its file behind is cleaned up', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  rds.inject('create', { when: 'partial', error: new InternalError('/disk add failed') });
  t.equal(await codeOf(c('CreateVolume', createReq(PVC))), status.INTERNAL);
  t.same(rds.orphanFiles(), [], 'the file was removed');
});

t.test('capabilities list and an unimplemented RPC', async (t) => {
  const { c } = await startController(t, new FakeRds());
  const res = await c<{ capabilities: { rpc: { type: string } }[] }>('ControllerGetCapabilities');
  const types = res.capabilities.map((x) => x.rpc.type);
  for (const want of [
    'CREATE_DELETE_VOLUME',
    'PUBLISH_UNPUBLISH_VOLUME',
    'LIST_VOLUMES',
    'LIST_VOLUMES_PUBLISHED_NODES',
    'GET_CAPACITY',
    'EXPAND_VOLUME',
    'CREATE_DELETE_SNAPSHOT',
    'LIST_SNAPSHOTS',
    'CLONE_VOLUME',
    'GET_VOLUME',
    'VOLUME_CONDITION',
    'SINGLE_NODE_MULTI_WRITER',
  ]) {
    t.ok(types.includes(want), want);
  }
  t.notOk(types.includes('GET_SNAPSHOT'), 'the alpha GET_SNAPSHOT only on request');
  t.equal(await codeOf(c('ControllerModifyVolume', { volume_id: PVC })), status.UNIMPLEMENTED);
  t.ok(BLOCK_RWO);
});

t.test('GET_SNAPSHOT is advertised when configured; GetSnapshot answers either way', async (t) => {
  for (const advertiseGetSnapshot of [false, true]) {
    const { c } = await startController(t, new FakeRds(), { config: { advertiseGetSnapshot } });
    const res = await c<{ capabilities: { rpc: { type: string } }[] }>('ControllerGetCapabilities');
    const types = res.capabilities.map((x) => x.rpc.type);
    t.equal(
      types.includes('GET_SNAPSHOT'),
      advertiseGetSnapshot,
      `advertised=${advertiseGetSnapshot}`,
    );
    t.equal(await codeOf(c('GetSnapshot', { snapshot_id: 'snap-missing' })), status.NOT_FOUND);
    t.equal(await codeOf(c('GetSnapshot', {})), status.INVALID_ARGUMENT);
  }
});
