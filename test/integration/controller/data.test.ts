/**
 * Snapshot → restore and clone against the simulator's files backend: the bytes of the
 * restored / cloned images equal the source's at the time of the copy.
 */
import { promises as fs } from 'node:fs';
import t from 'tap';
import { codeOf, status } from '../../helpers/csi';
import { MiB } from '../../../src/domain/sizes';
import { PVC, createReq, type SnapshotRes, type VolumeRes } from '../../unit/controller/harness';
import { rig } from './setup';

async function writeAt(file: string, offset: number, data: Buffer): Promise<void> {
  const fh = await fs.open(file, 'r+');
  try {
    await fh.write(data, 0, data.length, offset);
  } finally {
    await fh.close();
  }
}

t.test('snapshot, restore, clone: data equal; snapshot metadata survives listing', async (t) => {
  const { c, h, hostPath, poolFiles } = await rig(t);
  await c('CreateVolume', createReq(PVC, { capacity_range: { required_bytes: String(4 * MiB) } }));
  const srcFile = hostPath(`storage-pool/k8s/${PVC}.rdscsi.img`);
  const pattern = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7) % 251));
  await writeAt(srcFile, 0, pattern);
  await writeAt(srcFile, 3 * MiB, pattern);
  const before = await fs.readFile(srcFile);

  const s = await c<SnapshotRes>('CreateSnapshot', { name: 'snapshot-1', source_volume_id: PVC });
  t.equal(s.snapshot.source_volume_id, PVC);
  t.equal(s.snapshot.size_bytes, String(4 * MiB));
  t.equal(s.snapshot.ready_to_use, true);
  t.same(await c<SnapshotRes>('CreateSnapshot', { name: 'snapshot-1', source_volume_id: PVC }), s);

  await writeAt(srcFile, 0, Buffer.alloc(1024, 0xff));

  const restored = await c<VolumeRes>('CreateVolume', {
    ...createReq('restored'),
    volume_content_source: { snapshot: { snapshot_id: s.snapshot.snapshot_id } },
  });
  t.equal(restored.volume.capacity_bytes, String(4 * MiB));
  const restoredBytes = await fs.readFile(
    hostPath(`storage-pool/k8s/${restored.volume.volume_id}.rdscsi.img`),
  );
  t.ok(restoredBytes.equals(before), 'restored bytes equal the source at snapshot time');

  const afterWrite = await fs.readFile(srcFile);
  const clone = await c<VolumeRes>('CreateVolume', {
    ...createReq('clone', { capacity_range: { required_bytes: String(6 * MiB) } }),
    volume_content_source: { volume: { volume_id: PVC } },
  });
  t.equal(clone.volume.capacity_bytes, String(6 * MiB));
  const cloneBytes = await fs.readFile(
    hostPath(`storage-pool/k8s/${clone.volume.volume_id}.rdscsi.img`),
  );
  t.equal(cloneBytes.length, 6 * MiB);
  t.ok(cloneBytes.subarray(0, 4 * MiB).equals(afterWrite), 'clone bytes equal the source');
  t.ok(
    cloneBytes.subarray(4 * MiB).every((b) => b === 0),
    'the grown tail is zero',
  );

  const listed = await c<{ entries: SnapshotRes[] }>('ListSnapshots', { source_volume_id: PVC });
  t.same(listed.entries, [s], 'source and creation time read back from the device');

  await c('DeleteVolume', { volume_id: PVC });
  t.equal(
    await codeOf(c('GetSnapshot', { snapshot_id: s.snapshot.snapshot_id })),
    'OK',
    'the snapshot is independent',
  );
  await c('DeleteSnapshot', { snapshot_id: s.snapshot.snapshot_id });
  t.equal(
    await codeOf(c('GetSnapshot', { snapshot_id: s.snapshot.snapshot_id })),
    status.NOT_FOUND,
  );
  await c('DeleteVolume', { volume_id: restored.volume.volume_id });
  await c('DeleteVolume', { volume_id: clone.volume.volume_id });
  t.same(await poolFiles(), [], 'nothing left in the pool');
  t.ok(h.sim.commandLog.length > 0);
});
