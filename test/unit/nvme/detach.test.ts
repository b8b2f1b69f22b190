import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import {
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
} from '../../../src/domain/errors';
import { createNativeFabrics } from '../../../src/nvme/fabrics';
import { cleanupOrphans } from '../../../src/nvme/orphans';
import { FakeKernel } from './fake-addon';
import { FakeClock, metricValue, tempDir, testMetrics } from './helpers';

const NQN = 'nqn.2000-02.com.mikrotik:pvc-a';
const FOREIGN = 'nqn.2014-08.org.example:other';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const root = await tempDir(t, 'nvme-detach-');
  const sys = path.join(root, 'sys');
  const proc = path.join(root, 'proc');
  await fs.mkdir(path.join(proc, 'self'), { recursive: true });
  await fs.writeFile(path.join(proc, 'self', 'mountinfo'), '22 1 0:21 / /proc rw - proc proc rw\n');
  const kernel = new FakeKernel(root);
  const metrics = testMetrics();
  const fabrics = createNativeFabrics({
    addon: kernel,
    sysfsRoot: sys,
    procRoot: proc,
    devRoot: root,
    clock: new FakeClock(),
    metrics,
  });
  /** Renders the fake topology's block devices so the in-use check finds them. */
  const writeBlock = () => kernel.sysfs.writeTo(sys);
  return { kernel, fabrics, metrics, sys, proc, writeBlock };
}

t.test('disconnects every controller of the subsystem', async (t) => {
  const { kernel, fabrics, metrics, writeBlock } = await setup(t);
  kernel.sysfs.connectMultipath({ instance: 0, subsysnqn: NQN });
  kernel.sysfs.connectMultipath({ instance: 1, subsysnqn: NQN, traddr: '127.0.0.2' });
  kernel.sysfs.connectMultipath({ instance: 2, subsysnqn: `${NQN}-other` });
  await writeBlock();
  const res = await fabrics.detach(NQN);
  t.equal(res.disconnected, 2);
  t.same(Object.keys(res.timings ?? {}), ['scanMs', 'inUseMs', 'disconnectMs'], 'where it went');
  t.same(kernel.disconnects.sort(), [0, 1]);
  t.equal(await metricValue(metrics, 'nvmeDisconnects', { status: 'success' }), 1);
  t.equal(await metricValue(metrics, 'nvmeConnectionsActive'), 1);
});

t.test('idempotent: nothing connected, or gone between scan and write', async (t) => {
  const { kernel, fabrics, writeBlock } = await setup(t);
  t.equal((await fabrics.detach(NQN)).disconnected, 0);
  kernel.sysfs.connectMultipath({ instance: 4, subsysnqn: NQN });
  await writeBlock();
  kernel.disconnectErrors.set(4, 'ENOENT');
  t.equal((await fabrics.detach(NQN)).disconnected, 1);
  kernel.sysfs.controllers.get(4)!.state = 'deleting';
  t.equal((await fabrics.detach(NQN)).disconnected, 0, 'a controller being deleted is done');
});

t.test('never touches subsystems outside the managed prefix', async (t) => {
  const { kernel, fabrics } = await setup(t);
  kernel.sysfs.connectMultipath({ instance: 0, subsysnqn: FOREIGN });
  await t.rejects(fabrics.detach(FOREIGN), InvalidArgumentError);
  await t.rejects(fabrics.detach('nqn.2000-02.com.mikrotik:'), InvalidArgumentError);
  t.same(kernel.disconnects, []);
  t.same(await fabrics.listManaged(), []);
});

t.test('refuses while mounted (device, partition, or bind-mounted node)', async (t) => {
  const cases = [
    (dev: string) => `36 25 ${dev} / /var/lib/kubelet/staging rw - ext4 /dev/nvme0n1 rw`,
    () => `36 25 259:77 / /mnt/p1 rw - xfs /dev/nvme0n1p1 rw`,
    () => `40 25 0:5 /nvme0n1 /var/lib/kubelet/plugins/volumeDevices/x rw - devtmpfs udev rw`,
    () => `41 25 0:40 / /mnt/with\\040space rw shared:1 - ext4 /dev/nvme0n1 rw`,
  ];
  for (const line of cases) {
    const { kernel, fabrics, sys, proc, writeBlock } = await setup(t);
    kernel.sysfs.connectMultipath({ instance: 0, subsysnqn: NQN });
    await writeBlock();
    const part = path.join(sys, 'class/nvme-subsystem/nvme-subsys0/nvme0n1/nvme0n1p1');
    await fs.mkdir(part, { recursive: true });
    await fs.writeFile(path.join(part, 'partition'), '1\n');
    await fs.writeFile(path.join(part, 'dev'), '259:77\n');
    const dev = kernel.sysfs.subsystems.get(0)!.heads[0]!.dev;
    await fs.appendFile(path.join(proc, 'self/mountinfo'), `${line(dev)}\n`);
    const err = await fabrics.detach(NQN).catch((e: unknown) => e);
    t.type(err, FailedPreconditionError, line(dev));
    t.match((err as Error).message, /still in use: nvme0n1(p1)? mounted at \/(var|mnt)/);
    t.same(kernel.disconnects, []);
  }
});

