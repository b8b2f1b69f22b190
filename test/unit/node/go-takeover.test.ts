/**
 * Volumes the Go rds-csi node plugin staged before the switch: no staging records, a
 * filesystem mounted straight on the staging path, block volumes as mknod'ed device nodes
 * at their publish targets, controllers connected by nvme-cli under another host NQN.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseGoVolumeContext } from '../../../src/domain/compat/go-context';
import { stagedNqnsOnNode } from '../../../src/node/compat/go-staged';
import { expandVolume } from '../../../src/node/expand';
import { cleanupOrphans } from '../../../src/nvme/orphans';
import { publishVolume, unpublishVolume } from '../../../src/node/publish';
import { stageVolume } from '../../../src/node/stage';
import { volumeStats } from '../../../src/node/stats';
import { unstageVolume } from '../../../src/node/unstage';
import { goVolumeContext } from '../../helpers/go-driver';
import { type Rig, rig } from './setup';

const ID = 'pvc-0b6f2a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const NQN = `nqn.2000-02.com.mikrotik:${ID}`;
const GO_HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:0d4c1b1e-2f6a-4b1b-9c55-3e0e7e1f2a10';
const RAW = goVolumeContext(ID, '10.42.241.3', '10.42.68.1');
const CONTEXT = parseGoVolumeContext(RAW);

/** What `nvme connect -t tcp -a … -s … -n … -l -1 -c 5` (no -q) left in the kernel. */
async function goConnect(r: Rig): Promise<string> {
  const a = await r.fabrics.attach({
    nqn: NQN,
    traddr: '10.42.241.3',
    trsvcid: 4420,
    hostnqn: GO_HOSTNQN,
    hostid: '0d4c1b1e-2f6a-4b1b-9c55-3e0e7e1f2a10',
    tuning: { ctrlLossTmoSec: -1, reconnectDelaySec: 5 },
  });
  r.fabrics.calls.length = 0;
  return a.device;
}

function paths(r: Rig) {
  const staging = path.join(r.kubelet, 'plugins/kubernetes.io/csi/rds.csi.srvlab.io/h/globalmount');
  const pod = (uid: string) =>
    path.join(r.kubelet, `pods/${uid}/volumes/kubernetes.io~csi/${ID}/mount`);
  const blockStaging = path.join(
    r.kubelet,
    `plugins/kubernetes.io/csi/volumeDevices/staging/${ID}`,
  );
  const blockPod = (uid: string) =>
    path.join(r.kubelet, `plugins/kubernetes.io/csi/volumeDevices/publish/${ID}/${uid}`);
  return { staging, pod, blockStaging, blockPod };
}

/** The Go plugin's filesystem stage: mkfs.ext4 -F, mount -t ext4 <dev> <staging>. */
async function goStageFilesystem(r: Rig) {
  const p = paths(r);
  const device = await goConnect(r);
  await r.mounter.format(device, 'ext4');
  fs.mkdirSync(p.staging, { recursive: true });
  await r.mounter.mount(device, p.staging, 'ext4', []);
  fs.mkdirSync(p.pod('one'), { recursive: true });
  await r.mounter.bind(p.staging, p.pod('one'), false);
  r.mounter.calls.length = 0;
  return { ...p, device };
}

/** Its block stage (connect only) and publish (mknod S_IFBLK at the target). */
async function goStageBlock(r: Rig) {
  const p = paths(r);
  const device = await goConnect(r);
  fs.mkdirSync(p.blockStaging, { recursive: true });
  fs.mkdirSync(path.dirname(p.blockPod('one')), { recursive: true });
  fs.writeFileSync(p.blockPod('one'), '');
  r.mounter.deviceNodes.set(p.blockPod('one'), device);
  return { ...p, device };
}

t.test('stage adopts the controller nvme-cli connected under its own host NQN', async (t) => {
  const r = rig(t);
  const device = await goConnect(r);
  const res = await stageVolume(r.ctx, {
    volumeId: ID,
    stagingPath: paths(r).staging,
    access: { kind: 'mount', fsType: 'ext4', flags: [] },
    context: CONTEXT,
  });
  t.equal(res.device, device);
  t.same(r.fabrics.calls, [], 'no second connect (it would add a controller under our host NQN)');
  t.equal(r.fabrics.conns.get(NQN)?.target.hostnqn, GO_HOSTNQN, 'the adopted controller is kept');
});

