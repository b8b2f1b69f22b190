/**
 * The real rds_nvme addon against temp directories standing in for sysfs and
 * /dev/nvme-fabrics. The kernel paths themselves are exercised by the VM guest tests.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { type RawScan, isNativeError, loadNvmeAddon } from '../../../src/nvme/native';
import { FakeSysfs } from '../../fakes/sysfs';

const addon = loadNvmeAddon();
const NQN = 'nqn.2000-02.com.mikrotik:pvc-a';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
}

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rds-nvme-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

function sorted(raw: RawScan): RawScan {
  const byName = <T extends { name: string }>(a: readonly T[]) =>
    [...a].sort((x, y) => x.name.localeCompare(y.name));
  return {
    controllers: byName(raw.controllers),
    subsystems: byName(raw.subsystems).map((s) => ({ ...s, members: [...s.members].sort() })),
    namespaces: byName(raw.namespaces),
    truncated: raw.truncated,
  };
}

t.test('scan of a written fake tree equals the fake model (keeps the fake honest)', async (t) => {
  const root = await tempDir(t);
  const sys = new FakeSysfs();
  sys.connectMultipath({ instance: 0, subsysnqn: NQN }, [1, 3]);
  sys.connectMultipath({ instance: 2, subsysnqn: NQN, traddr: '127.0.0.2', state: 'connecting' });
  sys.connectSinglePath({ instance: 5, subsysnqn: 'nqn.2000-02.com.mikrotik:pvc-b' });
  await sys.writeTo(root);
  // noise the scan must skip: generic char devices, partitions, unrelated files
  await fs.mkdir(path.join(root, 'class/nvme/nvme0/ng0n1'), { recursive: true });
  await fs.mkdir(path.join(root, 'class/nvme-subsystem/nvme-subsys0/nvme0n1p1'), {
    recursive: true,
  });
  await fs.writeFile(path.join(root, 'class/nvme/README'), '');
  const before = fdCount();
  const raw = await addon.scan({ sysfsRoot: root });
  t.same(sorted(raw), sorted(sys.toRaw()));
  t.same(
    sorted(await addon.scan({ sysfsRoot: root, brief: true })),
    sorted(sys.toRaw({ brief: true })),
    'a brief scan: the same entries, only the attributes that find and judge them',
  );
  t.equal(fdCount(), before, 'no descriptor leaked');
});

t.test(
  'scanController: one controller, its subsystem and heads, as the full scan sees them',
  async (t) => {
    const root = await tempDir(t);
    const sys = new FakeSysfs();
    sys.connectMultipath({ instance: 0, subsysnqn: NQN }, [1, 3]);
    sys.connectMultipath({ instance: 2, subsysnqn: NQN, traddr: '127.0.0.2' });
    sys.connectMultipath({ instance: 4, subsysnqn: `${NQN}-other` });
    sys.connectSinglePath({ instance: 5, subsysnqn: 'nqn.2000-02.com.mikrotik:pvc-b' });
    await sys.writeTo(root);
    await fs.mkdir(path.join(root, 'class/nvme/nvme2/ng0n1'), { recursive: true });
    const before = fdCount();
    for (const instance of [0, 2, 4, 5]) {
      const raw = await addon.scanController(instance, { sysfsRoot: root });
      t.same(sorted(raw), sorted(sys.toRawController(instance)), `nvme${instance}`);
      t.equal(raw.controllers.length, 1);
    }
    const second = await addon.scanController(2, { sysfsRoot: root });
    t.same(
      second.subsystems.map((s) => [...s.members].sort()),
      [['nvme0', 'nvme2']],
      'the shared subsystem with both members',
    );
    t.same(
      await addon.scanController(9, { sysfsRoot: root }),
      { controllers: [], subsystems: [], namespaces: [], truncated: false },
      'a controller that is gone is absent, not an error',
    );
    t.equal(fdCount(), before, 'no descriptor leaked');
  },
);

t.test(
  'scanController: a per-path name naming a subsystem without the controller is not trusted',
  async (t) => {
    const root = await tempDir(t);
    const sys = new FakeSysfs();
    sys.connectMultipath({ instance: 0, subsysnqn: NQN });
    sys.connectMultipath({ instance: 2, subsysnqn: `${NQN}-other` });
    await sys.writeTo(root);
    const own = sys.toRawController(2).subsystems.map((s) => s.name);
    t.equal(own.length, 1);
    const other = sys.toRawController(0).subsystems.map((s) => s.name);
    t.not(other[0], own[0]);
    // An entry under nvme2 whose name points at nvme0's subsystem, which does not list nvme2.
    const index = other[0]!.replace('nvme-subsys', '');
    await fs.mkdir(path.join(root, `class/nvme/nvme2/nvme${index}c2n7`), { recursive: true });
    const raw = await addon.scanController(2, { sysfsRoot: root });
    t.same(
      raw.subsystems.map((s) => s.name),
      own,
      'the subsystem that lists the controller, found by looking',
    );
  },
);

t.test('scan of an empty or missing tree is empty', async (t) => {
  const root = await tempDir(t);
  t.same(await addon.scan({ sysfsRoot: root }), {
    controllers: [],
    subsystems: [],
    namespaces: [],
    truncated: false,
  });
});

t.test('scan fails with errno data when a class directory is not a directory', async (t) => {
  const root = await tempDir(t);
  await fs.mkdir(path.join(root, 'class'));
  await fs.writeFile(path.join(root, 'class/nvme'), 'x');
  const err = await addon.scan({ sysfsRoot: root }).catch((e: unknown) => e);
  t.ok(isNativeError(err));
  t.match(err, { code: 'ENOTDIR', syscall: 'open', path: path.join(root, 'class/nvme') });
});

t.test('disconnect, rescan and setAttribute write the controller attribute', async (t) => {
  const root = await tempDir(t);
  const sys = new FakeSysfs();
  sys.connectMultipath({ instance: 3, subsysnqn: NQN });
  await sys.writeTo(root);
  const dir = path.join(root, 'class/nvme/nvme3');
  const before = fdCount();
  await addon.disconnect(3, { sysfsRoot: root });
  t.equal(await fs.readFile(path.join(dir, 'delete_controller'), 'utf8'), '1');
  await addon.rescan(3, { sysfsRoot: root });
  t.equal(await fs.readFile(path.join(dir, 'rescan_controller'), 'utf8'), '1');
  await addon.setAttribute(3, 'ctrl_loss_tmo', '600', { sysfsRoot: root });
  // the fake file held 'off\n': the three value bytes overwrite it in place, no newline added
  t.equal(await fs.readFile(path.join(dir, 'ctrl_loss_tmo'), 'utf8'), '600\n');
  const gone = await addon.disconnect(4, { sysfsRoot: root }).catch((e: unknown) => e);
  t.match(gone, {
    code: 'ENOENT',
    errno: os.constants.errno.ENOENT,
    syscall: 'open',
    path: path.join(root, 'class/nvme/nvme4/delete_controller'),
  });
  t.ok(gone instanceof Error);
  t.equal(fdCount(), before, 'no descriptor leaked');
});

t.test('connect: one write of the options, one read of the reply', async (t) => {
  const root = await tempDir(t);
  const file = path.join(root, 'nvme-fabrics');
  const options = `transport=tcp,traddr=127.0.0.1,trsvcid=4420,nqn=${NQN}`;
  // A regular file: the write lands at offset 0, the read continues after it.
  await fs.writeFile(file, `${'#'.repeat(options.length)}instance=12,cntlid=34\n`);
  const before = fdCount();
  const calledAt = Number(process.hrtime.bigint()) / 1e6;
  const reply = await addon.connect(options, { fabricsPath: file });
  const resumedAt = Number(process.hrtime.bigint()) / 1e6;
  t.match(reply, { instance: 12, cntlid: 34 });
  t.notOk('lookup' in reply, 'no lookup without sysfsRoot');
  const st = reply.stamps!;
  t.ok(
    calledAt <= st.started &&
      st.started <= st.replied &&
      st.replied <= st.done &&
      st.done <= resumedAt,
    "the job's stamps are on process.hrtime's clock, in order",
  );
  t.equal(await fs.readFile(file, 'utf8'), `${options}instance=12,cntlid=34\n`);
  t.equal(fdCount(), before, 'no descriptor leaked');
});

t.test('connect: a FIFO carries the reply written ahead of it', async (t) => {
  const root = await tempDir(t);
  const fifo = path.join(root, 'fifo');
  t.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const handle = await fs.open(fifo, fs.constants.O_RDWR);
  t.teardown(() => handle.close());
  await handle.write('instance=0,cntlid=1\n');
  t.match(await addon.connect('transport=tcp', { fabricsPath: fifo }), { instance: 0, cntlid: 1 });
  // with sysfsRoot, the same job looks the new controller up
  const sys = new FakeSysfs();
  sys.connectMultipath({ instance: 2, subsysnqn: NQN });
  sys.connectMultipath({ instance: 3, subsysnqn: `${NQN}-other` });
  await sys.writeTo(path.join(root, 'sys'));
  await handle.write('instance=2,cntlid=7\n');
  const reply = await addon.connect('transport=tcp', {
    fabricsPath: fifo,
    sysfsRoot: path.join(root, 'sys'),
  });
  t.match(reply, { instance: 2, cntlid: 7 });
  t.same(sorted(reply.lookup!), sorted(sys.toRawController(2)), 'the lookup of nvme2 only');
  // with devRoot, each visible namespace says whether its node exists; per-path ones null
  const dev = path.join(root, 'dev');
  await fs.mkdir(dev);
  const perPath = (name: string): boolean => /^nvme\d+c\d+n\d+$/.test(name);
  const heads = sys.toRawController(2).namespaces.filter((n) => !perPath(n.name));
  t.ok(heads.length > 0);
  await fs.writeFile(path.join(dev, heads[0]!.name), '');
  await handle.write('instance=2,cntlid=7\n');
  const withDev = await addon.connect('transport=tcp', {
    fabricsPath: fifo,
    sysfsRoot: path.join(root, 'sys'),
    devRoot: dev,
  });
  const expected = (present: string | undefined) =>
    sys
      .toRawController(2)
      .namespaces.map((n) => [n.name, perPath(n.name) ? null : n.name === present ? '1' : '0'])
      .sort();
  t.same(
    withDev.lookup!.namespaces.map((n) => [n.name, n.devNode]).sort(),
    expected(heads[0]!.name),
    'devNode: 1 where the node exists, null for per-path entries',
  );
  await fs.rm(path.join(dev, heads[0]!.name));
  await handle.write('instance=2,cntlid=7\n');
  const noNode = await addon.connect('transport=tcp', {
    fabricsPath: fifo,
    sysfsRoot: path.join(root, 'sys'),
    devRoot: dev,
  });
  t.same(
    noNode.lookup!.namespaces.map((n) => [n.name, n.devNode]).sort(),
    expected(undefined),
    'devNode: 0 while the node is not there yet',
  );
  // a lookup that cannot be taken leaves it out; the connect still succeeded
  await fs.writeFile(path.join(root, 'file'), '');
  await handle.write('instance=2,cntlid=7\n');
  const noLookup = await addon.connect('transport=tcp', {
    fabricsPath: fifo,
    sysfsRoot: path.join(root, 'file'),
  });
  t.match(noLookup, { instance: 2, cntlid: 7 });
  t.notOk('lookup' in noLookup);
  const a = addon as unknown as Record<string, (...args: unknown[]) => unknown>;
  t.throws(() => a.connect!('transport=tcp', { fabricsPath: fifo, sysfsRoot: 'rel' }), TypeError);
  t.throws(
    () => a.connect!('transport=tcp', { fabricsPath: fifo, sysfsRoot: '/sys', devRoot: 'dev' }),
    TypeError,
  );
});

t.test('connect: unparseable reply is EPROTO', async (t) => {
  const root = await tempDir(t);
  const file = path.join(root, 'f');
  await fs.writeFile(file, '');
  const err = await addon.connect('a=b', { fabricsPath: file }).catch((e: unknown) => e);
  t.match(err, { code: 'EPROTO', syscall: 'read', path: file });
});

t.test('connect: ENOENT and EISDIR carry code, errno, syscall and path', async (t) => {
  const root = await tempDir(t);
  const missing = path.join(root, 'nope');
  const before = fdCount();
  t.match(await addon.connect('a=b', { fabricsPath: missing }).catch((e: unknown) => e), {
    code: 'ENOENT',
    errno: os.constants.errno.ENOENT,
    syscall: 'open',
    path: missing,
    message: /^ENOENT: .*open '.*nope'$/,
  });
  t.match(await addon.connect('a=b', { fabricsPath: root }).catch((e: unknown) => e), {
    code: 'EISDIR',
  });
  t.equal(fdCount(), before, 'no descriptor leaked');
});

t.test('connect: EACCES without permission', async (t) => {
  const root = await tempDir(t);
  const file = path.join(root, 'locked');
  await fs.writeFile(file, '', { mode: 0o600 });
  await fs.chmod(root, 0o755);
  if (process.getuid?.() !== 0) {
    await fs.chmod(file, 0o000);
    t.match(await addon.connect('a=b', { fabricsPath: file }).catch((e: unknown) => e), {
      code: 'EACCES',
      errno: os.constants.errno.EACCES,
    });
    return;
  }
  // root bypasses file modes: try it as 'nobody' in a child process
  const addonPath = path.resolve(__dirname, '../../../../build/Release/rds_nvme.node');
  const script = `const a=require(${JSON.stringify(addonPath)});a.connect('a=b',{fabricsPath:${JSON.stringify(file)}}).then(()=>console.log('{}'),e=>console.log(JSON.stringify({code:e.code,errno:e.errno,syscall:e.syscall})))`;
  const child = spawnSync(process.execPath, ['-e', script], {
    uid: 65534,
    gid: 65534,
    encoding: 'utf8',
  });
  if (child.status !== 0) {
    // Environment, not the addon: e.g. the build tree is not readable by 'nobody'.
    t.comment(`SKIP cannot run the addon as nobody: ${child.stderr.split('\n')[0] ?? ''}`);
    await t.skip('EACCES as nobody (see comment)', () => undefined);
    return;
  }
  t.same(JSON.parse(child.stdout), {
    code: 'EACCES',
    errno: os.constants.errno.EACCES,
    syscall: 'open',
  });
});

t.test('arguments are validated synchronously on the JS thread', async (t) => {
  const call = (f: () => unknown) => () => void f();
  const a = addon as unknown as Record<string, (...args: unknown[]) => unknown>;
  t.throws(
    call(() => a.connect!(42, { fabricsPath: '/x' })),
    TypeError,
  );
  t.throws(
    call(() => a.connect!('', { fabricsPath: '/x' })),
    TypeError,
  );
  t.throws(
    call(() => a.connect!('x'.repeat(4097), { fabricsPath: '/x' })),
    TypeError,
  );
  t.throws(
    call(() => a.connect!('a\0b', { fabricsPath: '/x' })),
    TypeError,
  );
  t.throws(
    call(() => a.connect!('a=b', { fabricsPath: 'relative' })),
    TypeError,
  );
  t.throws(
    call(() => a.connect!('a=b', {})),
    TypeError,
  );
  t.throws(
    call(() => a.connect!('a=b')),
    TypeError,
  );
  t.throws(
    call(() => a.disconnect!(-1, { sysfsRoot: '/sys' })),
    TypeError,
  );
  t.throws(
    call(() => a.disconnect!(1.5, { sysfsRoot: '/sys' })),
    TypeError,
  );
  t.throws(
    call(() => a.disconnect!('1', { sysfsRoot: '/sys' })),
    TypeError,
  );
  t.throws(
    call(() => a.rescan!(1, { sysfsRoot: '' })),
    TypeError,
  );
  t.throws(
    call(() => a.scan!({})),
    TypeError,
  );
  t.throws(
    call(() => a.scan!({ sysfsRoot: '/sys', brief: 'yes' })),
    TypeError,
  );
  t.throws(
    call(() => a.scanController!(-1, { sysfsRoot: '/sys' })),
    TypeError,
  );
  t.throws(
    call(() => a.scanController!('0', { sysfsRoot: '/sys' })),
    TypeError,
  );
  t.throws(
    call(() => a.scanController!(0, { sysfsRoot: 'sys' })),
    TypeError,
  );
  t.throws(
    call(() => a.setAttribute!(1, '../state', 'x', { sysfsRoot: '/sys' })),
    TypeError,
  );
  t.throws(
    call(() => a.setAttribute!(1, '.hidden', 'x', { sysfsRoot: '/sys' })),
    TypeError,
  );
  t.throws(
    call(() => a.setAttribute!(1, 'ctrl_loss_tmo', '', { sysfsRoot: '/sys' })),
    TypeError,
  );
});

t.test('many concurrent calls leak no descriptors', async (t) => {
  const root = await tempDir(t);
  const sys = new FakeSysfs();
  for (let i = 0; i < 8; i++) sys.connectMultipath({ instance: i, subsysnqn: `${NQN}-${i}` });
  await sys.writeTo(root);
  await addon.scan({ sysfsRoot: root });
  const before = fdCount();
  await Promise.all(
    Array.from({ length: 64 }, (_, i) =>
      i % 3 === 0
        ? addon.scan({ sysfsRoot: root })
        : i % 3 === 1
          ? addon.scanController(i % 8, { sysfsRoot: root })
          : addon
              .connect('a=b', { fabricsPath: path.join(root, 'missing') })
              .catch(() => undefined),
    ),
  );
  t.equal(fdCount(), before);
});

t.test('findOpeners walks <procRoot>/<pid>/fd links', async (t) => {
  const proc = await tempDir(t);
  await fs.mkdir(path.join(proc, '10/fd'), { recursive: true });
  await fs.mkdir(path.join(proc, '20/fd'), { recursive: true });
  await fs.mkdir(path.join(proc, '30'), { recursive: true });
  await fs.mkdir(path.join(proc, 'self/fd'), { recursive: true });
  await fs.symlink('/dev/nvme0n1', path.join(proc, '10/fd/3'));
  await fs.symlink('/dev/null', path.join(proc, '10/fd/0'));
  await fs.symlink('/dev/nvme0n1p2', path.join(proc, '20/fd/9'));
  await fs.symlink('/dev/nvme0n1', path.join(proc, 'self/fd/4'));
  const before = fdCount();
  const found = await addon.findOpeners(['/dev/nvme0n1', '/dev/nvme0n1p2'], { procRoot: proc });
  t.same(
    [...found].sort((a, b) => a.pid - b.pid),
    [
      { pid: 10, path: '/dev/nvme0n1' },
      { pid: 20, path: '/dev/nvme0n1p2' },
    ],
  );
  t.same(await addon.findOpeners([], { procRoot: proc }), []);
  t.match(await addon.findOpeners(['/x'], { procRoot: path.join(proc, 'nope') }), []);
  t.equal(fdCount(), before);
  // the real /proc: this process's own open of a file is found
  const file = path.join(proc, 'held');
  const handle = await fs.open(file, 'w');
  t.teardown(() => handle.close());
  const mine = await addon.findOpeners([file], { procRoot: '/proc' });
  t.ok(mine.some((o) => o.pid === process.pid && o.path === file));
  const a = addon as unknown as Record<string, (...args: unknown[]) => unknown>;
  t.throws(() => a.findOpeners!('x', { procRoot: '/proc' }), TypeError);
  t.throws(() => a.findOpeners!([1], { procRoot: '/proc' }), TypeError);
  t.throws(() => a.findOpeners!(Array(65).fill('/x'), { procRoot: '/proc' }), TypeError);
});

t.test('deviceUsage: nodes, holders, mountinfo and openers in one pass', async (t) => {
  const root = await tempDir(t);
  const sys = path.join(root, 'sys');
  const proc = path.join(root, 'proc');
  const block = path.join(sys, 'block/nvme0n1');
  const write = async (file: string, text: string) => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text);
  };
  await write(path.join(block, 'dev'), '259:0\n');
  await write(path.join(block, 'nvme0n1p1/partition'), '1\n');
  await write(path.join(block, 'nvme0n1p1/dev'), '259:1\n');
  await fs.mkdir(path.join(block, 'nvme0n1p1/holders/dm-0'), { recursive: true });
  await fs.mkdir(path.join(block, 'holders'), { recursive: true });
  await fs.mkdir(path.join(block, 'nvme0c0n1'), { recursive: true }); // not a partition
  await fs.mkdir(path.join(block, 'queue'), { recursive: true });
  const mountinfo = '36 1 259:1 / /mnt/a rw - ext4 /dev/nvme0n1p1 rw\n';
  await write(path.join(proc, 'self/mountinfo'), mountinfo);
  await fs.mkdir(path.join(proc, '10/fd'), { recursive: true });
  await fs.symlink('/dev/nvme0n1p1', path.join(proc, '10/fd/3'));
  await fs.symlink('/dev/nvme9n1', path.join(proc, '10/fd/4'));
  const before = fdCount();
  const usage = await addon.deviceUsage(['nvme0n1', 'nvme1n1'], {
    sysfsRoot: sys,
    procRoot: proc,
  });
  t.same(usage, {
    nodes: [
      { name: 'nvme0n1', dev: '259:0', holders: [] },
      { name: 'nvme0n1p1', dev: '259:1', holders: ['dm-0'] },
      { name: 'nvme1n1', dev: null, holders: [] },
    ],
    mountinfo,
    openers: [{ pid: 10, path: '/dev/nvme0n1p1' }],
  });
  t.match(
    await rejection(addon.deviceUsage(['nvme0n1'], { sysfsRoot: sys, procRoot: sys })),
    { code: 'ENOENT', syscall: 'open', path: path.join(sys, 'self/mountinfo') },
    'an unreadable mountinfo fails the check instead of passing it',
  );
  t.equal(fdCount(), before, 'no descriptor leaked');
  const a = addon as unknown as Record<string, (...args: unknown[]) => unknown>;
  const opts = { sysfsRoot: sys, procRoot: proc };
  t.throws(() => a.deviceUsage!('nvme0n1', opts), TypeError);
  t.throws(() => a.deviceUsage!(['../nvme0n1'], opts), TypeError);
  t.throws(() => a.deviceUsage!(['..'], opts), TypeError);
  t.throws(() => a.deviceUsage!([1], opts), TypeError);
  t.throws(() => a.deviceUsage!(Array(65).fill('nvme0n1'), opts), TypeError);
  t.throws(() => a.deviceUsage!(['nvme0n1'], { sysfsRoot: sys }), TypeError);
});

t.test('probeDevice: errno as data for what is not a block device', async (t) => {
  const dir = await tempDir(t);
  const before = fdCount();
  const missing = await addon.probeDevice(path.join(dir, 'none')).catch((e: unknown) => e);
  t.ok(isNativeError(missing));
  t.match(missing, { code: 'ENOENT', syscall: 'open', path: path.join(dir, 'none') });
  await fs.writeFile(path.join(dir, 'file'), 'x');
  t.match(await addon.probeDevice(path.join(dir, 'file')).catch((e: unknown) => e), {
    code: 'ENOTBLK',
    syscall: 'fstat',
  });
  t.equal(fdCount(), before, 'no descriptor leaked');
  const a = addon as unknown as Record<string, (...args: unknown[]) => unknown>;
  t.throws(() => a.probeDevice!('relative/path'), TypeError);
  t.throws(() => a.probeDevice!(''), TypeError);
  t.throws(() => a.probeDevice!('/dev/x\0y'), TypeError);
});

t.test('mount/umount: arguments checked on the JS thread', async (t) => {
  const a = addon as unknown as Record<string, (...args: unknown[]) => unknown>;
  t.throws(() => a.mount!('/dev/x', 'relative', 'ext4', 0, null), TypeError);
  t.throws(() => a.mount!('/dev/x', '/mnt', 'ext4', -1, null), TypeError);
  t.throws(() => a.mount!('/dev/x', '/mnt', 'ext4', 2 ** 32, null), TypeError);
  t.throws(() => a.mount!('/dev/x', '/mnt', 'ext4', 1.5, null), TypeError);
  t.throws(() => a.mount!('/dev/x', '/mnt', 7, 0, null), TypeError);
  t.throws(() => a.mount!('/dev/x', '/mnt', 'ext4', 0, 'x'.repeat(4096)), TypeError);
  t.throws(() => a.umount!('/mnt', 0x100), TypeError);
  t.throws(() => a.umount!('mnt', 0), TypeError);
  // umount2 of a directory that is no mount point: EINVAL (root) or EPERM (not root)
  const dir = await tempDir(t);
  t.match(await addon.umount(dir, 0).catch((e: unknown) => e), {
    code: /^(EINVAL|EPERM)$/,
    syscall: 'umount2',
    path: dir,
  });
});

t.test('readFile: a small regular file in one job; errno as data for the rest', async (t) => {
  const root = await tempDir(t);
  const file = path.join(root, 'state.json');
  const text = '{"version":1,"name":"päivä"}\n';
  await fs.writeFile(file, text);
  const before = fdCount();
  t.equal(await addon.readFile(file, { maxBytes: 4096 }), text, 'the whole file, as UTF-8');
  t.equal(
    await addon.readFile(file, { maxBytes: Buffer.byteLength(text) }),
    text,
    'exactly maxBytes',
  );
  await fs.writeFile(path.join(root, 'empty'), '');
  t.equal(await addon.readFile(path.join(root, 'empty'), { maxBytes: 1 }), '');
  t.match(await rejection(addon.readFile(file, { maxBytes: Buffer.byteLength(text) - 1 })), {
    code: 'EFBIG',
    syscall: 'read',
    path: file,
  });
  t.equal(await addon.readFile(path.join(root, 'nope'), { maxBytes: 10 }), null, 'missing: null');
  t.match(await rejection(addon.readFile(path.join(file, 'below'), { maxBytes: 10 })), {
    code: 'ENOTDIR',
    syscall: 'open',
  });
  t.match(await rejection(addon.readFile(root, { maxBytes: 10 })), { code: 'EISDIR' });
  const fifo = path.join(root, 'fifo');
  t.equal(spawnSync('mkfifo', [fifo]).status, 0);
  t.match(
    await rejection(addon.readFile(fifo, { maxBytes: 10 })),
    { code: 'EINVAL' },
    'a FIFO is refused, never waited on',
  );
  t.equal(fdCount(), before, 'no descriptor leaked');
  const a = addon as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const args of [
    ['rel/path', { maxBytes: 10 }],
    [file, {}],
    [file, { maxBytes: 0 }],
    [file, { maxBytes: 2 ** 20 + 1 }],
    [file, { maxBytes: 1.5 }],
    [file, null],
  ]) {
    t.throws(() => a.readFile!(...args), TypeError, `refused: ${JSON.stringify(args)}`);
  }
});
