/**
 * The posix_spawn runner with the real addon on this machine: the same contract as the
 * child_process runner (exit codes, output, missing tool, timeout, env), no leaked fds.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import {
  CancelledError,
  DeadlineExceededError,
  FailedPreconditionError,
} from '../../../src/domain/errors';
import { createNativeRunner } from '../../../src/mount/native-runner';
import { createProcessRunner, toolPath } from '../../../src/mount/runner';
import { loadNvmeAddon } from '../../../src/nvme/native';

const addon = loadNvmeAddon();
const fdCount = (): number => readdirSync('/proc/self/fd').length;

t.test('same results as the process runner', async (t) => {
  const native = createNativeRunner(addon);
  const spawned = createProcessRunner();
  const before = fdCount();
  for (const argv of [
    ['true'],
    ['false'],
    ['sh', '-c', 'echo out; echo err >&2; exit 3'],
    ['sh', '-c', 'read x; echo "stdin: $x" ; ls -l /proc/self/fd | wc -l'],
  ]) {
    t.same(
      await native(argv, { timeoutMs: 10_000 }),
      await spawned(argv, { timeoutMs: 10_000 }),
      argv.join(' '),
    );
  }
  t.equal(fdCount(), before, 'no descriptor leaked');
  // (the process runner's env is not compared: tap adds its own variables to child_process)
  const env = await native(['sh', '-c', 'env | sort'], { timeoutMs: 10_000 });
  t.same(
    env.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('PWD=')),
    ['LC_ALL=C', `PATH=${toolPath()}`],
    'only PATH and LC_ALL reach the tool',
  );
});

t.test('output is bounded, a killed child reports -1', async (t) => {
  const run = createNativeRunner(addon);
  const big = await run(['sh', '-c', 'head -c 300000 /dev/zero | tr "\\0" x'], {
    timeoutMs: 10_000,
  });
  t.equal(big.code, 0);
  t.ok(big.stdout.length >= 64 * 1024 && big.stdout.length < 70 * 1024, `${big.stdout.length}`);
  t.match(await run(['sh', '-c', 'kill -9 $$'], { timeoutMs: 10_000 }), { code: -1 });
});

t.test('errors: missing tool, not executable, timeout, aborted', async (t) => {
  const run = createNativeRunner(addon, { path: '/usr/bin:/bin' });
  await t.rejects(run(['no-such-tool-here'], { timeoutMs: 1000 }), {
    constructor: FailedPreconditionError,
    message: /"no-such-tool-here" is not installed/,
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'native-runner-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'garbage'), Buffer.alloc(64, 1), { mode: 0o755 });
  writeFileSync(path.join(dir, 'plain'), 'x', { mode: 0o644 });
  for (const f of ['garbage', 'plain']) {
    await t.rejects(run([path.join(dir, f)], { timeoutMs: 1000 }), {
      constructor: FailedPreconditionError,
      message: /is not executable/,
    });
  }
  const started = Date.now();
  await t.rejects(run(['sleep', '30'], { timeoutMs: 200 }), DeadlineExceededError);
  t.ok(Date.now() - started < 10_000, 'killed at the timeout');
  const ac = new AbortController();
  ac.abort(new CancelledError('stop'));
  await t.rejects(run(['true'], { timeoutMs: 1000, signal: ac.signal }), CancelledError);
  const late = new AbortController();
  const p = run(['sleep', '30'], { timeoutMs: 60_000, signal: late.signal });
  setTimeout(() => late.abort(new CancelledError('late')), 100);
  await t.rejects(p, CancelledError, 'a signal still kills the child (process runner)');
  await t.rejects(run([''], { timeoutMs: 1000 }), /empty command/);
});

t.test('argument checks on the JS thread', async (t) => {
  const a = addon as unknown as Record<string, (...args: unknown[]) => unknown>;
  t.throws(() => a.run!('true', ['true'], { env: [], timeoutMs: 1 }), TypeError);
  t.throws(() => a.run!('/bin/true', [], { env: [], timeoutMs: 1 }), TypeError);
  t.throws(() => a.run!('/bin/true', ['x\0'], { env: [], timeoutMs: 1 }), TypeError);
  t.throws(() => a.run!('/bin/true', ['true'], { env: [], timeoutMs: 0 }), TypeError);
  t.throws(() => a.run!('/bin/true', ['true'], { env: 'PATH=/', timeoutMs: 10 }), TypeError);
});

t.test('side by side on this machine: posix_spawn vs child_process', async (t) => {
  const native = createNativeRunner(addon);
  const spawned = createProcessRunner();
  const time = async (run: typeof native): Promise<number> => {
    const xs: number[] = [];
    for (let i = 0; i < 15; i++) {
      const s = performance.now();
      await run(['true'], { timeoutMs: 10_000 });
      xs.push(performance.now() - s);
    }
    return xs.sort((a, b) => a - b)[7]!;
  };
  const a = await time(native);
  const b = await time(spawned);
  t.comment(
    `spawn true, median of 15: posix_spawn ${a.toFixed(2)} ms, child_process ${b.toFixed(2)} ms`,
  );
  t.pass('measured (not asserted)');
});
