import t from 'tap';
import { isReadOnly, mountAt, parseMountinfo } from '../../../src/mount/mountinfo';
import { extSize, xfsSize } from '../../../src/mount/superblock';

const SAMPLE = [
  '22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/nvme9n1p1 rw,errors=remount-ro',
  '90 22 259:3 / /var/lib/kubelet/plugins/x/globalmount rw,relatime shared:40 - xfs /dev/nvme0n1 rw,nouuid',
  '91 22 259:3 / /var/lib/kubelet/pods/a/volumes/my\\040vol/mount ro,relatime shared:40 - xfs /dev/nvme0n1 rw,nouuid',
  '92 22 0:5 /nvme1n1 /var/lib/kubelet/pods/b/volumeDevices/dev\\134x rw,nosuid master:2 - devtmpfs udev rw,size=1000k',
  '93 22 259:4 / /mnt/bad rw - ext4 /dev/nvme2n1 ro,errors=remount-ro',
  'garbage line',
  '94 22 0:6 / /opt/tagged rw shared:3 master:4 - tmpfs tmp\\011fs rw',
  '',
].join('\n');

t.test('parses every field and unescapes octal sequences', async (t) => {
  const m = parseMountinfo(SAMPLE);
  t.equal(m.length, 6, 'malformed lines are skipped');
  t.match(m[1], {
    id: 90,
    parentId: 22,
    majorMinor: '259:3',
    root: '/',
    mountPoint: '/var/lib/kubelet/plugins/x/globalmount',
    options: ['rw', 'relatime'],
    fsType: 'xfs',
    source: '/dev/nvme0n1',
    superOptions: ['rw', 'nouuid'],
  });
  t.equal(m[2]?.mountPoint, '/var/lib/kubelet/pods/a/volumes/my vol/mount');
  t.equal(m[3]?.mountPoint, '/var/lib/kubelet/pods/b/volumeDevices/dev\\x');
  t.equal(m[3]?.root, '/nvme1n1');
  t.equal(m[5]?.source, 'tmp\tfs', 'optional fields of any count before the separator');
  t.equal(m[5]?.fsType, 'tmpfs');
});

t.test('mountAt finds the top-most mount; isReadOnly checks mount and superblock', async (t) => {
  const m = parseMountinfo(
    `${SAMPLE}\n95 90 259:7 / /var/lib/kubelet/plugins/x/globalmount rw - ext4 /dev/nvme5n1 rw\n`,
  );
  t.equal(mountAt(m, '/var/lib/kubelet/plugins/x/globalmount')?.source, '/dev/nvme5n1');
  t.equal(mountAt(m, '/nope'), undefined);
  t.equal(isReadOnly(m[1]!), false);
  t.equal(isReadOnly(m[2]!), true, 'per-mount ro');
  t.equal(isReadOnly(m[4]!), true, 'superblock ro after errors');
});

t.test('superblock sizes: ext4 (32 and 64 bit) and xfs', async (t) => {
  const ext = Buffer.alloc(4096);
  ext.writeUInt16LE(0xef53, 1024 + 0x38);
  ext.writeUInt32LE(2, 1024 + 0x18);
  ext.writeUInt32LE(262144, 1024 + 0x04);
  t.equal(extSize(ext), 262144 * 4096);
  ext.writeUInt32LE(0x80, 1024 + 0x60);
  ext.writeUInt32LE(1, 1024 + 0x150);
  t.equal(extSize(ext), (2 ** 32 + 262144) * 4096);
  t.equal(extSize(Buffer.alloc(4096)), undefined, 'no magic');
  t.equal(xfsSize(ext), undefined);
  const xfs = Buffer.alloc(4096);
  xfs.write('XFSB', 0, 'latin1');
  xfs.writeUInt32BE(4096, 4);
  xfs.writeBigUInt64BE(262144n, 8);
  t.equal(xfsSize(xfs), 1024 ** 3);
  t.equal(extSize(xfs), undefined);
});
