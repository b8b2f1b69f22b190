// Runs inside a test VM as root (see test/vm/guest-suite.test.ts): the node plugin takes
// over volumes the Go rds-csi node plugin staged, on a real kernel. rds-sim (nvmet backend)
// gets the Go controller's `/disk add` command lines; the Go node's state is then built the
// way it builds it: `nvme connect -t tcp -a … -s … -n … -l -1 -c 5` with no host NQN (its
// container has no /etc/nvme, so nvme-cli makes up its own), `mkfs.ext4 -F`, a mount straight
// on the staging path and a nosuid,nodev,noexec bind for the pod; for a block volume nothing
// in staging and an mknod'ed S_IFBLK node at the publish target. No state file of ours
// exists. Our Node service (over gRPC, real addon, real mount tools) then: the start-up
// sweep, a second pod for each volume, stats, online expansion after the Go driver's
// `/disk set … file-size=`, unpublish of both pods (the device node is unlinked), unstage,
// and a fresh stage of ours that reads back what was written before the takeover.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { RpcWrapper } from '../../../src/csi/handler';
import { KeyedLocks } from '../../../src/csi/locks';
import { nodeHandlers } from '../../../src/csi/node';
import { loadCsi } from '../../../src/csi/proto/load';
import { CsiServer } from '../../../src/csi/server';
import { createLinuxMounter } from '../../../src/mount/linux';
import { parseMountinfo } from '../../../src/mount/mountinfo';
import { createProcessRunner } from '../../../src/mount/runner';
import { stagedNqnsOnNode } from '../../../src/node/compat/go-staged';
import { createFileRecordStore } from '../../../src/node/records';
import { createNativeFabrics } from '../../../src/nvme/fabrics';
import { loadHostIdentity } from '../../../src/nvme/hostid';
import { loadNvmeAddon } from '../../../src/nvme/native';
import { cleanupOrphans } from '../../../src/nvme/orphans';
import { nullLogger } from '../../../src/observability/logger';
import { createNvmetBackend, startSim } from '../../../src/sim';
import { generateSshKeyPair } from '../../../src/sim/keys';
import { csiClient } from '../../helpers/csi';
import { goNqn, goPublishContext, goVolumeContext } from '../../helpers/go-driver';
import { once } from '../../unit/sim/helpers';
import { guestEnv } from './env';
import { controllersOf, deviceOf, nvmeSkipReason, waitFor } from './nvmet';

const MIB = 2 ** 20;
const DRIVER = 'rds.csi.srvlab.io';
const POOL = '/storage-pool/metal-csi';

const skip = nvmeSkipReason({ target: true });
if (skip !== null) console.log(`# go-takeover guest test skipped: ${skip}`);

const sh = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const sha = (buf: Buffer): string => crypto.createHash('sha256').update(buf).digest('hex');
const uuid = (): string => crypto.randomUUID();

/** The first `bytes` of a device node or file, read past the page cache. */
function readDirect(file: string, bytes: number): Buffer {
  const out = execFileSync('dd', [`if=${file}`, 'bs=1M', `count=${bytes / MIB}`, 'iflag=direct'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: bytes + MIB,
  });
  return out.subarray(0, bytes);
}

function majorMinor(device: string): [number, number] {
  const dev = fs.readFileSync(`/sys/class/block/${path.basename(device)}/dev`, 'utf8').trim();
  const [maj, min] = dev.split(':').map(Number);
  return [maj!, min!];
}

/** nvme-cli as the Go node ran it, with the container's view of /etc/nvme (none). */
function goConnect(nqn: string): void {
  sh('mount', ['-t', 'tmpfs', 'tmpfs', '/etc/nvme']);
  try {
    sh('nvme', [
      'connect',
      '-t',
      'tcp',
      '-a',
      '127.0.0.1',
      '-s',
      '4420',
      '-n',
      nqn,
      '-l',
      '-1',
      '-c',
      '5',
    ]);
  } finally {
    sh('umount', ['/etc/nvme']);
  }
}

function hostnqnOf(nqn: string): string {
  const [instance] = controllersOf(nqn);
  return fs.readFileSync(`/sys/class/nvme/nvme${instance}/hostnqn`, 'utf8').trim();
}

