import t from 'tap';
import { describeUses, mountUsers } from '../../../src/nvme/inuse';

const nodes = [
  { name: 'nvme1n1', dev: '259:3' },
  { name: 'nvme1n1p2', dev: '259:9' },
];

t.test('mountUsers matches device numbers, sources and bind-mounted nodes', async (t) => {
  const text = [
    '25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '30 25 259:3 / /stage rw - ext4 /dev/nvme1n1 rw',
    '31 25 259:9 / /p2 rw - xfs /dev/disk/by-id/x rw',
    '32 25 0:99 / /odd rw - ext4 /dev/nvme1n1p2 rw',
    '33 25 0:5 /nvme1n1 /block/pvc rw - devtmpfs udev rw',
    '34 25 0:5 /nvme1n10 /block/other rw - devtmpfs udev rw',
    '35 25 259:30 / /other rw - ext4 /dev/nvme1n10 rw',
    'garbage line',
    '',
  ].join('\n');
  t.same(mountUsers(text, nodes), [
    { kind: 'mount', device: 'nvme1n1', detail: '/stage' },
    { kind: 'mount', device: 'nvme1n1p2', detail: '/p2' },
    { kind: 'mount', device: 'nvme1n1p2', detail: '/odd' },
    { kind: 'mount', device: 'nvme1n1', detail: '/block/pvc' },
  ]);
});

t.test('describeUses is short and readable', async (t) => {
  t.equal(
    describeUses([
      { kind: 'mount', device: 'a', detail: '/m' },
      { kind: 'open', device: 'a', detail: 'pid 1' },
      { kind: 'holder', device: 'a', detail: 'dm-0' },
    ]),
    'a mounted at /m; a open by pid 1; a held by dm-0',
  );
});
