import t from 'tap';
import { parseVolumeParams } from '../../../src/domain/params';

const D = { poolBasePath: 'storage-pool/k8s', nvmePort: 4420 };

t.test('defaults', async (t) => {
  t.same(parseVolumeParams(undefined, D), {
    poolPath: 'storage-pool/k8s',
    nvmePort: 4420,
    fsType: undefined,
    migrationTimeoutSeconds: 300,
    hostFencing: false,
  });
});

t.test('every parameter parsed', async (t) => {
  const p = parseVolumeParams(
    {
      poolPath: '/storage-pool/k8s/fast/',
      nvmePort: '4421',
      fsType: 'xfs',
      migrationTimeoutSeconds: '30',
      hostFencing: 'true',
      'csi.storage.k8s.io/pvc/name': 'data',
      'csi.storage.k8s.io/pvc/namespace': 'apps',
      'csi.storage.k8s.io/pv/name': 'pvc-x',
    },
    D,
  );
  t.same(p, {
    poolPath: 'storage-pool/k8s/fast',
    nvmePort: 4421,
    fsType: 'xfs',
    migrationTimeoutSeconds: 30,
    hostFencing: true,
    pvc: { namespace: 'apps', name: 'data' },
    pvName: 'pvc-x',
  });
  t.equal(parseVolumeParams({ migrationTimeoutSeconds: '3600' }, D).migrationTimeoutSeconds, 3600);
  t.equal(parseVolumeParams({ 'csi.storage.k8s.io/fstype': 'xfs' }, D).fsType, 'xfs');
});

t.test('bad values: every problem at once, naming the parameter', async (t) => {
  const err = t.throws(() =>
    parseVolumeParams(
      {
        poolPath: 'other/place',
        nvmePort: '70000',
        fsType: 'btrfs',
        migrationTimeoutSeconds: '29',
        hostFencing: 'yes',
        colour: 'blue',
      },
      D,
    ),
  ) as Error & { code: string };
  t.equal(err.code, 'invalid-argument');
  for (const word of [
    'poolPath',
    'nvmePort',
    'fsType',
    'migrationTimeoutSeconds',
    'hostFencing',
    '"colour"',
  ]) {
    t.match(err.message, word);
  }
});

t.test('pool paths that could escape or clash are refused', async (t) => {
  for (const bad of [
    'storage-pool/k8s/../x',
    'storage-pool/k8s/a b',
    'storage-pool/k8s/snapshots',
    'storage-pool',
    'storage-pool/k8sx',
  ]) {
    t.throws(() => parseVolumeParams({ poolPath: bad }, D), { code: 'invalid-argument' }, bad);
  }
  t.throws(() => parseVolumeParams({ migrationTimeoutSeconds: '3601' }, D));
  t.throws(() => parseVolumeParams({ nvmePort: '0' }, D));
  t.throws(() => parseVolumeParams({ nvmePort: '44x' }, D));
});
