import t from 'tap';
import { goTakeoverChecks } from '../../../src/doctor/compat-checks';
import type { Disk } from '../../../src/routeros/ports';

const B = 'storage-pool/metal-csi';
const U = '11111111-2222-4333-8444-555555555555';
const disk = (slot: string, filePath: string, nvmeExport = true): Disk => ({
  slot,
  filePath,
  sizeBytes: 1024 ** 3,
  nvmeExport,
  allowedHosts: [],
});

t.test('what a takeover adopts, leaves alone and needs a decision on', async (t) => {
  const disks = [
    disk(`pvc-${U}`, `${B}/pvc-${U}.img`),
    disk(`snap-${U}-at-1111111122`, `${B}/snap-${U}-at-1111111122.img`, false),
    disk(`snap-${U}-at-0000000000`, `${B}/snap-${U}-at-0000000000.img`, true),
    disk('backup-disk', `${B}/backup-disk.img`, false),
    disk(`pvc-${U.replace('1', '9')}`, `storage-pool/other/pvc-x.img`),
    disk('pvc-a', `${B}/pvc-a.rdscsi.img`),
  ];
  const files = [
    { path: `${B}/pvc-${U}.img`, sizeBytes: 1 },
    { path: `${B}/pvc-gone.img`, sizeBytes: 1 },
  ];
  const r = Object.fromEntries(goTakeoverChecks(disks, files, B).map((c) => [c.name, c]));
  t.match(r['Go volumes to adopt'], { status: 'pass', detail: /^1 under/ });
  t.match(r['Go snapshots to adopt'], { status: 'pass', detail: /^2 under/ });
  t.match(r['exported Go snapshots'], { status: 'warn', detail: /at-0000000000/ });
  t.match(r['other disks left alone'], { status: 'pass', detail: /1 never touched: backup-disk$/ });
  t.match(r['Go volumes outside the pool path'], { status: 'warn', detail: /storage-pool\/other/ });
  t.match(r['image files without a disk'], { status: 'warn', detail: /pvc-gone\.img/ });
});

t.test('nothing to adopt is a warning that names the setting', async (t) => {
  const [first] = goTakeoverChecks([], [], B);
  t.match(first, { status: 'warn', fix: /rds-pool-path/ });
});
