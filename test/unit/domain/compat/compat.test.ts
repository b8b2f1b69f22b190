import t from 'tap';
import { parseGoSnapshotId, isGoVolumeId } from '../../../../src/domain/compat/ids';
import { goMigrationTimeout, parseGoVolumeParams } from '../../../../src/domain/compat/params';
import { goPublishContext, goVolumeContext } from '../../../../src/domain/compat/context';
import { isDomainError } from '../../../../src/domain/errors';
import { uuidV5 } from '../../../fixtures/go-driver/state';

const D = { poolBasePath: 'storage-pool/metal-csi', nvmePort: 4420, rdsAddress: '10.42.241.3' };

t.test('uuidV5 matches RFC 4122 (the Go driver hashed handles with it)', async (t) => {
  t.equal(
    uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'),
    '2ed6657d-e927-568b-95e1-2665a8aea6a2',
  );
});

t.test('Go handles by version', async (t) => {
  const u = '47d39e8a-37ed-560d-91ec-22f9472e0dea';
  t.ok(isGoVolumeId(`pvc-${u}`));
  t.notOk(isGoVolumeId('backup-disk'));
  t.notOk(isGoVolumeId(`pvc-${u}x`));
  t.same(parseGoSnapshotId(`snap-${u}`), { form: 'btrfs' });
  t.same(parseGoSnapshotId(`snap-${u}-at-47d39e8a37`), { form: 'name-at' });
  t.same(parseGoSnapshotId(`snap-${u}-at-0123456789`), {
    form: 'source-at',
    sourceVolumeId: `pvc-${u}`,
  });
  t.equal(parseGoSnapshotId('snap-0123456789abcdef0123456789abcdef'), undefined, 'ours');
  t.equal(parseGoSnapshotId('backup-disk'), undefined);
});

t.test('Go StorageClass defaults', async (t) => {
  const p = parseGoVolumeParams({}, D);
  t.equal(p.poolPath, 'storage-pool/metal-csi');
  t.equal(p.nvmePort, 4420);
  t.equal(p.migrationTimeoutSeconds, 300);
  t.same(p.go, {
    rdsAddress: '10.42.241.3',
    nvmeAddress: '10.42.241.3',
    ctrlLossTmo: -1,
    reconnectDelay: 5,
    keepAliveTmo: 0,
  });
  const q = parseGoVolumeParams({ rdsAddress: '10.0.0.9' }, D);
  t.equal(q.go.nvmeAddress, '10.0.0.9', 'nvmeAddress falls back to rdsAddress');
});

t.test('Go StorageClass keys: accepted forms and tolerated keys', async (t) => {
  const p = parseGoVolumeParams(
    {
      volumePath: '/storage-pool/metal-csi/fast',
      nvmePort: '4421abc',
      nvmeAddress: '10.42.68.1',
      ctrlLossTmo: '-1',
      reconnectDelay: '1',
      keepAliveTmo: '0',
      sshPort: '22',
      nqnPrefix: 'nqn.x',
      fsType: 'zfs',
      btrfsFSLabel: 'pool',
      typo: 'x',
      'csi.storage.k8s.io/fstype': 'xfs',
    },
    D,
  );
  t.equal(p.poolPath, 'storage-pool/metal-csi/fast');
  t.equal(p.nvmePort, 4421, 'Sscanf("%d") reads the leading integer');
  t.equal(p.fsType, 'xfs', 'the provisioner fstype is honoured, the Go fsType key is not');
  t.same(p.ignoredKeys, ['btrfsFSLabel', 'fsType', 'nqnPrefix', 'sshPort', 'typo']);
  t.equal(parseGoVolumeParams({ nvmePort: 'abc' }, D).nvmePort, 4420, 'unparsable → 4420');
});

t.test('Go StorageClass validation: every problem at once', async (t) => {
  try {
    parseGoVolumeParams(
      {
        ctrlLossTmo: '-2',
        reconnectDelay: '0',
        keepAliveTmo: '-1',
        nvmePort: '70000',
        nvmeAddress: 'a b',
        volumePath: '/elsewhere',
      },
      D,
    );
    t.fail('accepted');
  } catch (err) {
    t.ok(isDomainError(err) && err.code === 'invalid-argument');
    const m = (err as Error).message;
    for (const k of [
      'ctrlLossTmo',
      'reconnectDelay',
      'keepAliveTmo',
      'nvmePort',
      'nvmeAddress',
      'poolPath',
    ]) {
      t.match(m, k);
    }
  }
});

t.test('migrationTimeoutSeconds: Go fallback and clamping', async (t) => {
  t.equal(goMigrationTimeout(undefined), 300);
  t.equal(goMigrationTimeout('abc'), 300);
  t.equal(goMigrationTimeout('0'), 300);
  t.equal(goMigrationTimeout('-5'), 300);
  t.equal(goMigrationTimeout('10'), 30);
  t.equal(goMigrationTimeout('99999'), 3600);
  t.equal(goMigrationTimeout('120.4'), 120);
});

t.test('the 9 volume_context keys and 4 publish_context keys, as strings', async (t) => {
  const ctx = goVolumeContext({
    connect: {
      rdsAddress: '10.42.241.3',
      nvmeAddress: '10.42.68.1',
      ctrlLossTmo: -1,
      reconnectDelay: 5,
      keepAliveTmo: 0,
    },
    nvmePort: 4420,
    nqn: 'nqn.2000-02.com.mikrotik:pvc-1',
    filePath: 'storage-pool/metal-csi/pvc-1.img',
    migrationTimeoutSeconds: 300,
  });
  t.same(ctx, {
    rdsAddress: '10.42.241.3',
    nvmeAddress: '10.42.68.1',
    nvmePort: '4420',
    nqn: 'nqn.2000-02.com.mikrotik:pvc-1',
    volumePath: '/storage-pool/metal-csi/pvc-1.img',
    ctrlLossTmo: '-1',
    reconnectDelay: '5',
    keepAliveTmo: '0',
    migrationTimeoutSeconds: '300',
  });
  t.same(goPublishContext({ nvmeAddress: 'a', port: 4420, nqn: 'n', fsType: undefined }), {
    nvme_address: 'a',
    nvme_port: '4420',
    nvme_nqn: 'n',
    fs_type: 'ext4',
  });
});
