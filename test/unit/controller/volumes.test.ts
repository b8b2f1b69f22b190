import t from 'tap';
import { FakeRds } from '../../fakes/routeros';
import { codeOf, status } from '../../helpers/csi';
import { GiB, MiB } from '../../../src/domain/sizes';
import {
  BASE,
  BLOCK_RWO,
  MOUNT_RWO,
  PVC,
  PVC2,
  createReq,
  pvcName,
  startController,
} from './harness';

interface ListRes {
  entries: {
    volume: { volume_id: string; capacity_bytes: string };
    status: {
      published_node_ids: string[];
      volume_condition: { abnormal: boolean; message: string };
    };
  }[];
  next_token: string;
}

t.test('DeleteVolume removes disk and file; unknown ids are OK', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  await c('CreateVolume', createReq(PVC));
  await c('DeleteVolume', { volume_id: PVC });
  t.equal(rds.disks.size, 0);
  t.equal(rds.fileTable.size, 0);
  t.equal(await codeOf(c('DeleteVolume', { volume_id: PVC })), 'OK', 'again');
  t.equal(await codeOf(c('DeleteVolume', { volume_id: 'no such thing; /disk remove' })), 'OK');
  t.equal(await codeOf(c('DeleteVolume', { volume_id: '' })), status.INVALID_ARGUMENT);
  t.notOk(
    rds.calls.some((x) => x.arg.includes('no such')),
    'a foreign id never reached the RDS',
  );
});

t.test('an interrupted delete (disk gone, file kept) is finished by the retry', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  await c('CreateVolume', createReq(PVC, { parameters: { poolPath: `${BASE}/sub` } }));
  await c('CreateVolume', createReq(PVC2));
  rds.inject('delete', { when: 'partial' });
  t.equal(await codeOf(c('DeleteVolume', { volume_id: PVC })), status.UNAVAILABLE);
  t.same(rds.orphanFiles(), [`${BASE}/sub/${PVC}.rdscsi.img`]);
  await c('DeleteVolume', { volume_id: PVC });
  t.same(rds.orphanFiles(), []);
  t.ok(rds.fileTable.has(`${BASE}/${PVC2}.rdscsi.img`), 'other volumes untouched');
});

t.test('a published volume is FAILED_PRECONDITION; snapshots do not block deletion', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  await c('CreateVolume', createReq(PVC));
  await c('CreateSnapshot', { name: 'snap-1', source_volume_id: PVC });
  await c('ControllerPublishVolume', {
    volume_id: PVC,
    node_id: 'node-a',
    volume_capability: MOUNT_RWO,
  });
  t.equal(await codeOf(c('DeleteVolume', { volume_id: PVC })), status.FAILED_PRECONDITION);
  await c('ControllerUnpublishVolume', { volume_id: PVC, node_id: 'node-a' });
  await c('DeleteVolume', { volume_id: PVC });
  t.equal(rds.disks.size, 1, 'the snapshot stays');
});

t.test('ControllerExpandVolume grows only', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  await c('CreateVolume', createReq(PVC, { capacity_range: { required_bytes: String(2 * GiB) } }));
  const expand = (req: Record<string, unknown>) =>
    c<{ capacity_bytes: string; node_expansion_required: boolean }>('ControllerExpandVolume', {
      volume_id: PVC,
      ...req,
    });
  const r1 = await expand({
    capacity_range: { required_bytes: String(3 * GiB + 1) },
    volume_capability: MOUNT_RWO,
  });
  t.same(r1, { capacity_bytes: String(3 * GiB + MiB), node_expansion_required: true });
  const r2 = await expand({
    capacity_range: { required_bytes: String(GiB) },
    volume_capability: BLOCK_RWO,
  });
  t.same(
    r2,
    { capacity_bytes: String(3 * GiB + MiB), node_expansion_required: false },
    'no shrink',
  );
  t.equal(
    await codeOf(expand({ capacity_range: { limit_bytes: String(GiB) } })),
    status.OUT_OF_RANGE,
  );
  t.equal(await codeOf(expand({})), status.INVALID_ARGUMENT);
  t.equal(
    await codeOf(
      c('ControllerExpandVolume', { volume_id: PVC2, capacity_range: { required_bytes: '1' } }),
    ),
    status.NOT_FOUND,
  );
  t.equal(
    await codeOf(c('ControllerExpandVolume', { capacity_range: { required_bytes: '1' } })),
    status.INVALID_ARGUMENT,
  );
  t.equal(rds.disks.get(PVC)?.sizeBytes, 3 * GiB + MiB);
});

