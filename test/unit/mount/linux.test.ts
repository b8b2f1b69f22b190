import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeadlineExceededError, FailedPreconditionError } from '../../../src/domain/errors';
import { classifyProbe, createLinuxMounter } from '../../../src/mount/linux';
import { type CommandRunner, type RunResult, createProcessRunner } from '../../../src/mount/runner';

function scripted(results: Partial<RunResult>[] = []) {
  const calls: string[][] = [];
  const run: CommandRunner = (argv) => {
    calls.push([...argv]);
    const r = results.shift() ?? {};
    return Promise.resolve({ code: 0, stdout: '', stderr: '', ...r });
  };
  return { calls, run };
}

t.test('classifyProbe: only a silent exit 2 is empty', async (t) => {
  const table: [Partial<RunResult>, string][] = [
    [{ code: 2 }, 'empty'],
    [{ code: 2, stderr: 'error: /dev/x: No such file or directory' }, 'ambiguous'],
    [{ code: 2, stdout: 'TYPE=ext4' }, 'ambiguous'],
    [{ code: 8, stderr: 'ambivalent result' }, 'ambiguous'],
    [{ code: 4 }, 'ambiguous'],
    [{ code: -1 }, 'ambiguous'],
    [{ code: 0 }, 'ambiguous'],
    [{ code: 0, stdout: 'UUID=x\n' }, 'ambiguous'],
    [{ code: 0, stdout: 'DEVNAME=/dev/x\nTYPE=xfs\nUSAGE=filesystem\n' }, 'filesystem'],
    [{ code: 0, stdout: 'TYPE=ext4\n' }, 'filesystem'],
    [{ code: 0, stdout: 'TYPE=crypto_LUKS\nUSAGE=crypto\n' }, 'other'],
    [{ code: 0, stdout: 'PTTYPE=gpt\n' }, 'other'],
  ];
  for (const [r, kind] of table) {
    const got = classifyProbe({ code: 0, stdout: '', stderr: '', ...r });
    t.equal(got.kind, kind, JSON.stringify(r));
  }
  t.same(classifyProbe({ code: 0, stdout: 'TYPE=xfs\n', stderr: '' }), {
    kind: 'filesystem',
    fsType: 'xfs',
  });
});

t.test(
  'probe of something that is not a readable block device is ambiguous, blkid not run',
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-mnt-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'disk');
    fs.writeFileSync(file, Buffer.alloc(8192));
    const s = scripted([{ code: 2 }]);
    const m = createLinuxMounter({ run: s.run });
    t.equal((await m.probe(file)).kind, 'ambiguous', 'regular file');
    t.equal((await m.probe(path.join(dir, 'missing'))).kind, 'ambiguous', 'missing device');
    t.same(s.calls, []);
    t.equal(await m.filesystemSize(file, 'ext4'), undefined);
    t.equal(await m.deviceNumber(file), undefined, 'not a block device');
    t.equal(await m.pathState(file), 'ok');
    t.equal(await m.pathState(path.join(dir, 'missing')), 'missing');
  },
);

t.test('tool argv: mkfs, fsck, mount (xfs gets nouuid), bind + ro remount, grow', async (t) => {
  const s = scripted();
  const m = createLinuxMounter({ run: s.run });
  await m.format('/dev/nvme0n1', 'ext4');
  await m.format('/dev/nvme0n1', 'xfs');
  await m.check('/dev/nvme0n1', 'ext4');
  await m.check('/dev/nvme0n1', 'xfs');
  await m.mount('/dev/nvme0n1', '/k/s', 'xfs', ['noatime']);
  await m.mount('/dev/nvme0n1', '/k/s', 'ext4', []);
  await m.bind('/k/s', '/k/t', true);
  await m.grow('/dev/nvme0n1', '/k/s', 'ext4');
  await m.grow('/dev/nvme0n1', '/k/s', 'xfs');
  await m.unmount('/k/t');
  t.same(s.calls, [
    ['mkfs.ext4', '-F', '-q', '-m0', '/dev/nvme0n1'],
    ['mkfs.xfs', '-q', '/dev/nvme0n1'],
    ['fsck.ext4', '-p', '/dev/nvme0n1'],
    ['mount', '-t', 'xfs', '-o', 'noatime,nouuid', '/dev/nvme0n1', '/k/s'],
    ['mount', '-t', 'ext4', '/dev/nvme0n1', '/k/s'],
    ['mount', '--bind', '/k/s', '/k/t'],
    ['mount', '-o', 'remount,bind,ro', '/k/t'],
    ['resize2fs', '/dev/nvme0n1'],
    ['xfs_growfs', '/k/s'],
    ['umount', '/k/t'],
  ]);
});

t.test('tool failures: exit codes become errors naming the step', async (t) => {
  const m = createLinuxMounter({
    run: scripted([
      { code: 1, stderr: 'mkfs: bad\nmore' },
      { code: 1 },
      { code: 4 },
      { code: 32, stderr: 'umount: target is busy.' },
    ]).run,
  });
  await t.rejects(m.format('/dev/x', 'ext4'), {
    code: 'internal',
    message: /formatting \/dev\/x as ext4 failed.*mkfs: bad/,
  });
  await m.check('/dev/x', 'ext4').then(() => t.pass('fsck exit 1 = errors corrected'));
  await t.rejects(m.check('/dev/x', 'ext4'), { code: 'internal' });
  await t.rejects(m.unmount('/k/t'), FailedPreconditionError);
});

t.test('mounts() reads <procRoot>/self/mountinfo', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-proc-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'self'));
  fs.writeFileSync(
    path.join(dir, 'self', 'mountinfo'),
    '90 22 259:3 / /a\\040b rw - xfs /dev/nvme0n1 rw\n',
  );
  const m = createLinuxMounter({ run: scripted().run, procRoot: dir });
  t.same(
    (await m.mounts()).map((e) => e.mountPoint),
    ['/a b'],
  );
});

t.test('process runner: argv only, missing tool, timeout, abort, output', async (t) => {
  const run = createProcessRunner();
  const echo = await run(['sh', '-c', 'echo "$0 $1"; echo err >&2; exit 3', 'a b', '$(id)'], {
    timeoutMs: 10_000,
  });
  t.same(
    echo,
    { code: 3, stdout: 'a b $(id)\n', stderr: 'err\n' },
    'arguments are not shell-expanded',
  );
  await t.rejects(run(['mkfs.nonexistent-fs'], { timeoutMs: 10_000 }), {
    code: 'failed-precondition',
    message: /required tool "mkfs.nonexistent-fs" is not installed/,
  });
  await t.rejects(run(['sleep', '30'], { timeoutMs: 200 }), DeadlineExceededError);
  const ac = new AbortController();
  const p = run(['sleep', '30'], { timeoutMs: 20_000, signal: ac.signal });
  setTimeout(() => ac.abort(new Error('stop')), 100);
  await t.rejects(p, { message: 'stop' });
  await t.rejects(run(['sleep', '1'], { timeoutMs: 1000, signal: AbortSignal.abort() }));
  await t.rejects(run([], { timeoutMs: 1000 }), { code: 'internal' });
});
