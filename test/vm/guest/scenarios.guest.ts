// Runs inside a test VM as root (see test/vm/guest-suite.test.ts): real-kernel scenarios of
// the node plugin against a kernel nvmet target on 127.0.0.1 backed by loop devices, with
// the REAL native Fabrics port and the REAL Linux Mounter:
// - target outage: the subsystem leaves the port while a write waits; the controller goes
//   `connecting`, stats report abnormal; it comes back `live`, data intact, stats normal;
// - plugin restart with volumes staged: a new node context (same record and kubelet dirs)
//   re-discovers the volume from the kernel and the mount table, and the start-up orphan
//   sweep disconnects only the controller no staged volume accounts for;
// - host fencing: with an allow-list, a foreign host NQN cannot connect, the allowed one can.
// One file on purpose: loading tap in the guest costs more than all the steps together.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { UnavailableError } from '../../../src/domain/errors';
import { createAddonMounter } from '../../../src/mount/linux';
import { parseMountinfo } from '../../../src/mount/mountinfo';
import { type NodeContext, resolveNode } from '../../../src/node/deps';
import { publishVolume, unpublishVolume } from '../../../src/node/publish';
import { type StageAccess, stageVolume } from '../../../src/node/stage';
import { volumeStats } from '../../../src/node/stats';
import { unstageVolume } from '../../../src/node/unstage';
import { createNativeFabrics } from '../../../src/nvme/fabrics';
import { loadHostIdentity } from '../../../src/nvme/hostid';
import { loadNvmeAddon } from '../../../src/nvme/native';
import { cleanupOrphans } from '../../../src/nvme/orphans';
import type { ControllerState, Fabrics, FabricsTuning } from '../../../src/nvme/ports';
import { guestEnv } from './env';
import {
  NVMET,
  controllersOf,
  createTarget,
  loopDevice,
  removeTarget,
  nvmeSkipReason,
} from './nvmet';

const MIB = 2 ** 20;
const PREFIX = 'nqn.2000-02.com.mikrotik:scn-';
/** Outage length; the kernel retries every reconnect_delay (1 s) meanwhile. */
const OUTAGE_MS = 10_000;
const TUNING: FabricsTuning = { ctrlLossTmoSec: -1, reconnectDelaySec: 1 };
const EXT4: StageAccess = { kind: 'mount', fsType: 'ext4', flags: [] };

const skip = nvmeSkipReason();
if (skip !== null) console.log(`# scenarios guest test skipped: ${skip}`);

interface Volume {
  readonly id: string;
  readonly nqn: string;
  readonly file: string;
  readonly loop: string;
  readonly staging: string;
  readonly target: string;
}

interface Target {
  readonly nqn: string;
  readonly file: string;
  readonly loop: string;
}

/** Everything the steps share; teardown undoes all of it whatever step failed. */
class Bed {
  readonly kubelet = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-'));
  readonly targets: Target[] = [];

  constructor(private readonly host: { hostnqn: string; hostid: string }) {}

  /** A node context as a freshly started plugin builds it (new adapters, same dirs). */
  node(): NodeContext {
    return resolveNode({
      nodeId: 'guest',
      kubeletDir: this.kubelet,
      maxVolumesPerNode: 0,
      fabrics: this.fabrics(),
      mounter: createAddonMounter(loadNvmeAddon()),
      host: this.host,
      tuning: TUNING,
      timing: { probeDelayMs: 50 },
    });
  }

  fabrics(): Fabrics {
    return createNativeFabrics({ addon: loadNvmeAddon() });
  }

  export(name: string, sizeMiB: number, allowedHosts?: string[]): Target {
    const nqn = `${PREFIX}${name}`;
    const file = path.join(os.tmpdir(), `scn-${name}.img`);
    const loop = loopDevice(file, sizeMiB);
    const target = { nqn, file, loop };
    this.targets.push(target);
    createTarget({
      nqn,
      devicePath: loop,
      traddr: '127.0.0.1',
      ...(allowedHosts === undefined ? {} : { allowedHosts }),
    });
    return target;
  }