t.test('with nothing connected, the connect uses the tuning its node passed', async (t) => {
  const r = rig(t);
  const ctx = parseGoVolumeContext({
    ...RAW,
    ctrlLossTmo: '0',
    reconnectDelay: '3',
    keepAliveTmo: '9',
  });
  await stageVolume(r.ctx, {
    volumeId: ID,
    stagingPath: paths(r).blockStaging,
    access: { kind: 'block' },
    context: ctx,
  });
  const target = r.fabrics.conns.get(NQN)?.target;
  t.same(target?.tuning, { ctrlLossTmoSec: 600, reconnectDelaySec: 3, keepAliveTmoSec: 9 });
  t.equal(target?.traddr, '10.42.241.3');
  t.equal(target?.hostnqn, r.ctx.host.hostnqn, "new connects use this node's identity");
});

t.test('a Go controller that is reconnecting is waited for, not doubled', async (t) => {
  const r = rig(t);
  await goConnect(r);
  r.fabrics.setState(NQN, 'connecting');
  await t.rejects(
    stageVolume(r.ctx, {
      volumeId: ID,
      stagingPath: paths(r).blockStaging,
      access: { kind: 'block' },
      context: CONTEXT,
    }),
    { code: 'unavailable', message: /connecting/ },
  );
  t.same(r.fabrics.calls, []);
  r.fabrics.setState(NQN, 'deleting');
  await stageVolume(r.ctx, {
    volumeId: ID,
    stagingPath: paths(r).blockStaging,
    access: { kind: 'block' },
    context: CONTEXT,
  });
  t.same(r.fabrics.calls, [`attach ${NQN}`], 'a controller being deleted is not adopted');
});

t.test(
  'a filesystem volume the Go plugin staged: second pod, stats, expand, unpublish, unstage',
  async (t) => {
    const r = rig(t);
    const go = await goStageFilesystem(r);
    t.same(await r.ctx.records.list(), [], 'no staging record exists');

    await publishVolume(r.ctx, {
      volumeId: ID,
      stagingPath: go.staging,
      targetPath: go.pod('two'),
      access: 'mount',
      readonly: false,
      context: CONTEXT,
    });
    t.same(
      r.mounter.calls,
      [`bind ${go.staging} ${go.pod('two')}`],
      'bound from the staging mount',
    );

    const stats = await volumeStats(r.ctx, { volumeId: ID, volumePath: go.pod('two') });
    t.equal(stats.condition.abnormal, false, stats.condition.message);
    t.ok(stats.fs, 'filesystem usage');

    r.fabrics.pendingSize.set(NQN, 2 * 1024 ** 3);
    const grown = await expandVolume(r.ctx, {
      volumeId: ID,
      volumePath: go.pod('two'),
      requiredBytes: 2 * 1024 ** 3,
      block: false,
    });
    t.equal(grown.capacityBytes, 2 * 1024 ** 3);
    t.ok(r.mounter.calls.includes(`grow ${go.device} ${go.pod('two')} ext4`), 'online grow');

    await unpublishVolume(r.ctx, { volumeId: ID, targetPath: go.pod('one') });
    await t.rejects(
      unstageVolume(r.ctx, { volumeId: ID, stagingPath: go.staging }),
      { code: 'failed-precondition', message: /still in use/ },
      'pod two still has it',
    );
    await unpublishVolume(r.ctx, { volumeId: ID, targetPath: go.pod('two') });
    await unstageVolume(r.ctx, { volumeId: ID, stagingPath: go.staging });
    t.same(r.mounter.table, [], 'nothing mounted');
    t.equal(r.fabrics.conns.size, 0, 'disconnected');
    t.same(await r.ctx.records.list(), [], 'and no record was ever needed');
  },
);

t.test(
  'a block volume the Go plugin staged: mknod node at the target, no staging state',
  async (t) => {
    const r = rig(t);
    const go = await goStageBlock(r);

    const one = await volumeStats(r.ctx, { volumeId: ID, volumePath: go.blockPod('one') });
    t.equal(one.condition.abnormal, false, `the mknod node is healthy: ${one.condition.message}`);
    t.equal(one.blockBytes, 1024 ** 3);

    await publishVolume(r.ctx, {
      volumeId: ID,
      stagingPath: go.blockStaging,
      targetPath: go.blockPod('two'),
      access: 'block',
      readonly: false,
      context: CONTEXT,
    });
    t.ok(
      r.mounter.calls.includes(`bind ${go.device} ${go.blockPod('two')}`),
      'second pod published',
    );
    const two = await volumeStats(r.ctx, { volumeId: ID, volumePath: go.blockPod('two') });
    t.equal(two.condition.abnormal, false, two.condition.message);

    r.fabrics.pendingSize.set(NQN, 3 * 1024 ** 3);
    const grown = await expandVolume(r.ctx, {
      volumeId: ID,
      volumePath: go.blockPod('one'),
      requiredBytes: 3 * 1024 ** 3,
      block: true,
    });
    t.equal(grown.capacityBytes, 3 * 1024 ** 3);
    t.notOk(
      r.mounter.calls.some((c) => c.startsWith('grow')),
      'no filesystem to grow',
    );

    await unpublishVolume(r.ctx, { volumeId: ID, targetPath: go.blockPod('two') });
    await t.rejects(
      unstageVolume(r.ctx, { volumeId: ID, stagingPath: go.blockStaging }),
      { code: 'failed-precondition', message: /device node .*\/one/ },
      'the mknod node of pod one still stands for the device',
    );
    t.same(
      r.fabrics.calls.filter((c) => c.startsWith('detach')),
      [],
    );

    await unpublishVolume(r.ctx, { volumeId: ID, targetPath: go.blockPod('one') });
    t.notOk(fs.existsSync(go.blockPod('one')), 'the device node is unlinked');
    await unstageVolume(r.ctx, { volumeId: ID, stagingPath: go.blockStaging });
    t.same(
      r.fabrics.calls.filter((c) => c.startsWith('detach')),
      [`detach ${NQN}`],
    );
    t.equal(r.fabrics.conns.size, 0);
    t.same(await r.ctx.records.list(), []);
    await unstageVolume(r.ctx, { volumeId: ID, stagingPath: go.blockStaging });
    t.same(r.fabrics.calls.filter((c) => c.startsWith('detach')).length, 1, 'idempotent');
  },
);

