/**
 * Compatibility mode against rds-sim holding the Go driver's state of every version
 * (v0.1.0 hashed handle, v0.2–v0.9 floored sizes, v0.10 Btrfs-era snapshot handle, v0.11
 * and v0.12+ copy-from snapshots) plus a hand-made `backup-disk` in the same directory.
 */
import t from 'tap';
import { codeOf, status } from '../../helpers/csi';
import { MiB } from '../../../src/domain/sizes';
import { GO_BASE } from '../../fixtures/go-driver/state';
import {
  BLOCK_RWX,
  CONFIG,
  MOUNT_RWO,
  createReq,
  type VolumeRes,
} from '../../unit/controller/harness';
import { goRig } from './go-compat-setup';

interface ListRes {
  entries: { volume: { volume_id: string; capacity_bytes: string } }[];
}
interface SnapList {
  entries: {
    snapshot: {
      snapshot_id: string;
      source_volume_id: string;
      size_bytes: string;
      creation_time: { seconds: string };
    };
  }[];
}

t.test('Go volumes of v0.1.0 and v0.2+ are listed, got and expanded; nothing else', async (t) => {
  const { c, go, slots } = await goRig(t, true);
  const list = await c<ListRes>('ListVolumes', {});
  t.same(list.entries.map((e) => e.volume.volume_id).sort(), [go.v010.handle, go.v02].sort());
  t.equal(list.entries[0]?.volume.capacity_bytes, String(go.diskBytes), 'the real disk size');
  await c('ControllerGetVolume', { volume_id: go.v010.handle });
  t.equal(
    await codeOf(c('ControllerGetVolume', { volume_id: go.backupDisk })),
    status.NOT_FOUND,
    'backup-disk is not a volume',
  );
  const grown = await c<{ capacity_bytes: string }>('ControllerExpandVolume', {
    volume_id: go.v02,
    capacity_range: { required_bytes: String(4 * MiB) },
    volume_capability: MOUNT_RWO,
  });
  t.equal(grown.capacity_bytes, String(4 * MiB));
  t.ok((await slots()).includes(go.backupDisk));
  const cap = (value: string) =>
    c<{ available_capacity: string }>('GetCapacity', {
      parameters: { volumePath: `/${GO_BASE}`, nvmeAddress: '10.42.68.1' },
      accessible_topology: { segments: { 'topology.rds.csi.srvlab.io/zone': value } },
    });
  t.ok(Number((await cap(CONFIG.topologyValue)).available_capacity) > 0, 'the Go topology key');
  t.equal(Number((await cap('elsewhere')).available_capacity), 0);
});

t.test('a CreateVolume retry adopts a Go disk smaller than its PV and grows it', async (t) => {
  const { c, go, h } = await goRig(t, true);
  const res = await c<VolumeRes>(
    'CreateVolume',
    createReq(go.v02, {
      capacity_range: { required_bytes: String(go.pvCapacityBytes) },
      parameters: { nvmeAddress: '10.42.68.1', nvmePort: '4420', volumePath: `/${GO_BASE}` },
    }),
  );
  t.equal(res.volume.capacity_bytes, String(2 * MiB), 'rounded UP, never down');
  t.equal((await h.ros.volumes.get(go.v02))?.sizeBytes, 2 * MiB);
  t.same(res.volume.accessible_topology, [], 'no volume topology, as the Go driver');
  t.match(res.volume.volume_context, {
    rdsAddress: '10.0.0.1',
    nvmeAddress: '10.42.68.1',
    nvmePort: '4420',
    nqn: `nqn.2000-02.com.mikrotik:${go.v02}`,
    volumePath: `/${GO_BASE}/${go.v02}.img`,
    ctrlLossTmo: '-1',
    reconnectDelay: '5',
    keepAliveTmo: '0',
    migrationTimeoutSeconds: '300',
    traddr: '10.42.68.1',
    trsvcid: '4420',
  });
});

