import t from 'tap';
import { InternalError, InvalidArgumentError, UnavailableError } from '../../../src/domain/errors';
import {
  connectArgs,
  createNvmeCliFabrics,
  execRunner,
  type Runner,
} from '../../../src/nvme/nvmecli';
import { DEFAULT_HOSTID, DEFAULT_HOSTNQN } from '../../fakes/sysfs';
import { FakeKernel, parseOptions } from './fake-addon';
import { FakeClock, NQN, target, tempDir } from './helpers';

async function setup(t: { teardown(fn: () => unknown): void }, code = 0) {
  const dev = await tempDir(t);
  const kernel = new FakeKernel(dev);
  const calls: string[][] = [];
  // nvme-cli stand-in: connect goes to the fake kernel, disconnect removes by NQN
  const runner: Runner = async (file, args) => {
    calls.push([file, ...args]);
    if (code !== 0) return { code, stderr: 'could not add new controller: failed to write\n' };
    if (args[0] === 'connect') {
      const opt = (k: string) => args.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? '';
      await kernel.connect(
        `nqn=${opt('nqn')},traddr=${opt('traddr')},trsvcid=${opt('trsvcid')},hostnqn=${opt('hostnqn')}`,
        { fabricsPath: '/dev/nvme-fabrics' },
      );
    } else {
      for (const c of [...kernel.sysfs.controllers.values()]) {
        if (`--nqn=${c.subsysnqn}` === args[1]) kernel.sysfs.removeController(c.instance);
      }
    }
    return { code: 0, stderr: '' };
  };
  const fabrics = createNvmeCliFabrics({
    addon: kernel,
    devRoot: dev,
    clock: new FakeClock(),
    runner,
    nvmePath: '/usr/sbin/nvme',
  });
  return { kernel, fabrics, calls };
}

t.test('argv carries the same validated values as the option string', async (t) => {
  const args = connectArgs(
    { ...target, tuning: { nrIoQueues: 2, keepAliveTmoSec: 5, fastIoFailTmoSec: 10 } },
    '10.0.0.1',
  );
  t.same(args, [
    'connect',
    '--transport=tcp',
    '--traddr=10.0.0.1',
    '--trsvcid=4420',
    `--nqn=${NQN}`,
    `--hostnqn=${DEFAULT_HOSTNQN}`,
    `--hostid=${DEFAULT_HOSTID}`,
    '--reconnect-delay=2',
    '--ctrl-loss-tmo=-1',
    '--nr-io-queues=2',
    '--keep-alive-tmo=5',
    '--fast_io_fail_tmo=10',
  ]);
  t.throws(() => connectArgs({ ...target, nqn: 'x' }, '10.0.0.1'), InvalidArgumentError);
  t.same(Object.keys(parseOptions('a=1,b=2')), ['a', 'b']);
});

t.test(
  'attach spawns nvme connect, then waits like the native path; detach spawns disconnect',
  async (t) => {
    const { fabrics, calls } = await setup(t);
    const res = await fabrics.attach(target);
    t.match(res, { device: '/dev/nvme0n1', controller: 0, reused: false });
    t.equal(calls[0]?.[0], '/usr/sbin/nvme');
    t.match(await fabrics.attach(target), { reused: true });
    t.equal(calls.length, 1, 'a live controller is reused without spawning');
    t.same(await fabrics.detach(NQN), { disconnected: 1 });
    t.same(calls[1], ['/usr/sbin/nvme', 'disconnect', `--nqn=${NQN}`]);
    t.same(await fabrics.detach(NQN), { disconnected: 0 });
    t.equal(calls.length, 2);
  },
);

t.test('a failing nvme-cli is reported by exit status, not by its text', async (t) => {
  const { fabrics, kernel } = await setup(t, 1);
  await t.rejects(fabrics.attach(target), UnavailableError);
  kernel.sysfs.connectMultipath({ instance: 0, subsysnqn: NQN });
  await t.rejects(fabrics.detach(NQN), { message: /nvme disconnect failed with exit status 1/ });
  const crashed = await setup(t, -1);
  await t.rejects(crashed.fabrics.attach(target), InternalError);
});

t.test('execRunner runs argv without a shell and reports status', async (t) => {
  const ok = await execRunner(process.execPath, ['-e', 'process.stderr.write("x;$(id)")'], {
    timeoutMs: 20_000,
  });
  t.same(ok, { code: 0, stderr: 'x;$(id)' });
  t.equal(
    (await execRunner(process.execPath, ['-e', 'process.exit(3)'], { timeoutMs: 20_000 })).code,
    3,
  );
  t.equal((await execRunner('/nonexistent/nvme', [], { timeoutMs: 20_000 })).code, -1);
});
