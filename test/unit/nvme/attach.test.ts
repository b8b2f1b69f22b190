import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import {
  CancelledError,
  DeadlineExceededError,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  UnavailableError,
} from '../../../src/domain/errors';
import { createNativeFabrics, type NativeFabricsOptions } from '../../../src/nvme/fabrics';
import { DEFAULT_HOSTNQN } from '../../fakes/sysfs';
import { FakeKernel, nativeError } from './fake-addon';
import {
  FakeClock,
  NQN,
  metricValue,
  settledMetric,
  target,
  tempDir,
  testMetrics,
} from './helpers';

async function setup(
  t: { teardown(fn: () => unknown): void },
  extra: Partial<NativeFabricsOptions> = {},
) {
  const dev = await tempDir(t, 'nvme-dev-');
  const kernel = new FakeKernel(dev);
  const clock = new FakeClock();
  const metrics = testMetrics();
  const fabrics = createNativeFabrics({
    addon: kernel,
    devRoot: dev,
    sysfsRoot: '/fake/sys',
    procRoot: '/fake/proc',
    clock,
    metrics,
    resolver: async () => ['127.0.0.1'],
    ...extra,
  });
  return { kernel, clock, metrics, fabrics, dev };
}

t.test('connects, finds the head by NQN and nsid, waits for the node', async (t) => {
  const { kernel, clock, metrics, fabrics } = await setup(t);
  // an unrelated subsystem already holds nvme-subsys0 / nvme0n1
  kernel.sysfs.connectMultipath({ instance: 0, subsysnqn: 'nqn.2000-02.com.mikrotik:pvc-z' });
  await kernel.syncDevices();
  kernel.devDelayScans = 3;
  const res = await fabrics.attach(target);
  t.match(res, { device: '/dev/nvme1n1', controller: 1, reused: false });
  t.equal(kernel.connects.length, 1);
  t.match(
    kernel.connects[0],
    /^transport=tcp,traddr=127\.0\.0\.1,trsvcid=4420,nqn=nqn\.2000-02\.com\.mikrotik:pvc-a,hostnqn=.*,hostid=.*,reconnect_delay=2,ctrl_loss_tmo=-1$/,
  );
  t.same(clock.sleeps.slice(0, 3), [2, 4, 8], 'short polls backing off');
  t.same(kernel.controllerScans, [1, 1, 1, 1], 'the wait reads only the new controller nvme1');
  t.equal(await metricValue(metrics, 'nvmeConnects', { status: 'success' }), 1);
  t.equal(
    await settledMetric(metrics, 'nvmeConnectionsActive', 2),
    2,
    'the gauge, refreshed from a full scan after the attach, counts both controllers',
  );
  t.ok(res.timings.totalMs >= res.timings.deviceReadyMs);
});

t.test("the connect's own lookup is the first poll: a ready device needs no other", async (t) => {
  const { kernel, clock, fabrics } = await setup(t);
  const res = await fabrics.attach(target);
  t.match(res, { device: '/dev/nvme0n1', reused: false });
  t.same(kernel.controllerScans, [0], 'one lookup, taken by the connect');
  t.same(clock.sleeps, [], 'no poll delay');
});

t.test("a node the connect's lookup did not see yet is waited for", async (t) => {
  const { kernel, clock, fabrics } = await setup(t);
  kernel.devDelayScans = 1;
  const res = await fabrics.attach(target);
  t.equal(res.device, '/dev/nvme0n1');
  t.same(kernel.controllerScans, [0, 0], 'the lookup (devNode 0), then one poll');
  t.same(clock.sleeps, [2], 'one poll delay');
});

t.test('poll delays cap at 50 ms', async (t) => {
  const { kernel, clock, fabrics } = await setup(t);
  kernel.devDelayScans = 12;
  await fabrics.attach(target);
  t.equal(Math.max(...clock.sleeps), 50);
});

t.test('multipath=N: the namespace under the controller', async (t) => {
  const { kernel, fabrics } = await setup(t);
  kernel.multipath = false;
  kernel.sysfs.connectSinglePath({ instance: 0, subsysnqn: 'nqn.2000-02.com.mikrotik:pvc-z' });
  const res = await fabrics.attach(target);
  t.equal(res.device, '/dev/nvme1n1');
});