t.test('new volumes from a Go StorageClass: its keys, defaults and formats', async (t) => {
  const { c, poolFiles } = await goRig(t, true);
  const id = 'pvc-99999999-0000-4000-8000-000000000001';
  const res = await c<VolumeRes>('CreateVolume', {
    name: id,
    volume_capabilities: [BLOCK_RWX],
    capacity_range: { required_bytes: String(1.5 * MiB) },
    parameters: {
      nvmeAddress: '10.42.68.1',
      nvmePort: '4420',
      volumePath: `/${GO_BASE}`,
      ctrlLossTmo: '600',
      reconnectDelay: '2',
      keepAliveTmo: '15',
      migrationTimeoutSeconds: '7200',
      sshPort: '22',
      nqnPrefix: 'x',
      fsType: 'ext3',
      btrfsFSLabel: 'pool',
      somethingElse: 'ignored',
    },
  });
  t.match(res.volume.volume_context, {
    ctrlLossTmo: '600',
    reconnectDelay: '2',
    keepAliveTmo: '15',
    migrationTimeoutSeconds: '3600',
    volumePath: `/${GO_BASE}/${id}.rdscsi.img`,
  });
  t.ok((await poolFiles()).includes(`${GO_BASE}/${id}.rdscsi.img`), 'marked as ours');
  for (const [key, value] of [
    ['ctrlLossTmo', '-2'],
    ['reconnectDelay', '0'],
    ['keepAliveTmo', 'x'],
  ] as const) {
    const bad = c('CreateVolume', {
      name: 'pvc-99999999-0000-4000-8000-000000000002',
      volume_capabilities: [MOUNT_RWO],
      parameters: { [key]: value },
    });
    t.equal(await codeOf(bad), status.INVALID_ARGUMENT, `${key}=${value}`);
  }
});

t.test('Go snapshots are listed, restored from and deleted; Btrfs-era ones are gone', async (t) => {
  const { c, go, h, poolFiles, slots } = await goRig(t, true);
  const snaps = await c<SnapList>('ListSnapshots', {});
  const byId = new Map(snaps.entries.map((e) => [e.snapshot.snapshot_id, e.snapshot]));
  t.same([...byId.keys()].sort(), [go.snapV011, go.snapV012].sort());
  t.equal(byId.get(go.snapV011)?.source_volume_id, go.v02, 'v0.11 handles name their source');
  t.equal(byId.get(go.snapV012)?.source_volume_id, '', 'v0.12+ handles do not');
  t.ok(Number(byId.get(go.snapV012)?.creation_time.seconds) > 1.7e9, 'time from the file');
  const bySource = await c<SnapList>('ListSnapshots', { source_volume_id: go.v02 });
  t.same(
    bySource.entries.map((e) => e.snapshot.snapshot_id),
    [go.snapV011],
  );
  t.same((await c<SnapList>('ListSnapshots', { snapshot_id: go.snapBtrfs })).entries, []);
  t.equal(await codeOf(c('GetSnapshot', { snapshot_id: go.snapBtrfs })), status.NOT_FOUND);

  const id = 'pvc-99999999-0000-4000-8000-000000000003';
  const restored = await c<VolumeRes>(
    'CreateVolume',
    createReq(id, { volume_content_source: { snapshot: { snapshot_id: go.snapV012 } } }),
  );
  t.equal(restored.volume.content_source?.snapshot?.snapshot_id, go.snapV012);
  t.equal((await h.ros.volumes.get(id))?.nvmeExport, true);
  t.equal((await h.ros.volumes.get(go.snapV012))?.nvmeExport, false, 'snapshot stays unexported');

  await c('DeleteSnapshot', { snapshot_id: go.snapV011 });
  t.notOk((await slots()).includes(go.snapV011));
  t.notOk((await poolFiles()).includes(`${GO_BASE}/${go.snapV011}.img`), 'its file too');
  await c('DeleteSnapshot', { snapshot_id: go.snapV011 });
  await c('DeleteSnapshot', { snapshot_id: go.snapBtrfs });
  t.equal(
    await codeOf(c('DeleteSnapshot', { snapshot_id: go.backupDisk })),
    'OK',
    'an id of no known form names nothing of ours',
  );
  t.ok((await slots()).includes(go.backupDisk));
});

