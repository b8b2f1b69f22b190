import t from 'tap';
import { CancelledError, FailedPreconditionError, InternalError } from '../../../src/domain/errors';
import { kernelMountOps } from '../../../src/mount/kernel';
import type { MountEntry } from '../../../src/mount/mountinfo';
import { MS } from '../../../src/mount/options';
import type { MountSyscalls, ProbeReply } from '../../../src/nvme/native';

function nativeError(code: string): Error {
  return Object.assign(new Error(`${code}: failed, mount '/x'`), {
    code,
    errno: 16,
    syscall: 'mount',
    path: '/x',
  });
}

function entry(mountPoint: string, majorMinor: string, options: string[]): MountEntry {
  return {
    id: 1,
    parentId: 0,
    majorMinor,
    root: '/',
    mountPoint,
    options,
    fsType: 'ext4',
    source: '/dev/nvme0n1',
    superOptions: ['rw'],
  };
}

/** A kernel that records calls and keeps a mount table the way mount(2) would. */
function fakeKernel(over: Partial<MountSyscalls> = {}) {
  const calls: unknown[][] = [];
  let table: MountEntry[] = [];
  let probeReply: ProbeReply | Error = { status: 'nothing', values: {} };
  const sys: MountSyscalls = {
    async probeDevice(device) {
      calls.push(['probe', device]);
      if (probeReply instanceof Error) throw probeReply;
      return probeReply;
    },
    async mount(source, target, fstype, flags, data) {
      calls.push(['mount', source, target, fstype, flags, data]);
      if (flags & MS.REMOUNT) {
        table = table.map((e) =>
          e.mountPoint === target
            ? { ...e, options: [flags & MS.RDONLY ? 'ro' : 'rw', ...e.options.slice(1)] }
            : e,
        );
      } else {
        table.push(entry(target, '259:0', ['rw', 'relatime', 'nosuid']));
      }
    },
    async umount(target, flags) {
      calls.push(['umount', target, flags]);
    },
    ...over,
  };
  const ops = kernelMountOps({
    sys,
    mounts: async () => table,
    deviceNumber: async () => '259:0',
    readHead: async (d) =>
      d === '/dev/unreadable' ? 'could not be read: EIO' : Buffer.alloc(4096),
  });
  return {
    ops,
    calls,
    setTable: (t: MountEntry[]) => (table = t),
    setProbe: (r: ProbeReply | Error) => (probeReply = r),
  };
}

t.test('probe: only a positive "nothing" is empty', async (t) => {
  const k = fakeKernel();
  t.same(await k.ops.probe('/dev/nvme0n1'), { kind: 'empty' });
  k.setProbe({ status: 'found', values: { TYPE: 'xfs', USAGE: 'filesystem', UUID: 'u' } });
  t.same(await k.ops.probe('/dev/nvme0n1'), { kind: 'filesystem', fsType: 'xfs' });
  k.setProbe({ status: 'found', values: { PTTYPE: 'gpt', PTUUID: 'x' } });
  t.same(await k.ops.probe('/dev/nvme0n1'), { kind: 'other', detail: 'a gpt partition table' });
  k.setProbe({ status: 'found', values: { TYPE: 'crypto_LUKS', USAGE: 'crypto' } });
  t.same(await k.ops.probe('/dev/nvme0n1'), { kind: 'other', detail: 'crypto_LUKS (crypto)' });
  k.setProbe({ status: 'found', values: {} });
  t.equal((await k.ops.probe('/dev/nvme0n1')).kind, 'ambiguous');
  k.setProbe({ status: 'ambiguous', values: {} });
  t.match(await k.ops.probe('/dev/nvme0n1'), { kind: 'ambiguous', reason: /more than one/ });
  k.setProbe(nativeError('EIO'));
  t.match(await k.ops.probe('/dev/nvme0n1'), { kind: 'ambiguous', reason: /EIO/ });
});