t.test('reuses the live controller the kernel reports as a duplicate (idempotent)', async (t) => {
  const { kernel, fabrics } = await setup(t);
  await fabrics.attach(target);
  const again = await fabrics.attach(target);
  t.match(again, { device: '/dev/nvme0n1', controller: 0, reused: true });
  t.equal(kernel.connects.length, 2);
  t.equal(kernel.sysfs.controllers.size, 1, 'no second controller');
});

t.test('EALREADY for a reconnecting controller waits for it to come back live', async (t) => {
  const { kernel, clock, fabrics } = await setup(t);
  await fabrics.attach(target);
  const c = kernel.sysfs.controllers.get(0)!;
  c.state = 'connecting';
  clock.onSleep = (n) => {
    if (n === 2) c.state = 'live';
  };
  kernel.connect = (_o, opts) => Promise.reject(nativeError('EALREADY', 'write', opts.fabricsPath));
  const res = await fabrics.attach(target);
  t.match(res, { reused: true, device: '/dev/nvme0n1', controller: 0 });
});

t.test('a different host NQN or address is not reused', async (t) => {
  const { kernel, fabrics } = await setup(t);
  await fabrics.attach(target);
  await fabrics.attach({ ...target, trsvcid: 4421 });
  t.equal(kernel.connects.length, 2);
  t.equal(kernel.sysfs.controllers.size, 2);
});

t.test('resolves host names before building options', async (t) => {
  const { kernel, fabrics } = await setup(t, { resolver: async () => ['127.0.0.1'] });
  await fabrics.attach({ ...target, traddr: 'rds.example' });
  t.match(kernel.connects[0], /traddr=127\.0\.0\.1,/);
});

t.test('connect errors map to domain errors and count as failures', async (t) => {
  const cases: [string, string, new (...a: never[]) => Error, RegExp][] = [
    ['ECONNREFUSED', 'write', UnavailableError, /not listening at 127\.0\.0\.1:4420/],
    ['EIO', 'write', UnavailableError, /subsystem NQN does not exist.*not in its allowed hosts/],
    ['EINVAL', 'write', InternalError, /option string/],
    ['EACCES', 'open', FailedPreconditionError, /permission/],
    ['ETIMEDOUT', 'write', UnavailableError, /cannot reach/],
    ['EBADF', 'write', InternalError, /EBADF/],
  ];
  for (const [code, , cls, msg] of cases) {
    const { kernel, metrics, fabrics } = await setup(t);
    kernel.connectErrors.set(NQN, code);
    const err = await fabrics.attach(target).catch((e: unknown) => e);
    t.type(err, cls, code);
    t.match((err as Error).message, msg, code);
    t.equal(await metricValue(metrics, 'nvmeConnects', { status: 'failure' }), 1);
  }
});

t.test('ENOENT on /dev/nvme-fabrics: module not loaded', async (t) => {
  const { kernel, fabrics } = await setup(t);
  kernel.connect = (_o, opts) => Promise.reject(nativeError('ENOENT', 'open', opts.fabricsPath));
  const err = await fabrics.attach(target).catch((e: unknown) => e);
  t.type(err, FailedPreconditionError);
  t.match((err as Error).message, /nvme-fabrics\/nvme-tcp kernel modules are not loaded/);
});

t.test('a controller stuck in connecting is reported with its state', async (t) => {
  const { kernel, clock, fabrics } = await setup(t, { stuckConnectingMs: 500 });
  kernel.newState = 'connecting';
  const err = await fabrics.attach(target, { deadlineMs: 60_000 }).catch((e: unknown) => e);
  t.type(err, UnavailableError);
  t.match((err as Error).message, /nvme0 connecting/);
  t.ok(clock.t - 1000 < 2000, 'gave up long before the deadline');
});

t.test('a connecting controller that comes live is used', async (t) => {
  const { kernel, clock, fabrics } = await setup(t);
  kernel.newState = 'connecting';
  clock.onSleep = (n) => {
    if (n === 4) kernel.sysfs.controllers.get(0)!.state = 'live';
  };
  t.match(await fabrics.attach(target), { device: '/dev/nvme0n1' });
});