t.test('our node plugin takes over Go-staged volumes', { skip: skip ?? false }, async (t) => {
  const started = Date.now();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'go-takeover-'));
  const poolDir = path.join(root, 'pool');
  const kubelet = path.join(root, 'kubelet');
  fs.mkdirSync(poolDir);
  const key = generateSshKeyPair();
  const sim = await startSim({
    authorizedKeys: [key.public],
    stateDir: path.join(root, 'sim'),
    backend: createNvmetBackend({ poolDir, traddr: '127.0.0.1', bufferedIo: 'auto' }),
  });
  const ros = async (cmd: string): Promise<string> => {
    const r = await once(sim.port, key.private, cmd);
    if (r.code !== 0 || /failure|error/i.test(r.stdout))
      throw new Error(`${cmd}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const fabrics = createNativeFabrics({
    addon: loadNvmeAddon(),
    managedNqnPrefix: 'nqn.2000-02.com.mikrotik:pvc-',
  });
  const records = createFileRecordStore(path.join(kubelet, 'plugins', DRIVER, 'node'));
  t.teardown(async () => {
    const ours = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'))
      .filter((m) => m.mountPoint.startsWith(`${root}/`))
      .reverse();
    for (const m of ours) execFileSync('umount', ['-l', m.mountPoint], { stdio: 'ignore' });
    for (const v of await fabrics.listManaged().catch(() => [])) {
      await fabrics.detach(v.nqn).catch(() => undefined);
    }
    await sim.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  // The Go controller's CreateVolume, command line for command line.
  const vol = (kind: string) => {
    const id = `pvc-${uuid()}`;
    const nqn = goNqn(id);
    return {
      kind,
      id,
      nqn,
      context: goVolumeContext(id, '127.0.0.1'),
      publishContext: goPublishContext(id, '127.0.0.1'),
    };
  };
  const fsVol = vol('filesystem');
  const blkVol = vol('block');
  for (const v of [fsVol, blkVol]) {
    await ros(
      `/disk add type=file file-path=${POOL}/${v.id}.img file-size=256M slot=${v.id} ` +
        `nvme-tcp-export=yes nvme-tcp-server-port=4420 nvme-tcp-server-nqn=${v.nqn}`,
    );
  }

  // The Go node plugin's NodeStage/NodePublish, as it ran them.
  const fsStaging = path.join(
    kubelet,
    `plugins/kubernetes.io/csi/${DRIVER}/${sha(Buffer.from(fsVol.id))}/globalmount`,
  );
  const fsPod = (uid: string) =>
    path.join(kubelet, `pods/${uid}/volumes/kubernetes.io~csi/${fsVol.id}/mount`);
  const blkStaging = path.join(
    kubelet,
    `plugins/kubernetes.io/csi/volumeDevices/staging/${blkVol.id}`,
  );
  const blkPod = (uid: string) =>
    path.join(kubelet, `plugins/kubernetes.io/csi/volumeDevices/publish/${blkVol.id}/${uid}`);

  goConnect(fsVol.nqn);
  const fsDev = await waitFor('Go fs device', () => deviceOf(fsVol.nqn));
  await waitFor('device node', () => (fs.existsSync(fsDev) ? true : null));
  sh('mkfs.ext4', ['-F', '-q', fsDev]);
  fs.mkdirSync(fsStaging, { recursive: true });
  sh('mount', ['-t', 'ext4', fsDev, fsStaging]);
  fs.mkdirSync(fsPod('one'), { recursive: true, mode: 0o750 });
  sh('mount', ['-o', 'nosuid,nodev,noexec,bind', fsStaging, fsPod('one')]);
  const fsData = crypto.randomBytes(MIB);
  fs.writeFileSync(path.join(fsPod('one'), 'before.bin'), fsData);
  sh('sync', []);

  goConnect(blkVol.nqn);
  const blkDev = await waitFor('Go block device', () => deviceOf(blkVol.nqn));
  await waitFor('device node', () => (fs.existsSync(blkDev) ? true : null));
  fs.mkdirSync(blkStaging, { recursive: true });
  fs.mkdirSync(path.dirname(blkPod('one')), { recursive: true, mode: 0o750 });
  const [maj, min] = majorMinor(blkDev);
  sh('mknod', ['-m', '0660', blkPod('one'), 'b', String(maj), String(min)]);
  const blkData = crypto.randomBytes(MIB);
  fs.writeFileSync(path.join(root, 'blk.bin'), blkData);
  sh('dd', [
    `if=${path.join(root, 'blk.bin')}`,
    `of=${blkPod('one')}`,
    'bs=1M',
    'oflag=direct',
    'conv=notrunc',
  ]);
  const goHostnqn = hostnqnOf(blkVol.nqn);
  const host = await loadHostIdentity({ nodeId: guestEnv()?.name ?? 'guest' });
  t.comment(`Go-style controllers connected as ${goHostnqn}; this node is ${host.hostnqn}`);
  t.not(goHostnqn, host.hostnqn, 'the Go-style controllers carry a host NQN that is not ours');
  const goControllers = { fs: controllersOf(fsVol.nqn), blk: controllersOf(blkVol.nqn) };

  // Our plugin starts: the sweep (allowed to disconnect) must leave both alone.
  const report = await cleanupOrphans(fabrics, {
    stagedNqns: await stagedNqnsOnNode(records, kubelet),
    disconnect: true,
  });
  t.same(report.disconnected, [], 'the start-up sweep disconnects nothing');
  t.same(
    report.failed.map((f) => f.nqn),
    [fsVol.nqn],
    'the mounted Go volume is the only one even tried, and refused',
  );
  t.same(controllersOf(fsVol.nqn), goControllers.fs, 'fs volume: Go controller still there');
  t.same(controllersOf(blkVol.nqn), goControllers.blk, 'block volume: Go controller still there');

  const server = new CsiServer({
    endpoint: { kind: 'unix', path: path.join(root, 'csi.sock') },
    logger: nullLogger(),
    gracePeriodMs: 500,
  });
  server.addService(
    loadCsi().grpcType.csi.v1.Node.service,
    nodeHandlers(new RpcWrapper({ logger: nullLogger(), locks: new KeyedLocks() }), {
      nodeId: guestEnv()?.name ?? 'guest',
      kubeletDir: kubelet,
      maxVolumesPerNode: 0,
      fabrics,
      mounter: createLinuxMounter({ run: createProcessRunner() }),
      host,
      records,
      timing: { probeDelayMs: 50 },
    }),
  );
  const address = await server.start();
  const c = csiClient(address);
  t.teardown(async () => {
    c.close();
    await server.stop();
  });
  const fsCap = { mount: { fs_type: 'ext4' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } };
  const blkCap = { block: {}, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } };

  // A second pod on each volume; kubelet may stage again first (after a restart it does).
  await c.node('NodeStageVolume', {
    volume_id: fsVol.id,
    staging_target_path: fsStaging,
    volume_capability: fsCap,
    volume_context: fsVol.context,
    publish_context: fsVol.publishContext,
  });
  t.same(
    controllersOf(fsVol.nqn),
    goControllers.fs,
    'stage adopted the Go controller, no second one',
  );
  await c.node('NodePublishVolume', {
    volume_id: fsVol.id,
    staging_target_path: fsStaging,
    target_path: fsPod('two'),
    volume_capability: fsCap,
    volume_context: fsVol.context,
    publish_context: fsVol.publishContext,
  });
  t.equal(
    sha(fs.readFileSync(path.join(fsPod('two'), 'before.bin'))),
    sha(fsData),
    'pod two reads pod one data',
  );
  const during = crypto.randomBytes(MIB);
  fs.writeFileSync(path.join(fsPod('two'), 'during.bin'), during);
  await c.node('NodePublishVolume', {
    volume_id: blkVol.id,
    staging_target_path: blkStaging,
    target_path: blkPod('two'),
    volume_capability: blkCap,
    volume_context: blkVol.context,
    publish_context: blkVol.publishContext,
  });
  t.equal(sha(readDirect(blkPod('two'), MIB)), sha(blkData), 'pod two reads the block data');
  t.same(controllersOf(blkVol.nqn), goControllers.blk, 'the block volume kept its Go controller');

  for (const [id, p] of [
    [fsVol.id, fsPod('one')],
    [fsVol.id, fsPod('two')],
    [blkVol.id, blkPod('one')],
    [blkVol.id, blkPod('two')],
  ] as const) {
    const s = await c.node<{ volume_condition: { abnormal: boolean; message: string } }>(
      'NodeGetVolumeStats',
      { volume_id: id, volume_path: p },
    );
    t.equal(
      s.volume_condition.abnormal,
      false,
      `stats ${path.relative(kubelet, p)}: ${s.volume_condition.message}`,
    );
  }

  // The Go controller's ControllerExpandVolume, then kubelet's NodeExpandVolume.
  const grown = 384 * MIB;
  for (const v of [fsVol, blkVol]) await ros(`/disk set [find slot=${v.id}] file-size=384M`);
  const fsExp = await c.node<{ capacity_bytes: string }>('NodeExpandVolume', {
    volume_id: fsVol.id,
    volume_path: fsPod('two'),
    volume_capability: fsCap,
    capacity_range: { required_bytes: String(grown) },
  });
  t.equal(Number(fsExp.capacity_bytes), grown);
  const df = fs.statfsSync(fsPod('one'));
  t.ok(
    df.blocks * df.bsize > 300 * MIB,
    `the ext4 filesystem grew online (${(df.blocks * df.bsize) / MIB} MiB)`,
  );
  const blkExp = await c.node<{ capacity_bytes: string }>('NodeExpandVolume', {
    volume_id: blkVol.id,
    volume_path: blkPod('one'),
    volume_capability: blkCap,
    capacity_range: { required_bytes: String(grown) },
  });
  t.equal(Number(blkExp.capacity_bytes), grown);

  // Both pods go: the Go bind is unmounted, the mknod'ed node unlinked.
  for (const [id, p] of [
    [fsVol.id, fsPod('one')],
    [fsVol.id, fsPod('two')],
    [blkVol.id, blkPod('one')],
    [blkVol.id, blkPod('two')],
  ] as const) {
    await c.node('NodeUnpublishVolume', { volume_id: id, target_path: p });
    t.notOk(
      fs.existsSync(p),
      `${path.basename(p)} of the ${id === fsVol.id ? 'fs' : 'block'} volume removed`,
    );
  }
  for (const [v, staging] of [
    [fsVol, fsStaging],
    [blkVol, blkStaging],
  ] as const) {
    await c.node('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
    t.same(controllersOf(v.nqn), [], `${v.kind}: Go controller disconnected at unstage`);
  }
  const left = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).filter((m) =>
    m.mountPoint.startsWith(`${kubelet}/`),
  );
  t.same(left, [], 'nothing mounted under the kubelet dir');
  t.same(await records.list(), [], 'no staging record is left');

  // Our own stage of the same volumes: what was written under the Go plugin is there.
  await c.node('NodeStageVolume', {
    volume_id: fsVol.id,
    staging_target_path: fsStaging,
    volume_capability: fsCap,
    volume_context: fsVol.context,
  });
  t.equal(
    sha(fs.readFileSync(path.join(fsStaging, 'before.bin'))),
    sha(fsData),
    'fs data from before the takeover',
  );
  t.equal(
    sha(fs.readFileSync(path.join(fsStaging, 'during.bin'))),
    sha(during),
    'fs data written after it',
  );
  t.equal(hostnqnOf(fsVol.nqn), host.hostnqn, "a new connect uses this node's host NQN");
  await c.node('NodeStageVolume', {
    volume_id: blkVol.id,
    staging_target_path: blkStaging,
    volume_capability: blkCap,
    volume_context: blkVol.context,
  });
  const [ctrl] = controllersOf(blkVol.nqn);
  t.equal(
    fs.readFileSync(`/sys/class/nvme/nvme${ctrl}/reconnect_delay`, 'utf8').trim(),
    '5',
    'connected with the reconnect delay of its context',
  );
  t.equal(
    sha(readDirect(deviceOf(blkVol.nqn)!, MIB)),
    sha(blkData),
    'block data from before the takeover',
  );
  for (const [v, staging] of [
    [fsVol, fsStaging],
    [blkVol, blkStaging],
  ] as const) {
    await c.node('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
    t.same(controllersOf(v.nqn), [], `${v.kind}: disconnected`);
  }
  t.comment(`go-takeover: ${Math.round((Date.now() - started) / 1000)} s`);
});