t.test('probe: an unreadable device is ambiguous without probing', async (t) => {
  const k = fakeKernel();
  t.match(await k.ops.probe('/dev/unreadable'), { kind: 'ambiguous', reason: /EIO/ });
  t.same(k.calls, []);
});

t.test('probe and mount honour an aborted signal before any syscall', async (t) => {
  const k = fakeKernel();
  const ac = new AbortController();
  ac.abort(new CancelledError('stage cancelled'));
  await t.rejects(k.ops.probe('/dev/nvme0n1', { signal: ac.signal }), CancelledError);
  await t.rejects(k.ops.mount('/dev/nvme0n1', '/m', 'ext4', [], { signal: ac.signal }));
  await t.rejects(k.ops.bind('/s', '/t', false, { signal: ac.signal }));
  await t.rejects(k.ops.unmount('/t', { signal: ac.signal }));
  t.same(k.calls, []);
});

t.test("mount passes mount(8)'s flags and data and reads the table back", async (t) => {
  const k = fakeKernel();
  await k.ops.mount('/dev/nvme0n1', '/stage', 'xfs', ['ro', 'noatime'], {});
  t.same(k.calls, [['mount', '/dev/nvme0n1', '/stage', 'xfs', MS.RDONLY | MS.NOATIME, 'nouuid']]);
  k.calls.length = 0;
  await k.ops.mount('/dev/nvme0n1', '/stage2', 'ext4', [], {});
  t.same(k.calls, [['mount', '/dev/nvme0n1', '/stage2', 'ext4', 0, null]]);
});

t.test('mount: a failed or unverified mount is an InternalError', async (t) => {
  const failing = fakeKernel({
    mount: async () => {
      throw nativeError('EINVAL');
    },
  });
  await t.rejects(failing.ops.mount('/dev/nvme0n1', '/m', 'ext4', []), {
    constructor: InternalError,
    message: /mounting \/dev\/nvme0n1 on \/m failed: EINVAL/,
  });
  const silent = fakeKernel({ mount: async () => undefined });
  await t.rejects(silent.ops.mount('/dev/nvme0n1', '/m', 'ext4', []), {
    message: /succeeded but \/m is not mounted/,
  });
  const other = fakeKernel({ mount: async () => undefined });
  other.setTable([entry('/m', '8:1', ['rw'])]);
  await t.rejects(other.ops.mount('/dev/nvme0n1', '/m', 'ext4', []), {
    message: /shows \/dev\/nvme0n1 \(8:1\)/,
  });
});

t.test(
  'bind: plain bind is one call; read-only adds a remount keeping per-mount flags',
  async (t) => {
    const k = fakeKernel();
    await k.ops.bind('/stage', '/pub', false);
    t.same(k.calls, [['mount', '/stage', '/pub', null, MS.BIND, null]]);
    k.calls.length = 0;
    await k.ops.bind('/stage', '/pub-ro', true);
    t.same(k.calls, [
      ['mount', '/stage', '/pub-ro', null, MS.BIND, null],
      [
        'mount',
        '/stage',
        '/pub-ro',
        null,
        MS.REMOUNT | MS.BIND | MS.RDONLY | MS.RELATIME | MS.NOSUID,
        null,
      ],
    ]);
    // a remount the table does not reflect is reported, not trusted
    const k2 = fakeKernel({
      mount: async (_s, target, _f, flags) => {
        if (!(flags & MS.REMOUNT)) k2.setTable([entry(target, '0:5', ['rw'])]);
      },
    });
    await t.rejects(k2.ops.bind('/stage', '/pub', true), { message: /still shows it writable/ });
  },
);

t.test('unmount: one umount2; failures are FailedPrecondition with the errno code', async (t) => {
  const k = fakeKernel();
  await k.ops.unmount('/stage');
  t.same(k.calls, [['umount', '/stage', 0]]);
  const busy = fakeKernel({
    umount: async () => {
      throw nativeError('EBUSY');
    },
  });
  await t.rejects(busy.ops.unmount('/stage'), {
    constructor: FailedPreconditionError,
    message: /could not unmount \/stage: EBUSY/,
  });
});