t.test('ControllerGetVolume: status, published nodes, conditions', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  await c('CreateVolume', createReq(PVC));
  await c('ControllerPublishVolume', {
    volume_id: PVC,
    node_id: 'node-a',
    volume_capability: MOUNT_RWO,
  });
  type Res = { volume: { volume_id: string }; status: ListRes['entries'][0]['status'] };
  const r = await c<Res>('ControllerGetVolume', { volume_id: PVC });
  t.equal(r.volume.volume_id, PVC);
  t.same(r.status.published_node_ids, ['node-a']);
  t.equal(r.status.volume_condition.abnormal, false);
  const d = rds.disks.get(PVC);
  if (d) rds.disks.set(PVC, { ...d, nvmeExport: false });
  const r2 = await c<Res>('ControllerGetVolume', { volume_id: PVC });
  t.equal(r2.status.volume_condition.abnormal, true);
  t.match(r2.status.volume_condition.message, /export/);
  rds.disks.delete(PVC);
  const r3 = await c<Res>('ControllerGetVolume', { volume_id: PVC });
  t.equal(r3.status.volume_condition.abnormal, true);
  t.match(r3.status.volume_condition.message, /missing/);
  t.equal(await codeOf(c('ControllerGetVolume', { volume_id: PVC2 })), status.NOT_FOUND);
  t.equal(await codeOf(c('ControllerGetVolume', {})), status.INVALID_ARGUMENT);
});

t.test(
  'ListVolumes pages 1,000 volumes in a stable order; foreign disks are not listed',
  async (t) => {
    const rds = new FakeRds();
    const { c, deps } = await startController(t, rds);
    // Foreign disks: a host boot disk and a disk outside the base path with a volume-like slot.
    await rds.volumes.create({
      slot: 'boot-host1',
      filePath: `${BASE}/boot.img`,
      sizeBytes: GiB,
      nqn: 'nqn.2000-02.com.mikrotik:boot-host1',
      port: 4420,
    });
    for (let i = 999; i >= 0; i -= 1) {
      const id = pvcName(i);
      await rds.volumes.create({
        slot: id,
        filePath: `${BASE}/${id}.rdscsi.img`,
        sizeBytes: GiB,
        nqn: `nqn.2000-02.com.mikrotik:${id}`,
        port: 4420,
      });
    }
    await deps.attachments.publish({
      volumeId: pvcName(7),
      nodeId: 'node-z',
      accessMode: 'SINGLE_NODE_WRITER',
      block: false,
      readonly: false,
      volume: {
        volumeId: pvcName(7),
        nqn: 'x',
        sizeBytes: GiB,
        migrationTimeoutSeconds: 300,
        hostFencing: false,
      },
      signal: new AbortController().signal,
    });
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const r = await c<ListRes>('ListVolumes', { max_entries: 64, starting_token: token });
      t.ok(r.entries.length <= 64);
      for (const e of r.entries) {
        seen.push(e.volume.volume_id);
        if (e.volume.volume_id === pvcName(7)) t.same(e.status.published_node_ids, ['node-z']);
      }
      token = r.next_token;
      pages += 1;
    } while (token !== '');
    t.equal(pages, Math.ceil(1000 / 64));
    t.equal(seen.length, 1000);
    t.equal(new Set(seen).size, 1000);
    t.same(seen, [...seen].sort(), 'sorted by id');
    const all = await c<ListRes>('ListVolumes', {});
    t.equal(all.entries.length, 1000);
    t.equal(all.next_token, '');
    t.equal(await codeOf(c('ListVolumes', { starting_token: 'garbage' })), status.ABORTED);
    t.equal(await codeOf(c('ListVolumes', { max_entries: -1 })), status.INVALID_ARGUMENT);
  },
);

