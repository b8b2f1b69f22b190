import t from 'tap';
import {
  isSnapshotId,
  isVolumeId,
  snapshotIdFromName,
  volumeFilePath,
  volumeIdFromName,
  volumeNqn,
} from '../../../src/domain/ids';
import { validateSlot, validateSubsystemNqn } from '../../../src/routeros/grammar';

const PVC = 'pvc-0f0e0d0c-0b0a-4908-8706-050403020100';

t.test('a pvc-<uuid> name is the id, lower-cased', async (t) => {
  t.equal(volumeIdFromName(PVC), PVC);
  t.equal(volumeIdFromName(PVC.toUpperCase()), PVC);
  t.ok(isVolumeId(PVC));
});

t.test('any other name maps deterministically to a safe vol- id', async (t) => {
  const names = ['sanity-vol', 'pvc-not-a-uuid', 'x'.repeat(1000), 'a b"c$d;rm -rf', 'ünïcødé'];
  const ids = names.map(volumeIdFromName);
  for (const id of ids) {
    t.match(id, /^vol-[0-9a-f]{32}$/);
    t.doesNotThrow(() => validateSlot(id));
    t.doesNotThrow(() => validateSubsystemNqn(volumeNqn(id)));
    t.ok(isVolumeId(id));
  }
  t.equal(new Set(ids).size, names.length, 'distinct names, distinct ids');
  t.equal(volumeIdFromName('sanity-vol'), ids[0], 'deterministic');
  t.not(volumeIdFromName('Sanity-vol'), ids[0], 'case matters for non-pvc names');
});

t.test('empty or huge names are refused', async (t) => {
  t.throws(() => volumeIdFromName(''), { code: 'invalid-argument' });
  t.throws(() => volumeIdFromName(undefined), { code: 'invalid-argument' });
  t.throws(() => volumeIdFromName('x'.repeat(1025)), { code: 'invalid-argument' });
  t.throws(() => snapshotIdFromName(''), { code: 'invalid-argument' });
});

t.test('snapshot ids are hashed and distinct from volume ids', async (t) => {
  const id = snapshotIdFromName('snapshot-1');
  t.match(id, /^snap-[0-9a-f]{32}$/);
  t.ok(isSnapshotId(id));
  t.notOk(isVolumeId(id));
  t.notOk(isSnapshotId(PVC));
  t.notOk(isVolumeId('vol-XYZ'));
  t.notOk(isVolumeId(42));
});

t.test('nqn and file path', async (t) => {
  t.equal(volumeNqn(PVC), `nqn.2000-02.com.mikrotik:${PVC}`);
  t.equal(volumeFilePath('storage-pool/k8s', PVC), `storage-pool/k8s/${PVC}.rdscsi.img`);
});