t.test('a snapshot of a Go volume is ours: marked, unexported, restorable', async (t) => {
  const { c, go, h } = await goRig(t, true);
  const snap = await c<{ snapshot: { snapshot_id: string; source_volume_id: string } }>(
    'CreateSnapshot',
    { name: 'snapshot-1', source_volume_id: go.v010.handle, parameters: { volumePath: '/x' } },
  );
  t.equal(snap.snapshot.source_volume_id, go.v010.handle);
  const disk = await h.ros.volumes.get(snap.snapshot.snapshot_id);
  t.match(disk?.filePath, new RegExp(`^${GO_BASE}/snapshots/snap-[0-9a-f]{32}\\.`));
  t.equal(disk?.nvmeExport, false);
  const id = 'pvc-99999999-0000-4000-8000-000000000004';
  const v = await c<VolumeRes>(
    'CreateVolume',
    createReq(id, {
      volume_content_source: { snapshot: { snapshot_id: snap.snapshot.snapshot_id } },
    }),
  );
  t.equal(v.volume.capacity_bytes, String(go.diskBytes));
});

t.test('DeleteVolume of a v0.1.0 handle removes the disk and the file it names', async (t) => {
  const { c, go, poolFiles, slots } = await goRig(t, true);
  await c('DeleteVolume', { volume_id: go.v010.handle });
  t.notOk((await slots()).includes(go.v010.handle));
  t.notOk((await poolFiles()).includes(`${GO_BASE}/${go.v010.handle}.img`));
  await c('DeleteVolume', { volume_id: go.v010.handle });
  t.equal(
    await codeOf(c('DeleteVolume', { volume_id: go.backupDisk })),
    'OK',
    'never a volume id: nothing to delete',
  );
  t.ok((await poolFiles()).includes(`${GO_BASE}/backup-disk.img`));
});

t.test('ControllerPublish of a Go volume adds the Go publish_context keys', async (t) => {
  const { c, go } = await goRig(t, true);
  const res = await c<{ publish_context: Record<string, string> }>('ControllerPublishVolume', {
    volume_id: go.v02,
    node_id: 'node-a',
    volume_capability: MOUNT_RWO,
    volume_context: { nvmeAddress: '10.42.68.1', nqn: `nqn.2000-02.com.mikrotik:${go.v02}` },
  });
  t.match(res.publish_context, {
    nvme_address: '10.0.0.5',
    nvme_port: '4420',
    nvme_nqn: `nqn.2000-02.com.mikrotik:${go.v02}`,
    fs_type: 'ext4',
  });
});

t.test(
  'without compatibility mode, Go disks are foreign: never listed, changed or deleted',
  async (t) => {
    const { c, go, slots, poolFiles } = await goRig(t, false);
    const before = { slots: await slots(), files: await poolFiles() };
    t.same((await c<ListRes>('ListVolumes', {})).entries, []);
    t.same((await c<SnapList>('ListSnapshots', {})).entries, []);
    t.equal(await codeOf(c('ControllerGetVolume', { volume_id: go.v02 })), status.NOT_FOUND);
    const expand = c('ControllerExpandVolume', {
      volume_id: go.v02,
      capacity_range: { required_bytes: String(4 * MiB) },
    });
    t.equal(await codeOf(expand), status.NOT_FOUND);
    t.equal(await codeOf(c('DeleteVolume', { volume_id: go.v02 })), status.FAILED_PRECONDITION);
    t.equal(
      await codeOf(c('DeleteSnapshot', { snapshot_id: go.snapV012 })),
      status.FAILED_PRECONDITION,
      'not OK while the disk stays',
    );
    t.equal(
      await codeOf(
        c('CreateVolume', createReq('pvc-1', { parameters: { nvmeAddress: '10.0.0.1' } })),
      ),
      status.INVALID_ARGUMENT,
      'Go StorageClass keys are unknown here',
    );
    t.same({ slots: await slots(), files: await poolFiles() }, before, 'nothing changed');
  },
);
