import t from 'tap';
import { FakeRds } from '../../fakes/routeros';
import { codeOf, status } from '../../helpers/csi';
import { GiB } from '../../../src/domain/sizes';
import { snapshotIdFromName } from '../../../src/domain/ids';
import { DENY_ALL_HOST_NQN } from '../../../src/domain/attachment';
import {
  BASE,
  PVC,
  PVC2,
  createReq,
  startController,
  type SnapshotRes,
  type VolumeRes,
} from './harness';

interface ListRes {
  entries: SnapshotRes[];
  next_token: string;
}

const T0 = 1_763_771_000_250;

t.test('CreateSnapshot: metadata, idempotency, ALREADY_EXISTS, not exported', async (t) => {
  const rds = new FakeRds();
  let now = T0;
  const { c } = await startController(t, rds, { now: () => now });
  await c('CreateVolume', createReq(PVC, { capacity_range: { required_bytes: String(2 * GiB) } }));
  await c('CreateVolume', createReq(PVC2));
  const s = await c<SnapshotRes>('CreateSnapshot', { name: 'snapshot-a', source_volume_id: PVC });
  const id = snapshotIdFromName('snapshot-a');
  t.same(s.snapshot, {
    snapshot_id: id,
    source_volume_id: PVC,
    size_bytes: String(2 * GiB),
    creation_time: { seconds: String(Math.floor(T0 / 1000)), nanos: 250_000_000 },
    ready_to_use: true,
    group_snapshot_id: '',
  });
  const disk = rds.disks.get(id);
  t.equal(disk?.nvmeExport, false, 'snapshots are not exported');
  t.equal(disk?.filePath, `${BASE}/snapshots/${id}.${PVC}.${T0}.img`);
  now += 60_000;
  const again = await c<SnapshotRes>('CreateSnapshot', {
    name: 'snapshot-a',
    source_volume_id: PVC,
  });
  t.same(again, s, 'same name + source: the same snapshot, same creation time');
  t.equal(
    await codeOf(c('CreateSnapshot', { name: 'snapshot-a', source_volume_id: PVC2 })),
    status.ALREADY_EXISTS,
  );
  t.equal(
    await codeOf(c('CreateSnapshot', { name: 'x', source_volume_id: 'pvc-nope' })),
    status.NOT_FOUND,
  );
  t.equal(await codeOf(c('CreateSnapshot', { source_volume_id: PVC })), status.INVALID_ARGUMENT);
  t.equal(await codeOf(c('CreateSnapshot', { name: 'x' })), status.INVALID_ARGUMENT);
  t.equal(
    await codeOf(
      c('CreateSnapshot', { name: 'x', source_volume_id: PVC, parameters: { foo: '1' } }),
    ),
    status.INVALID_ARGUMENT,
  );
  t.equal(
    await codeOf(
      c('CreateSnapshot', {
        name: 'y',
        source_volume_id: PVC,
        parameters: { 'csi.storage.k8s.io/volumesnapshot/name': 'v' },
      }),
    ),
    'OK',
  );
});

t.test('an interrupted snapshot attempt leaves no file behind', async (t) => {
  const rds = new FakeRds();
  let now = T0;
  const { c } = await startController(t, rds, { now: () => now++ });
  await c('CreateVolume', createReq(PVC));
  rds.inject('copy', { when: 'partial' });
  t.equal(
    await codeOf(c('CreateSnapshot', { name: 'snapshot-a', source_volume_id: PVC })),
    status.UNAVAILABLE,
  );
  t.equal(rds.orphanFiles().length, 1, 'the device kept a half-made copy');
  await c('CreateSnapshot', { name: 'snapshot-a', source_volume_id: PVC });
  t.same(rds.orphanFiles(), []);
});

t.test('DeleteSnapshot: idempotent; finishes an interrupted delete', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  await c('CreateVolume', createReq(PVC));
  const s = await c<SnapshotRes>('CreateSnapshot', { name: 'snapshot-a', source_volume_id: PVC });
  rds.inject('delete', { when: 'partial' });
  t.equal(
    await codeOf(c('DeleteSnapshot', { snapshot_id: s.snapshot.snapshot_id })),
    status.UNAVAILABLE,
  );
  t.equal(rds.orphanFiles().length, 1);
  await c('DeleteSnapshot', { snapshot_id: s.snapshot.snapshot_id });
  t.same(rds.orphanFiles(), []);
  t.equal(await codeOf(c('DeleteSnapshot', { snapshot_id: s.snapshot.snapshot_id })), 'OK');
  t.equal(await codeOf(c('DeleteSnapshot', { snapshot_id: 'not-ours' })), 'OK');
  t.equal(await codeOf(c('DeleteSnapshot', {})), status.INVALID_ARGUMENT);
  t.ok(rds.disks.has(PVC), 'the source volume stays');
});