  volume(name: string, sizeMiB: number): Volume {
    const tgt = this.export(name, sizeMiB);
    return {
      ...tgt,
      id: `pvc-${name}`,
      staging: path.join(
        this.kubelet,
        'plugins/kubernetes.io/csi/rds-csi.dev',
        name,
        'globalmount',
      ),
      target: this.podPath('pod-a', name),
    };
  }

  podPath(pod: string, name: string): string {
    return path.join(this.kubelet, 'pods', pod, 'volumes/kubernetes.io~csi', name, 'mount');
  }

  async teardown(): Promise<void> {
    for (const tgt of this.targets) linkPort(tgt.nqn);
    const ours = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'))
      .filter((m) => m.mountPoint.startsWith(`${this.kubelet}/`))
      .reverse();
    for (const m of ours) execFileSync('umount', ['-l', m.mountPoint]);
    const fabrics = this.fabrics();
    for (const tgt of this.targets) {
      await fabrics.detach(tgt.nqn).catch(() => undefined);
      for (const n of controllersOf(tgt.nqn)) {
        try {
          fs.writeFileSync(`/sys/class/nvme/nvme${n}/delete_controller`, '1');
        } catch {
          // already going
        }
      }
      removeTarget(tgt.nqn);
      execFileSync('losetup', ['-d', tgt.loop]);
      fs.rmSync(tgt.file, { force: true });
    }
    fs.rmSync(this.kubelet, { recursive: true, force: true });
  }
}

const portLink = (nqn: string): string => path.join(NVMET, 'ports', '1', 'subsystems', nqn);

/** Exports the subsystem on port 1 again (no-op when it is). */
function linkPort(nqn: string): void {
  const subsys = path.join(NVMET, 'subsystems', nqn);
  if (fs.existsSync(subsys) && !fs.existsSync(portLink(nqn))) fs.symlinkSync(subsys, portLink(nqn));
}

function sha(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function writeSynced(file: string, bytes: number): string {
  const data = crypto.randomBytes(bytes);
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, data);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  return crypto.createHash('sha256').update(data).digest('hex');
}

async function states(fabrics: Fabrics, nqn: string): Promise<ControllerState[]> {
  const vol = await fabrics.find(nqn);
  return vol?.controllers.map((c) => c.state) ?? [];
}

async function waitState(fabrics: Fabrics, nqn: string, want: ControllerState, ms: number) {
  const deadline = Date.now() + ms;
  let seen: ControllerState[] = [];
  while (Date.now() < deadline) {
    seen = await states(fabrics, nqn);
    if (seen.includes(want)) return seen;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`controller of ${nqn} never ${want} within ${ms} ms (last: ${seen.join(',')})`);
}

async function stageAndPublish(ctx: NodeContext, v: Volume, targetPath = v.target) {
  const staged = await stageVolume(ctx, {
    volumeId: v.id,
    stagingPath: v.staging,
    access: EXT4,
    context: { nqn: v.nqn, traddr: '127.0.0.1', trsvcid: 4420, fsType: undefined },
  });
  await publishVolume(ctx, {
    volumeId: v.id,
    stagingPath: v.staging,
    targetPath,
    access: 'mount',
    readonly: false,
  });
  return staged;
}

const elapsed = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;

