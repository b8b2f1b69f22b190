import t from 'tap';
import {
  isSnapshotFileOf,
  parseSnapshotPath,
  snapshotFilePath,
} from '../../../src/domain/snapshots';
import { snapshotIdFromName } from '../../../src/domain/ids';
import { validatePoolPath } from '../../../src/routeros/grammar';

const PVC = 'pvc-0f0e0d0c-0b0a-4908-8706-050403020100';

t.test('the file name round-trips source and creation time', async (t) => {
  const id = snapshotIdFromName('snapshot-a');
  const path = snapshotFilePath('storage-pool/k8s', id, PVC, 1_700_000_000_123.7);
  t.equal(path, `storage-pool/k8s/snapshots/${id}.${PVC}.1700000000123.img`);
  t.doesNotThrow(() => validatePoolPath(path, 'storage-pool/k8s', { img: true }));
  t.same(parseSnapshotPath('/' + path), {
    snapshotId: id,
    sourceVolumeId: PVC,
    createdMs: 1_700_000_000_123,
    dir: 'storage-pool/k8s/snapshots',
  });
  t.ok(isSnapshotFileOf(path, id));
  t.notOk(isSnapshotFileOf(path, snapshotIdFromName('other')));
});

t.test('anything else is not a snapshot file', async (t) => {
  const id = snapshotIdFromName('s');
  for (const p of [
    `storage-pool/k8s/${PVC}.img`,
    `storage-pool/k8s/other/${id}.${PVC}.1.img`,
    `storage-pool/k8s/snapshots/${id}.${PVC}.img`,
    `storage-pool/k8s/snapshots/${id}.not-a-volume.1.img`,
    `storage-pool/k8s/snapshots/${id}.${PVC}.1.raw`,
    `x.img`,
  ]) {
    t.equal(parseSnapshotPath(p), undefined, p);
  }
});
