import t from 'tap';
import { MS, readOnlyBindRemountFlags, toKernelOptions } from '../../../src/mount/options';

t.test('toKernelOptions splits flags from filesystem data as mount(8) does', async (t) => {
  const cases: [string[], number, string | null][] = [
    [[], 0, null],
    [['defaults'], 0, null],
    [['ro'], MS.RDONLY, null],
    [['ro', 'rw'], 0, null],
    [['rw,ro'], MS.RDONLY, null],
    [['nouuid'], 0, 'nouuid'],
    [['noatime', 'nouuid'], MS.NOATIME, 'nouuid'],
    [['nosuid,nodev,noexec'], MS.NOSUID | MS.NODEV | MS.NOEXEC, null],
    [['nosuid', 'suid'], 0, null],
    [['errors=remount-ro', 'discard', 'ro'], MS.RDONLY, 'errors=remount-ro,discard'],
    [['relatime', 'nodiratime', 'lazytime'], MS.RELATIME | MS.NODIRATIME | MS.LAZYTIME, null],
    [['strictatime', 'sync', 'dirsync'], MS.STRICTATIME | MS.SYNCHRONOUS | MS.DIRSYNC, null],
    [['nofail', '_netdev', 'auto', 'noauto', 'x-systemd.automount', 'comment=x'], 0, null],
    [['bind'], MS.BIND, null],
    [['rbind'], MS.BIND | MS.REC, null],
    [['remount,bind,ro'], MS.REMOUNT | MS.BIND | MS.RDONLY, null],
    [['', 'nouuid,,'], 0, 'nouuid'],
    [['context="system_u:object_r:x:s0"'], 0, 'context="system_u:object_r:x:s0"'],
  ];
  for (const [input, flags, data] of cases) {
    t.same(toKernelOptions(input), { flags, data }, JSON.stringify(input));
  }
});

t.test('MS values are the kernel ABI (linux/mount.h)', async (t) => {
  t.equal(MS.RDONLY, 1);
  t.equal(MS.NOSUID, 2);
  t.equal(MS.NODEV, 4);
  t.equal(MS.NOEXEC, 8);
  t.equal(MS.REMOUNT, 32);
  t.equal(MS.NOATIME, 1024);
  t.equal(MS.BIND, 4096);
  t.equal(MS.REC, 16384);
  t.equal(MS.RELATIME, 1 << 21);
  t.equal(MS.STRICTATIME, 1 << 24);
});

t.test('a read-only bind remount keeps the per-mount flags the mount has', async (t) => {
  const base = MS.REMOUNT | MS.BIND | MS.RDONLY;
  t.equal(readOnlyBindRemountFlags(['rw', 'relatime']), base | MS.RELATIME);
  t.equal(
    readOnlyBindRemountFlags(['rw', 'nosuid', 'nodev', 'noexec', 'noatime']),
    base | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME,
  );
  // superblock-level or unknown options are not restated
  t.equal(readOnlyBindRemountFlags(['rw', 'sync', 'errors=remount-ro']), base);
});
