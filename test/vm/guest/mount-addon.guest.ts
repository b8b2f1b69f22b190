// Runs inside a test VM as root (see test/vm/guest-suite.test.ts): the addon's in-process
// probe (libblkid), mount(2) and umount2(2) against the real kernel, on loop devices and on
// NVMe/TCP namespaces exported by nvmet on 127.0.0.1. Checks errno mapping, descriptor
// leaks, option parity with mount(8), and the never-format rule on every signature this VM
// can write. Skips (with the reason) anywhere else.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import t from 'tap';
import { CancelledError } from '../../../src/domain/errors';
import { createAddonMounter, createLinuxMounter } from '../../../src/mount/linux';
import { createNativeRunner } from '../../../src/mount/native-runner';
import { type MountEntry, mountAt, parseMountinfo } from '../../../src/mount/mountinfo';
import { MS } from '../../../src/mount/options';
import { createProcessRunner } from '../../../src/mount/runner';
import { resolveNode } from '../../../src/node/deps';
import { stageVolume } from '../../../src/node/stage';
import { unstageVolume } from '../../../src/node/unstage';
import { createNativeFabrics } from '../../../src/nvme/fabrics';
import { loadHostIdentity } from '../../../src/nvme/hostid';
import { loadNvmeAddon } from '../../../src/nvme/native';
import { guestEnv } from './env';
import { fdCount, rejection } from './native-calls';
import { createTarget, loopDevice, nvmeSkipReason, removeTarget } from './nvmet';

const MIB = 2 ** 20;
const skip = nvmeSkipReason();
if (skip !== null) console.log(`# mount-addon guest test skipped: ${skip}`);

function table(): MountEntry[] {
  return parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
}