t.test('real-kernel scenarios: outage, restart, fencing', { skip: skip ?? false }, async (t) => {
  t.setTimeout(10 * 60_000);
  const host = await loadHostIdentity({ nodeId: guestEnv()?.name ?? 'guest' });
  const bed = new Bed(host);
  t.teardown(() => bed.teardown());
  const ctx = bed.node();
  const vol = bed.volume('outage', 256);
  let payloadSum = '';
  const payload = path.join(vol.target, 'payload.bin');

  await t.test('stage + publish ext4 with reconnect-for-ever tuning, write data', async (t) => {
    const started = Date.now();
    const staged = await stageAndPublish(ctx, vol);
    t.ok(staged.formatted, 'empty device formatted');
    payloadSum = writeSynced(payload, MIB);
    t.same(await states(ctx.fabrics, vol.nqn), ['live'], 'one live controller');
    const ctrl = controllersOf(vol.nqn)[0];
    const opts = fs.readFileSync(`/sys/class/nvme/nvme${ctrl}/ctrl_loss_tmo`, 'utf8').trim();
    t.equal(opts, 'off', 'ctrl_loss_tmo -1 reached the kernel (reported as off)');
    const stats = await volumeStats(ctx, { volumeId: vol.id, volumePath: vol.target });
    t.equal(stats.condition.abnormal, false, stats.condition.message);
    t.comment(`stage+publish+write: ${elapsed(started)}`);
  });

  await t.test('scenario 4: target outage during a pending write', async (t) => {
    const started = Date.now();
    fs.unlinkSync(portLink(vol.nqn));
    const outageStart = Date.now();
    // The write goes to the page cache; its fsync waits for the path to come back.
    const during = path.join(vol.target, 'during.bin');
    const data = crypto.randomBytes(256 * 1024);
    const fh = await fs.promises.open(during, 'w');
    let flushed = false;
    const pending = fh
      .write(data)
      .then(() => fh.sync())
      .then(() => {
        flushed = true;
      })
      .finally(() => fh.close());
    const seen = await waitState(ctx.fabrics, vol.nqn, 'connecting', OUTAGE_MS + 20_000);
    t.ok(seen.includes('connecting'), `controller state during the outage: ${seen.join(',')}`);
    t.comment(`connecting after ${elapsed(outageStart)}`);
    const down = await volumeStats(ctx, { volumeId: vol.id, volumePath: vol.target });
    t.equal(down.condition.abnormal, true, 'stats report abnormal during the outage');
    t.match(down.condition.message, /connecting|resetting/, down.condition.message);
    t.equal(flushed, false, 'the fsync waits while the target is away');
    const rest = OUTAGE_MS - (Date.now() - outageStart);
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    t.equal(flushed, false, `fsync still pending after ${elapsed(outageStart)} of outage`);
    t.same(await states(ctx.fabrics, vol.nqn), ['connecting'], 'still reconnecting, not removed');

    linkPort(vol.nqn);
    const back = Date.now();
    await waitState(ctx.fabrics, vol.nqn, 'live', 30_000);
    t.comment(`live again ${elapsed(back)} after the port came back`);
    await pending;
    t.ok(flushed, 'the pending fsync completed after the reconnect');
    t.ok(fs.readFileSync(during).equals(data), 'the write made during the outage reads back');
    const after = writeSynced(path.join(vol.target, 'after.bin'), 128 * 1024);
    t.equal(sha(path.join(vol.target, 'after.bin')), after, 'filesystem still writable');
    t.equal(sha(payload), payloadSum, 'data from before the outage intact');
    const up = await volumeStats(ctx, { volumeId: vol.id, volumePath: vol.target });
    t.equal(up.condition.abnormal, false, `stats normal again: ${up.condition.message}`);
    // Read the payload from the device again, not from the page cache.
    execFileSync('sh', ['-c', `echo 3 > /proc/sys/vm/drop_caches`]);
    t.equal(sha(payload), payloadSum, 'data intact read from the device (caches dropped)');
    t.comment(`outage step: ${elapsed(started)}`);
  });

  await t.test('scenario 8: plugin restart with a volume staged', async (t) => {
    const started = Date.now();
    // A managed controller no staged volume accounts for (a crash between connect and stage).
    const orphan = bed.export('orphan', 64);
    const attachOrphan = () =>
      ctx.fabrics.attach({
        nqn: orphan.nqn,
        traddr: '127.0.0.1',
        trsvcid: 4420,
        hostnqn: host.hostnqn,
        hostid: host.hostid,
        tuning: TUNING,
      });
    await attachOrphan();
    const before = controllersOf(vol.nqn);

    const restarted = bed.node();
    const records = await restarted.records.list();
    t.same(
      records.map((r) => r.context.nqn),
      [vol.nqn],
      'the record store (same dir) lists the staged volume',
    );
    // Records lost as well: the sweep sees the staged volume as an orphan too, and the
    // detach policy still refuses to pull a mounted device away.
    const blind = await cleanupOrphans(restarted.fabrics, { stagedNqns: [], disconnect: true });
    t.same(
      blind.failed.map((f) => f.nqn),
      [vol.nqn],
      `the mounted volume is refused: ${blind.failed[0]?.reason ?? 'not refused'}`,
    );
    t.same(controllersOf(vol.nqn), before, 'the mounted volume is still connected');
    t.same(blind.disconnected, [orphan.nqn], 'the unused orphan is disconnected');
    t.same(controllersOf(orphan.nqn), [], 'orphan controller gone from the kernel');
    await attachOrphan();

    const report = await cleanupOrphans(restarted.fabrics, {
      stagedNqns: records.map((r) => r.context.nqn),
      disconnect: true,
    });
    t.same(report.disconnected, [orphan.nqn], 'only the orphan is disconnected');
    t.same(report.failed, [], 'no detach failed');
    t.same(controllersOf(orphan.nqn), [], 'orphan controller gone from the kernel');
    t.same(controllersOf(vol.nqn), before, 'the staged volume keeps its controller');
    t.same(await states(restarted.fabrics, vol.nqn), ['live'], 'still live');

    const stats = await volumeStats(restarted, { volumeId: vol.id, volumePath: vol.target });
    t.equal(
      stats.condition.abnormal,
      false,
      `found from kernel + mounts: ${stats.condition.message}`,
    );
    const again = await stageVolume(restarted, {
      volumeId: vol.id,
      stagingPath: vol.staging,
      access: EXT4,
      context: { nqn: vol.nqn, traddr: '127.0.0.1', trsvcid: 4420, fsType: undefined },
    });
    t.ok(again.alreadyStaged, 'NodeStage after the restart sees the existing staging mount');
    t.notOk(again.formatted, 'not formatted');

    const second = bed.podPath('pod-b', 'outage');
    await publishVolume(restarted, {
      volumeId: vol.id,
      stagingPath: vol.staging,
      targetPath: second,
      access: 'mount',
      readonly: false,
    });
    t.equal(sha(path.join(second, 'payload.bin')), payloadSum, 'new publish sees the data');
    await unpublishVolume(restarted, { volumeId: vol.id, targetPath: second });
    t.notOk(fs.existsSync(second), 'second target removed');
    t.equal(sha(payload), payloadSum, 'the first pod still sees the data');

    await unpublishVolume(restarted, { volumeId: vol.id, targetPath: vol.target });
    await unstageVolume(restarted, { volumeId: vol.id, stagingPath: vol.staging });
    t.same(controllersOf(vol.nqn), [], 'unstage by the restarted plugin disconnects');
    t.same(await restarted.records.list(), [], 'record removed');
    t.comment(`restart step: ${elapsed(started)}`);
  });

  await t.test('scenario 6: host fencing with an allow-list', async (t) => {
    const started = Date.now();
    const allowed = `nqn.2014-08.org.nvmexpress:uuid:${crypto.randomUUID()}`;
    const foreign = `nqn.2014-08.org.nvmexpress:uuid:${crypto.randomUUID()}`;
    const fenced = bed.export('fenced', 64, [allowed]);
    const fabrics = bed.fabrics();
    const target = (hostnqn: string) => ({
      nqn: fenced.nqn,
      traddr: '127.0.0.1',
      trsvcid: 4420,
      hostnqn,
      hostid: crypto.randomUUID(),
    });
    const err: unknown = await fabrics.attach(target(foreign)).catch((e: unknown) => e);
    t.type(err, UnavailableError, 'a host outside the allow-list is refused');
    const msg = err instanceof Error ? err.message : String(err);
    t.match(msg, /does not exist/, 'message names a missing subsystem as one cause');
    t.match(msg, /allowed hosts/, 'message names the allow-list as the other cause');
    t.match(msg, foreign, 'message names the refused host NQN');
    t.same(controllersOf(fenced.nqn), [], 'no controller left behind by the refused connect');

    const ok = await fabrics.attach(target(allowed));
    t.ok(fs.statSync(ok.device).isBlockDevice(), `allowed host connects: ${ok.device}`);
    const vol = await fabrics.find(fenced.nqn);
    t.same(
      vol?.controllers.map((c) => c.hostnqn),
      [allowed],
      'the controller belongs to the allowed host',
    );
    t.equal((await fabrics.detach(fenced.nqn)).disconnected, 1, 'detached');
    t.comment(`fencing step: ${elapsed(started)}`);
  });
});