t.test('refuses while a process holds the device open or a holder stacks on it', async (t) => {
  const { kernel, fabrics, sys, proc, writeBlock } = await setup(t);
  kernel.sysfs.connectMultipath({ instance: 0, subsysnqn: NQN });
  await writeBlock();
  await fs.mkdir(path.join(proc, '4242/fd'), { recursive: true });
  await fs.symlink('/dev/null', path.join(proc, '4242/fd/0'));
  await fs.symlink('/dev/nvme0n1', path.join(proc, '4242/fd/7'));
  await fs.mkdir(path.join(proc, 'not-a-pid'));
  let err = await fabrics.detach(NQN).catch((e: unknown) => e);
  t.type(err, FailedPreconditionError);
  t.match((err as Error).message, /nvme0n1 open by pid 4242/);
  await fs.rm(path.join(proc, '4242'), { recursive: true });
  await fs.mkdir(path.join(sys, 'block/nvme0n1/holders/dm-3'), { recursive: true });
  err = await fabrics.detach(NQN).catch((e: unknown) => e);
  t.match((err as Error).message, /nvme0n1 held by dm-3/);
  await fs.rm(path.join(sys, 'block/nvme0n1/holders/dm-3'), { recursive: true });
  t.equal((await fabrics.detach(NQN)).disconnected, 1);
});

t.test('a failed disconnect is reported and counted', async (t) => {
  const { kernel, fabrics, metrics, writeBlock } = await setup(t);
  kernel.sysfs.connectMultipath({ instance: 0, subsysnqn: NQN });
  await writeBlock();
  kernel.disconnectErrors.set(0, 'EACCES');
  await t.rejects(fabrics.detach(NQN), FailedPreconditionError);
  kernel.disconnectErrors.set(0, 'EIO');
  await t.rejects(fabrics.detach(NQN), InternalError);
  kernel.disconnectErrors.set(0, 'EBUSY');
  await t.rejects(fabrics.detach(NQN), { code: 'unavailable' });
  t.equal(await metricValue(metrics, 'nvmeDisconnects', { status: 'failure' }), 3);
});

t.test('orphan sweep: lists managed controllers no staged volume explains', async (t) => {
  const { kernel, fabrics, writeBlock } = await setup(t);
  kernel.sysfs.connectMultipath({ instance: 0, subsysnqn: `${NQN}-staged` });
  kernel.sysfs.connectMultipath({ instance: 1, subsysnqn: `${NQN}-orphan` });
  kernel.sysfs.connectMultipath({ instance: 2, subsysnqn: FOREIGN });
  // a reconnect renumbered the staged volume's controller: still matched by NQN
  kernel.sysfs.removeController(0);
  kernel.sysfs.connectMultipath({ instance: 9, subsysnqn: `${NQN}-staged` });
  await writeBlock();
  const report = await cleanupOrphans(fabrics, {
    stagedNqns: [`${NQN}-staged`],
    disconnect: false,
  });
  t.same(
    report.orphans.map((o) => o.nqn),
    [`${NQN}-orphan`],
  );
  t.same(report.disconnected, []);
  t.same(kernel.disconnects, []);
  let cleaned = 0;
  const swept = await cleanupOrphans(fabrics, {
    stagedNqns: new Set([`${NQN}-staged`]),
    disconnect: true,
    onCleaned: () => cleaned++,
  });
  t.same(swept.disconnected, [`${NQN}-orphan`]);
  t.same(kernel.disconnects, [1]);
  t.equal(cleaned, 1);
});

t.test('orphan sweep reports what it could not disconnect', async (t) => {
  const { kernel, fabrics, writeBlock } = await setup(t);
  kernel.sysfs.connectMultipath({ instance: 0, subsysnqn: `${NQN}-orphan` });
  await writeBlock();
  kernel.disconnectErrors.set(0, 'EACCES');
  const report = await cleanupOrphans(fabrics, { stagedNqns: [], disconnect: true });
  t.same(report.disconnected, []);
  t.match(report.failed, [{ nqn: `${NQN}-orphan`, reason: /permission/ }]);
});