t.test('a device node of another device at the target is reported stale', async (t) => {
  const r = rig(t);
  const go = await goStageBlock(r);
  r.mounter.deviceNodes.set(go.blockPod('one'), '/dev/nvme9n1');
  const s = await volumeStats(r.ctx, { volumeId: ID, volumePath: go.blockPod('one') });
  t.equal(s.condition.abnormal, true);
  t.match(s.condition.message, /no longer this volume's device/);
});

t.test('recordless lookups stay strict', async (t) => {
  const r = rig(t);
  const p = paths(r);
  fs.mkdirSync(p.blockStaging, { recursive: true });
  const publish = (access: 'mount' | 'block', stagingPath: string) =>
    publishVolume(r.ctx, {
      volumeId: ID,
      stagingPath,
      targetPath: p.blockPod('x'),
      access,
      readonly: false,
      context: CONTEXT,
    });
  await t.rejects(
    publish('block', p.blockStaging),
    { code: 'failed-precondition', message: /stage it first/ },
    'no controller: not staged',
  );
  await goConnect(r);
  await t.rejects(
    publish('mount', p.staging),
    { code: 'failed-precondition', message: /stage it first/ },
    'a filesystem volume needs its staging mount',
  );
  await t.rejects(volumeStats(r.ctx, { volumeId: 'pvc-other', volumePath: p.blockStaging }), {
    code: 'not-found',
  });
  await unstageVolume(r.ctx, { volumeId: 'not a volume', stagingPath: p.staging });
  t.same(r.fabrics.calls, [], 'nothing is disconnected for an unknown volume');
});

/** Why a real device node cannot be made here (mknod needs root and CAP_MKNOD), if so. */
function mknodUnavailable(): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-mknod-'));
  try {
    execFileSync('mknod', [path.join(dir, 'probe'), 'b', '7', '250'], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `mknod is not permitted here: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

t.test(
  'unpublish unlinks a real S_IFBLK node (mknod as the Go plugin does)',
  { skip: mknodUnavailable() ?? false },
  async (t) => {
    const r = rig(t);
    const target = paths(r).blockPod('real');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    execFileSync('mknod', ['-m', '0660', target, 'b', '7', '250']);
    t.ok(fs.lstatSync(target).isBlockDevice());
    await unpublishVolume(r.ctx, { volumeId: ID, targetPath: target });
    t.notOk(fs.existsSync(target), 'unlinked, not only unmounted');
    await unpublishVolume(r.ctx, { volumeId: ID, targetPath: target });
  },
);

t.test(
  'the start-up sweep leaves Go-staged block volumes alone, cleans true orphans',
  async (t) => {
    const r = rig(t);
    const go = await goStageBlock(r);
    const orphan = 'nqn.2000-02.com.mikrotik:pvc-11111111-2222-4333-8444-555555555555';
    await r.fabrics.attach({ ...r.fabrics.conns.get(NQN)!.target, nqn: orphan });
    // A staged-but-unpublished block volume has only kubelet's staging directory.
    fs.rmSync(path.dirname(go.blockPod('one')), { recursive: true });
    const staged = await stagedNqnsOnNode(r.ctx.records, r.kubelet);
    t.same(staged, [NQN]);
    const report = await cleanupOrphans(r.fabrics, { stagedNqns: staged, disconnect: true });
    t.same(report.disconnected, [orphan]);
    t.ok(r.fabrics.conns.has(NQN), 'the Go-staged volume keeps its controller');
    t.same(
      await stagedNqnsOnNode({ list: () => Promise.resolve([]) }, path.join(r.kubelet, 'none')),
      [],
    );
  },
);
