// Runs inside a test VM as root (see test/vm/guest-suite.test.ts): the whole driver on a real
// kernel, over gRPC. rds-sim runs in-process with the nvmet backend (every exported disk is a
// kernel NVMe/TCP target on 127.0.0.1), the Controller service drives it over SSH, and the
// Node service uses the REAL native Fabrics port and the REAL Linux Mounter. The conformance
// suite runs against that socket; afterwards no mount, NVMe controller, nvmet subsystem or
// rds-sim disk may be left. Then `rds-csi doctor --mode node` checks the guest.
// Skips (with the reason) elsewhere.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createLinuxMounter } from '../../../src/mount/linux';
import { parseMountinfo } from '../../../src/mount/mountinfo';
import { createProcessRunner } from '../../../src/mount/runner';
import { createNativeFabrics } from '../../../src/nvme/fabrics';
import { loadHostIdentity } from '../../../src/nvme/hostid';
import { loadNvmeAddon } from '../../../src/nvme/native';
import { createNvmetBackend } from '../../../src/sim';
import { startConformanceDriver } from '../../conformance/driver';
import { ALL_CASES, runSuite } from '../../conformance/suite';
import { csiClient } from '../../helpers/csi';
import { guestEnv } from './env';
import { NVMET, nvmeSkipReason } from './nvmet';

const skip = nvmeSkipReason({ target: true });
if (skip !== null) console.log(`# driver guest test skipped: ${skip}`);

/** The package root (dist/test/vm/guest/ → repository root). */
const ROOT = path.resolve(__dirname, '../../../..');

function mountsUnder(dir: string): string[] {
  return parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'))
    .map((m) => m.mountPoint)
    .filter((p) => p.startsWith(`${dir}/`));
}

/** NVMe controllers over a fabric (tcp, loop, rdma, fc): `nvmeN (transport)`. */
function fabricsControllers(): string[] {
  const dir = '/sys/class/nvme';
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((c) => `${c} (${fs.readFileSync(path.join(dir, c, 'transport'), 'utf8').trim()})`)
    .filter((c) => !c.endsWith('(pcie)'));
}

function nvmetSubsystems(): string[] {
  const dir = path.join(NVMET, 'subsystems');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

t.test('node conformance on a real kernel (mount volumes)', { skip: skip ?? false }, async (t) => {
  const started = Date.now();
  // /tmp is tmpfs in the guest: 1 GiB images stay sparse, and nvmet needs buffered_io there.
  const poolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-pool-'));
  const mounter = createLinuxMounter({ run: createProcessRunner() });
  const fabrics = createNativeFabrics({ addon: loadNvmeAddon() });
  const host = await loadHostIdentity({ nodeId: guestEnv()?.name ?? 'guest' });
  const driver = await startConformanceDriver({
    accessType: 'mount',
    realKernel: { fabrics, mounter, host },
    simBackend: createNvmetBackend({ poolDir, traddr: '127.0.0.1', bufferedIo: 'auto' }),
  });
  const client = csiClient(driver.address);
  t.teardown(async () => {
    client.close();
    // Whatever a failed case left behind: mounts under the kubelet dir, then controllers.
    const kubelet = path.dirname(path.dirname(driver.params.targetRoot));
    const ours = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'))
      .filter((m) => m.mountPoint.startsWith(`${kubelet}/`))
      .reverse();
    for (const m of ours) spawnSync('umount', ['-l', m.mountPoint]);
    for (const v of await fabrics.listManaged().catch(() => [])) {
      await fabrics.detach(v.nqn).catch(() => undefined);
    }
    await driver.stop();
    fs.rmSync(poolDir, { recursive: true, force: true });
  });
  await runSuite(t, client, driver.params, ALL_CASES);
  t.comment(`conformance on the real kernel took ${Math.round((Date.now() - started) / 1000)} s`);
  // Every case cleans up after itself: nothing of the run may be left on the node or the RDS.
  const kubelet = path.dirname(driver.params.targetRoot);
  t.same(mountsUnder(kubelet), [], `no mount under ${kubelet}`);
  t.same(fabricsControllers(), [], 'no NVMe-oF controller on the host side');
  t.same(await fabrics.listManaged(), [], 'no controller managed by the driver');
  t.same(nvmetSubsystems(), [], 'no nvmet subsystem on the target side');
  t.same(await driver.remaining(), { disks: [], files: [] }, 'no disk or file left in rds-sim');
});

t.test('rds-csi doctor --mode node', { skip: skip ?? false }, (t) => {
  const kubelet = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-doctor-'));
  fs.mkdirSync(path.join(kubelet, 'plugins'));
  t.teardown(() => fs.rmSync(kubelet, { recursive: true, force: true }));
  const res = spawnSync(
    process.execPath,
    [
      path.join(ROOT, 'dist/src/main.js'),
      'doctor',
      '--mode',
      'node',
      '--node-id',
      guestEnv()?.name ?? 'guest',
      '--kubelet-dir',
      kubelet,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  const out = `${res.stdout}${res.stderr}`;
  t.comment(out);
  const rowStatus = (name: string): string | undefined =>
    out
      .split('\n')
      .find((l) => l.startsWith(`${name}  `))
      ?.slice(name.length)
      .trim()
      .split(/\s+/)[0];
  t.equal(rowStatus('kernel module nvme-tcp'), 'PASS', 'nvme-tcp module');
  t.equal(rowStatus('/dev/nvme-fabrics'), 'PASS', '/dev/nvme-fabrics');
  t.equal(rowStatus('native addon'), 'PASS', 'native addon');
  const identity = fs.existsSync('/etc/nvme/hostnqn') ? ['PASS'] : ['PASS', 'WARN'];
  t.ok(identity.includes(rowStatus('NVMe host identity') ?? ''), 'NVMe host identity');
  // Only a tool the guest image lacks may fail; every such row is reported, not hidden.
  const failed = out.split('\n').filter((l) => /^\S.*\s{2}FAIL\s/.test(l));
  const missingTools = failed.filter((l) => l.startsWith('tool '));
  if (missingTools.length > 0) t.comment(`guest image lacks: ${missingTools.join('; ')}`);
  t.same(
    failed.filter((l) => !l.startsWith('tool ')),
    [],
    'no failed check other than a missing tool',
  );
  if (missingTools.length === 0) t.equal(res.status, 0, 'doctor exits 0');
  else t.not(res.status, 0, 'doctor reports the missing tools with a failing exit status');
  t.end();
});