t.test('ValidateVolumeCapabilities', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  await c('CreateVolume', createReq(PVC));
  type Res = { confirmed: { volume_capabilities: unknown[] } | null; message: string };
  const ok = await c<Res>('ValidateVolumeCapabilities', {
    volume_id: PVC,
    volume_capabilities: [MOUNT_RWO],
  });
  t.equal(ok.confirmed?.volume_capabilities.length, 1);
  const rwx = await c<Res>('ValidateVolumeCapabilities', {
    volume_id: PVC,
    volume_capabilities: [{ access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' }, mount: {} }],
  });
  t.equal(rwx.confirmed, null);
  t.match(rwx.message, /raw block/);
  const badParam = await c<Res>('ValidateVolumeCapabilities', {
    volume_id: PVC,
    volume_capabilities: [MOUNT_RWO],
    parameters: { x: 'y' },
  });
  t.equal(badParam.confirmed, null);
  t.equal(
    await codeOf(
      c('ValidateVolumeCapabilities', { volume_id: PVC2, volume_capabilities: [MOUNT_RWO] }),
    ),
    status.NOT_FOUND,
  );
  t.equal(
    await codeOf(c('ValidateVolumeCapabilities', { volume_id: PVC })),
    status.INVALID_ARGUMENT,
  );
  t.equal(
    await codeOf(c('ValidateVolumeCapabilities', { volume_capabilities: [MOUNT_RWO] })),
    status.INVALID_ARGUMENT,
  );
});

t.test('GetCapacity', async (t) => {
  const rds = new FakeRds({ quotaBytes: 100 * GiB });
  const { c } = await startController(t, rds);
  await c('CreateVolume', createReq(PVC, { capacity_range: { required_bytes: String(10 * GiB) } }));
  type Res = {
    available_capacity: string;
    maximum_volume_size: { value: string };
    minimum_volume_size: { value: string };
  };
  const r = await c<Res>('GetCapacity', {});
  t.equal(r.available_capacity, String(90 * GiB));
  t.equal(r.maximum_volume_size.value, String(90 * GiB));
  t.equal(r.minimum_volume_size.value, String(GiB));
  const other = await c<Res>('GetCapacity', {
    accessible_topology: { segments: { 'rds-csi.dev/rds': 'elsewhere' } },
  });
  t.equal(other.available_capacity, '0');
  t.equal(await codeOf(c('GetCapacity', { parameters: { bogus: '1' } })), status.INVALID_ARGUMENT);
});

t.test('DeleteVolume and ListVolumes wait for the attachment rebuild after a start', async (t) => {
  const rds = new FakeRds();
  const { AttachmentService } = await import('../../../src/controller/attachments');
  const { FakeExports } = await import('../../fakes/kube-exports');
  const { nullLogger } = await import('../../../src/observability/logger');
  const service = new AttachmentService({
    exports: new FakeExports(),
    now: () => Date.now(),
    logger: nullLogger(),
  });
  let rebuilt: () => void = () => undefined;
  service.holdUntil(new Promise<void>((r) => (rebuilt = r)));
  const { c } = await startController(t, rds, { attachments: service });
  await c('CreateVolume', createReq(PVC));
  const del = codeOf(c('DeleteVolume', { volume_id: PVC }));
  const list = c<ListRes>('ListVolumes', {});
  let settled = false;
  void Promise.race([del, list]).then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 100));
  t.notOk(settled, 'neither answers from the state before the rebuild');
  // The rebuild finds the volume attached to node-a.
  await service.resync(PVC, () => [
    {
      volumeId: PVC,
      nodeId: 'node-a',
      createdAt: 1,
      multiNode: false,
      block: false,
      migrationTimeoutMs: 300_000,
      fencing: false,
      phase: 'attached',
    },
  ]);
  rebuilt();
  t.equal(await del, status.FAILED_PRECONDITION, 'DeleteVolume refused: still published');
  t.same((await list).entries[0]?.status.published_node_ids, ['node-a']);
  t.equal(rds.disks.size, 1, 'the disk stays');
});