function writeAt(device: string, offset: number, data: Buffer): void {
  const fd = fs.openSync(device, 'r+');
  try {
    fs.writeSync(fd, data, 0, data.length, offset);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** An MBR (dos) partition table with one Linux partition from sector 2048. */
function mbr(sectors: number): Buffer {
  const b = Buffer.alloc(512);
  const e = 446;
  b[e + 4] = 0x83;
  b.writeUInt32LE(2048, e + 8);
  b.writeUInt32LE(sectors - 2048, e + 12);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

/** Protective MBR + a primary GPT header with an empty, checksummed entry array. */
function gpt(sectors: number): Buffer {
  const b = Buffer.alloc(34 * 512);
  b[446 + 4] = 0xee;
  b.writeUInt32LE(1, 446 + 8);
  b.writeUInt32LE(Math.min(sectors - 1, 0xffffffff), 446 + 12);
  b[510] = 0x55;
  b[511] = 0xaa;
  const h = 512;
  b.write('EFI PART', h, 'latin1');
  b.writeUInt32LE(0x00010000, h + 8);
  b.writeUInt32LE(92, h + 12);
  b.writeBigUInt64LE(1n, h + 24);
  b.writeBigUInt64LE(BigInt(sectors - 1), h + 32);
  b.writeBigUInt64LE(34n, h + 40);
  b.writeBigUInt64LE(BigInt(sectors - 34), h + 48);
  crypto.randomBytes(16).copy(b, h + 56);
  b.writeBigUInt64LE(2n, h + 72);
  b.writeUInt32LE(128, h + 80);
  b.writeUInt32LE(128, h + 84);
  b.writeUInt32LE(zlib.crc32(b.subarray(1024, 1024 + 128 * 128)), h + 88);
  b.writeUInt32LE(zlib.crc32(b.subarray(h, h + 92)), h + 16);
  return b;
}

/** A LUKS1 header: magic, version 1, cipher fields and a UUID, as cryptsetup writes them. */
function luks1(): Buffer {
  const b = Buffer.alloc(4096);
  Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]).copy(b, 0);
  b.writeUInt16BE(1, 6);
  b.write('aes', 8, 'latin1');
  b.write('xts-plain64', 40, 'latin1');
  b.write('sha256', 72, 'latin1');
  b.writeUInt32BE(4096, 104);
  b.writeUInt32BE(64, 108);
  b.write(crypto.randomUUID(), 168, 'latin1');
  return b;
}

type Writer = (device: string, sectors: number) => void;

/** Every signature this VM can write, with what blkid(8) and our probe must both see. */
const SIGNATURES: Record<string, { write: Writer; kind: string }> = {
  zeros: { write: () => undefined, kind: 'empty' },
  ext4: {
    write: (d) => execFileSync('mkfs.ext4', ['-F', '-q', d]),
    kind: 'filesystem',
  },
  xfs: { write: (d) => execFileSync('mkfs.xfs', ['-q', '-f', d]), kind: 'filesystem' },
  'dos partition table': { write: (d, s) => writeAt(d, 0, mbr(s)), kind: 'other' },
  'gpt partition table': { write: (d, s) => writeAt(d, 0, gpt(s)), kind: 'other' },
  'LUKS1 header': { write: (d) => writeAt(d, 0, luks1()), kind: 'other' },
  // No signature: blkid(8) and libblkid both call it empty; they must agree.
  'random bytes': { write: (d) => writeAt(d, 0, crypto.randomBytes(4 * MIB)), kind: 'empty' },
};

t.test('in-process probe and mount(2) on a real kernel', { skip: skip ?? false }, async (t) => {
  const addon = loadNvmeAddon();
  const mounter = createAddonMounter(addon);
  const tools = createLinuxMounter({ run: createProcessRunner() });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mount-addon-'));
  const loops: string[] = [];
  const loop = (name: string, mib: number): string => {
    const l = loopDevice(path.join(work, `${name}.img`), mib);
    loops.push(l);
    return l;
  };
  t.teardown(() => {
    for (const m of table()
      .filter((e) => e.mountPoint.startsWith(`${work}/`))
      .reverse()) {
      spawnSync('umount', ['-l', m.mountPoint]);
    }
    for (const l of loops) spawnSync('losetup', ['-d', l]);
    fs.rmSync(work, { recursive: true, force: true });
  });
  const fdsBefore = fdCount();

  await t.test('probe: same verdict as blkid -p on every signature', async (t) => {
    for (const [name, sig] of Object.entries(SIGNATURES)) {
      const dev = loop(name.replace(/\W/g, '-'), 320);
      sig.write(dev, (320 * MIB) / 512);
      const ours = await mounter.probe(dev);
      const theirs = await tools.probe(dev);
      t.equal(ours.kind, sig.kind, `${name}: ${JSON.stringify(ours)}`);
      t.same(ours.kind === 'ambiguous' ? theirs.kind : ours, theirs, `${name}: blkid(8) agrees`);
      const raw = await addon.probeDevice(dev);
      t.comment(`${name}: ${raw.status} ${JSON.stringify(raw.values)}`);
    }
  });

  await t.test('probe: errno as data, nothing left open', async (t) => {
    const before = fdCount();
    t.match(await rejection(addon.probeDevice(`${work}/missing`)), {
      code: 'ENOENT',
      syscall: 'open',
    });
    fs.writeFileSync(`${work}/plain`, 'x');
    t.match(await rejection(addon.probeDevice(`${work}/plain`)), {
      code: 'ENOTBLK',
      syscall: 'fstat',
    });
    t.match(await rejection(addon.probeDevice(work)), { code: 'ENOTBLK' });
    const dev = loop('many', 64);
    const replies = await Promise.all(Array.from({ length: 16 }, () => addon.probeDevice(dev)));
    t.ok(
      replies.every((r) => r.status === 'nothing'),
      '16 concurrent probes',
    );
    t.equal(fdCount(), before, 'no descriptor leaked');
    t.throws(() => addon.probeDevice('relative'), TypeError);
  });

  await t.test(
    'posix_spawn runner: tools run, fail and time out as with child_process',
    async (t) => {
      const run = createNativeRunner(addon);
      const before = fdCount();
      const dev = loop('spawn', 64);
      t.match(await run(['mkfs.ext4', '-F', '-q', dev], { timeoutMs: 60_000 }), { code: 0 });
      t.match(await mounter.probe(dev), { kind: 'filesystem', fsType: 'ext4' });
      t.match(await run(['mkfs.xfs', '-q', dev], { timeoutMs: 60_000 }), {
        code: 1,
        stderr: /existing filesystem|appears to contain/,
      });
      await t.rejects(run(['no-such-mkfs'], { timeoutMs: 1000 }), { code: 'failed-precondition' });
      await t.rejects(run(['sleep', '30'], { timeoutMs: 300 }), { code: 'deadline-exceeded' });
      t.match(await run(['sh', '-c', 'ls /proc/self/fd | wc -l'], { timeoutMs: 10_000 }), {
        stdout: /^\s*4\s*$/,
      });
      t.equal(fdCount(), before, 'no descriptor leaked');
    },
  );

  await t.test('mount(2): the options mount(8) would pass, exactly', async (t) => {
    const cases: [string, string[]][] = [
      ['ext4', []],
      ['ext4', ['ro']],
      ['ext4', ['noatime', 'nosuid', 'nodev', 'noexec']],
      ['ext4', ['errors=remount-ro', 'discard', 'nodiratime']],
      ['ext4', ['sync', 'dirsync', 'lazytime']],
      ['xfs', []],
      ['xfs', ['ro', 'norecovery']],
      ['xfs', ['noatime', 'inode64', 'logbufs=4']],
    ];
    const devs = { ext4: loop('opt-ext4', 320), xfs: loop('opt-xfs', 320) };
    execFileSync('mkfs.ext4', ['-F', '-q', devs.ext4]);
    execFileSync('mkfs.xfs', ['-q', '-f', devs.xfs]);
    for (const [i, [fsType, options]] of cases.entries()) {
      const ours = path.join(work, `ours-${i}`);
      const theirs = path.join(work, `theirs-${i}`);
      fs.mkdirSync(ours);
      fs.mkdirSync(theirs);
      await mounter.mount(devs[fsType as 'ext4'], ours, fsType as 'ext4', options);
      const a = mountAt(table(), ours);
      await mounter.unmount(ours);
      const all = [...options, ...(fsType === 'xfs' ? ['nouuid'] : [])];
      execFileSync(
        'mount',
        ['-t', fsType, ...(all.length ? ['-o', all.join(',')] : [])].concat([
          devs[fsType as 'ext4'],
          theirs,
        ]),
      );
      const b = mountAt(table(), theirs);
      execFileSync('umount', [theirs]);
      t.same(
        { options: a?.options, superOptions: a?.superOptions, fsType: a?.fsType },
        { options: b?.options, superOptions: b?.superOptions, fsType: b?.fsType },
        `${fsType} -o ${all.join(',') || '(none)'}: ${a?.options.join(',')} | ${a?.superOptions.join(',')}`,
      );
      t.notOk(mountAt(table(), ours), 'unmounted');
    }
  });

  await t.test('xfs clones mount side by side (nouuid reaches the kernel)', async (t) => {
    const a = loop('clone-a', 320);
    execFileSync('mkfs.xfs', ['-q', '-f', a]);
    // A block-for-block copy, as a volume clone is: same filesystem UUID.
    execFileSync('cp', ['--sparse=always', `${work}/clone-a.img`, `${work}/clone-b.img`]);
    const b = execFileSync('losetup', ['-f', '--show', `${work}/clone-b.img`], {
      encoding: 'utf8',
    }).trim();
    loops.push(b);
    for (const [dev, dir] of [
      [a, 'clone-a'],
      [b, 'clone-b'],
    ] as const) {
      fs.mkdirSync(path.join(work, dir));
      await mounter.mount(dev, path.join(work, dir), 'xfs', []);
    }
    t.ok(mountAt(table(), path.join(work, 'clone-b')), 'second clone mounted');
    await mounter.unmount(path.join(work, 'clone-a'));
    await mounter.unmount(path.join(work, 'clone-b'));
  });

  await t.test('bind, read-only bind, and the errnos of failed calls', async (t) => {
    const dev = loop('bind', 64);
    execFileSync('mkfs.ext4', ['-F', '-q', dev]);
    const src = path.join(work, 'bind-src');
    const rw = path.join(work, 'bind-rw');
    const ro = path.join(work, 'bind-ro');
    for (const d of [src, rw, ro]) fs.mkdirSync(d);
    const before = fdCount();
    await mounter.mount(dev, src, 'ext4', ['nosuid']);
    await mounter.bind(src, rw, false);
    await mounter.bind(src, ro, true);
    fs.writeFileSync(path.join(rw, 'f'), 'data');
    t.equal(fs.readFileSync(path.join(ro, 'f'), 'utf8'), 'data', 'binds share the filesystem');
    t.throws(() => fs.writeFileSync(path.join(ro, 'g'), 'x'), { code: 'EROFS' });
    t.match(mountAt(table(), ro)?.options, ['ro', 'nosuid'], 'ro and the inherited nosuid');
    t.match(mountAt(table(), rw)?.options, ['rw', 'nosuid']);

    t.match(await rejection(addon.mount(dev, `${work}/nowhere`, 'ext4', 0, null)), {
      code: 'ENOENT',
      syscall: 'mount',
    });
    const blank = loop('blank', 64);
    const dir = path.join(work, 'blank');
    fs.mkdirSync(dir);
    t.match(await rejection(addon.mount(blank, dir, 'ext4', MS.SILENT, null)), {
      code: 'EINVAL',
    });
    t.match(await rejection(addon.mount(dev, dir, 'ext4', 0, 'no_such_option')), {
      code: 'EINVAL',
    });
    t.match(await rejection(addon.umount(dir, 0)), { code: 'EINVAL', syscall: 'umount2' });
    const held = fs.openSync(path.join(rw, 'f'), 'r');
    t.match(await rejection(addon.umount(rw, 0)), { code: 'EBUSY' });
    await t.rejects(mounter.unmount(rw), { code: 'failed-precondition', message: /EBUSY/ });
    fs.closeSync(held);
    const ac = new AbortController();
    ac.abort(new CancelledError('cancelled'));
    await t.rejects(mounter.unmount(rw, { signal: ac.signal }), CancelledError);
    t.ok(mountAt(table(), rw), 'an aborted unmount did nothing');
    for (const d of [ro, rw, src]) await mounter.unmount(d);
    t.notOk(mountAt(table(), src), 'all unmounted');
    t.equal(fdCount(), before, 'no descriptor leaked');
  });

  t.equal(fdCount(), fdsBefore, 'no file descriptors leaked');
});

t.test(
  'never format: staging refuses every signature, in-process probe',
  { skip: skip ?? false },
  async (t) => {
    const addon = loadNvmeAddon();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'never-format-'));
    const host = await loadHostIdentity({ nodeId: guestEnv()?.name ?? 'guest' });
    const fabrics = createNativeFabrics({ addon });
    const formats: string[] = [];
    const real = createAddonMounter(addon);
    const ctx = resolveNode({
      nodeId: 'guest',
      kubeletDir: work,
      maxVolumesPerNode: 0,
      fabrics,
      mounter: {
        ...real,
        format: (device, fsType) => {
          formats.push(device);
          return real.format(device, fsType);
        },
      },
      host,
      timing: { probeDelayMs: 50 },
    });
    t.teardown(() => spawnSync('sh', ['-c', `umount -l ${work}/*/staging 2>/dev/null; true`]));
    for (const [name, sig] of Object.entries(SIGNATURES)) {
      const id = name.replace(/\W/g, '-');
      const nqn = `nqn.2000-02.com.mikrotik:never-${id}`;
      const file = path.join(work, `${id}.img`);
      const dev = loopDevice(file, 320);
      sig.write(dev, (320 * MIB) / 512);
      const head = Buffer.alloc(MIB);
      const fd = fs.openSync(dev, 'r');
      fs.readSync(fd, head, 0, MIB, 0);
      fs.closeSync(fd);
      createTarget({ nqn, devicePath: dev, traddr: '127.0.0.1' });
      const staging = path.join(work, id, 'staging');
      const input = {
        volumeId: `pvc-${id}`,
        stagingPath: staging,
        access: { kind: 'mount' as const, fsType: 'ext4' as const, flags: [] },
        context: { nqn, traddr: '127.0.0.1', trsvcid: 4420, fsType: undefined },
      };
      const res = await stageVolume(ctx, input).catch((e: unknown) => e as Error);
      const formatted = formats.length > 0;
      formats.length = 0;
      if (sig.kind === 'empty') {
        t.match(res, { formatted: true }, `${name}: no signature, formatted`);
      } else if (name === 'ext4') {
        t.match(res, { formatted: false }, `${name}: mounted as it is`);
      } else {
        t.match(
          res,
          { code: 'failed-precondition' },
          `${name}: refused (${(res as Error).message})`,
        );
        t.notOk(formatted, `${name}: not formatted`);
        const after = Buffer.alloc(MIB);
        const fd2 = fs.openSync(dev, 'r');
        fs.readSync(fd2, after, 0, MIB, 0);
        fs.closeSync(fd2);
        t.ok(after.equals(head), `${name}: first MiB untouched`);
      }
      await unstageVolume(ctx, { volumeId: input.volumeId, stagingPath: staging });
      removeTarget(nqn);
      execFileSync('losetup', ['-d', dev]);
      fs.rmSync(file, { force: true });
    }
    fs.rmSync(work, { recursive: true, force: true });
  },
);