t.test('ListSnapshots / GetSnapshot: filters and paging', async (t) => {
  const rds = new FakeRds();
  const { c } = await startController(t, rds);
  await c('CreateVolume', createReq(PVC));
  await c('CreateVolume', createReq(PVC2));
  for (let i = 0; i < 7; i += 1) {
    await c('CreateSnapshot', { name: `s${i}`, source_volume_id: i % 2 === 0 ? PVC : PVC2 });
  }
  const all: string[] = [];
  let token = '';
  do {
    const r = await c<ListRes>('ListSnapshots', { max_entries: 3, starting_token: token });
    all.push(...r.entries.map((e) => e.snapshot.snapshot_id));
    token = r.next_token;
  } while (token !== '');
  t.equal(all.length, 7);
  t.same(all, [...all].sort());
  const bySource = await c<ListRes>('ListSnapshots', { source_volume_id: PVC2 });
  t.equal(bySource.entries.length, 3);
  t.ok(bySource.entries.every((e) => e.snapshot.source_volume_id === PVC2));
  const one = snapshotIdFromName('s4');
  const byId = await c<ListRes>('ListSnapshots', { snapshot_id: one });
  t.same(
    byId.entries.map((e) => e.snapshot.snapshot_id),
    [one],
  );
  const both = await c<ListRes>('ListSnapshots', { snapshot_id: one, source_volume_id: PVC2 });
  t.same(both.entries, [], 's4 is of PVC');
  t.same((await c<ListRes>('ListSnapshots', { snapshot_id: 'nope' })).entries, []);
  t.same((await c<ListRes>('ListSnapshots', { source_volume_id: 'nope' })).entries, []);
  t.equal(await codeOf(c('ListSnapshots', { starting_token: 'nope' })), status.ABORTED);
  const got = await c<SnapshotRes>('GetSnapshot', { snapshot_id: one });
  t.equal(got.snapshot.source_volume_id, PVC);
  t.equal(
    await codeOf(c('GetSnapshot', { snapshot_id: snapshotIdFromName('zzz') })),
    status.NOT_FOUND,
  );
});

t.test(
  'restore from a snapshot and clone a volume: data equal, sizes at least the source',
  async (t) => {
    const rds = new FakeRds();
    const { c } = await startController(t, rds);
    await c(
      'CreateVolume',
      createReq(PVC, { capacity_range: { required_bytes: String(2 * GiB) } }),
    );
    rds.writeData(PVC, 'hello from the source');
    const s = await c<SnapshotRes>('CreateSnapshot', { name: 'snapshot-a', source_volume_id: PVC });
    rds.writeData(PVC, 'changed after the snapshot');

    const restored = await c<VolumeRes>('CreateVolume', {
      ...createReq('restored'),
      volume_content_source: { snapshot: { snapshot_id: s.snapshot.snapshot_id } },
    });
    t.equal(restored.volume.capacity_bytes, String(2 * GiB), 'at least the snapshot size');
    t.equal(restored.volume.content_source?.snapshot?.snapshot_id, s.snapshot.snapshot_id);
    t.equal(rds.dataOf(restored.volume.volume_id), 'hello from the source');
    t.equal(rds.disks.get(restored.volume.volume_id)?.nvmeExport, true);

    const clone = await c<VolumeRes>('CreateVolume', {
      ...createReq('clone', { capacity_range: { required_bytes: String(3 * GiB) } }),
      volume_content_source: { volume: { volume_id: PVC } },
    });
    t.equal(clone.volume.capacity_bytes, String(3 * GiB));
    t.equal(clone.volume.content_source?.volume?.volume_id, PVC);
    t.equal(rds.dataOf(clone.volume.volume_id), 'changed after the snapshot');
    t.same(rds.disks.get(clone.volume.volume_id)?.allowedHosts, [], 'not fenced: open');
    const fenced = await c<VolumeRes>('CreateVolume', {
      ...createReq('fenced-clone', { parameters: { hostFencing: 'true' } }),
      volume_content_source: { volume: { volume_id: PVC } },
    });
    t.same(
      rds.disks.get(fenced.volume.volume_id)?.allowedHosts,
      [DENY_ALL_HOST_NQN],
      'a fenced clone is closed until its first publish',
    );

    t.equal(
      await codeOf(
        c('CreateVolume', {
          ...createReq('too-small', { capacity_range: { limit_bytes: String(GiB) } }),
          volume_content_source: { volume: { volume_id: PVC } },
        }),
      ),
      status.OUT_OF_RANGE,
    );
    t.equal(
      await codeOf(
        c('CreateVolume', {
          ...createReq('r2'),
          volume_content_source: { snapshot: { snapshot_id: 'snap-nope' } },
        }),
      ),
      status.NOT_FOUND,
    );
    t.equal(
      await codeOf(
        c('CreateVolume', {
          ...createReq('r3'),
          volume_content_source: { volume: { volume_id: PVC2 } },
        }),
      ),
      status.NOT_FOUND,
    );
    t.equal(
      await codeOf(
        c('CreateVolume', {
          ...createReq('r4'),
          volume_content_source: { snapshot: { snapshot_id: PVC } },
        }),
      ),
      status.NOT_FOUND,
      'a volume id is not a snapshot',
    );
    t.same(rds.orphanFiles(), []);
  },
);