t.test('deadline: namespace never appears', async (t) => {
  const { kernel, clock, fabrics } = await setup(t);
  kernel.devDelayScans = 1_000_000;
  const err = await fabrics.attach(target, { deadlineMs: 1000 }).catch((e: unknown) => e);
  t.type(err, DeadlineExceededError);
  t.equal(clock.t, 2000, 'stopped exactly at the deadline');
});

t.test('abort: the caller cancels during the wait', async (t) => {
  const { kernel, clock, fabrics } = await setup(t);
  kernel.devDelayScans = 1_000_000;
  const ac = new AbortController();
  clock.onSleep = (n) => {
    if (n === 3) ac.abort();
  };
  const err = await fabrics.attach(target, { signal: ac.signal }).catch((e: unknown) => e);
  t.type(err, CancelledError);
  const pre = new AbortController();
  pre.abort();
  t.type(
    await fabrics.attach(target, { signal: pre.signal }).catch((e: unknown) => e),
    CancelledError,
  );
});

t.test('a connect that outlives the deadline is reported as such', async (t) => {
  const { kernel, fabrics } = await setup(t, { clock: undefined });
  kernel.connect = () => new Promise(() => undefined);
  const err = await fabrics.attach(target, { deadlineMs: 30 }).catch((e: unknown) => e);
  t.type(err, DeadlineExceededError);
});

t.test('invalid targets are refused before any I/O', async (t) => {
  const { kernel, fabrics } = await setup(t);
  await t.rejects(fabrics.attach({ ...target, nsid: 0 }), InvalidArgumentError);
  await t.rejects(fabrics.attach({ ...target, nqn: 'nqn.x,y' }), InvalidArgumentError);
  t.equal(kernel.connects.length, 0);
});

t.test('queries: find, listManaged, deviceSize, rescan', async (t) => {
  const { kernel, fabrics, dev } = await setup(t);
  kernel.sysfs.connectMultipath({ instance: 0, subsysnqn: 'nqn.2014-08.org.other:foreign' });
  await fabrics.attach(target);
  await fabrics.attach({ ...target, nqn: `${NQN}-2` });
  t.match(await fabrics.find(NQN), {
    nqn: NQN,
    device: '/dev/nvme1n1',
    sizeBytes: 2097152 * 512,
    controllers: [{ instance: 1, state: 'live', transport: 'tcp', hostnqn: DEFAULT_HOSTNQN }],
  });
  t.equal(await fabrics.find('nqn.2000-02.com.mikrotik:none'), undefined);
  const brief = await fabrics.find(NQN, { brief: true });
  t.match(brief, {
    device: '/dev/nvme1n1',
    sizeBytes: undefined,
    controllers: [{ instance: 1, state: 'live', transport: '', hostnqn: '' }],
  });
  t.equal(brief?.controllers.length, 1, 'a brief find: the device and the states only');
  t.same(
    (await fabrics.listManaged()).map((v) => v.nqn),
    [NQN, `${NQN}-2`],
  );
  t.equal(await fabrics.deviceSize(NQN), 2097152 * 512);
  await fabrics.rescan(NQN);
  t.same(kernel.rescans, [1]);
  await t.rejects(fabrics.rescan('nqn.2000-02.com.mikrotik:none'), { code: 'not-found' });
  await t.rejects(fabrics.deviceSize('nqn.2000-02.com.mikrotik:none'), { code: 'not-found' });
  await t.rejects(fabrics.rescan('nqn.2014-08.org.other:foreign'), InvalidArgumentError);
  kernel.sysfs.controllers.get(1)!.state = 'connecting';
  await t.rejects(
    fabrics.rescan(NQN),
    { code: 'unavailable', message: /nvme1 connecting.*retry once it reconnects/ },
    'an attached volume whose path is reconnecting: retry, it is not missing',
  );
  await fs.rm(path.join(dev, 'nvme1n1'));
});

t.test('the managed prefix must be under the MikroTik NQN base', async (t) => {
  const kernel = new FakeKernel('/nonexistent');
  t.throws(
    () => createNativeFabrics({ addon: kernel, managedNqnPrefix: 'nqn.2014-08.org:' }),
    InvalidArgumentError,
  );
  t.doesNotThrow(() =>
    createNativeFabrics({ addon: kernel, managedNqnPrefix: 'nqn.2000-02.com.mikrotik:pvc-' }),
  );
});
