// Runs inside a test VM as root (see test/vm/guest-suite.test.ts): the node use-cases with
// the REAL native Fabrics port and the REAL Linux Mounter against a kernel nvmet target on
// 127.0.0.1 backed by loop devices. Stage/publish/unpublish/unstage with data checks on
// ext4 and xfs, raw block publish, online expansion, the never-reformat rule and recovery
// after the controller vanished under a mounted volume. Skips (with the reason) elsewhere.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { UnavailableError } from '../../../src/domain/errors';
import type { FsType, VolumeContext } from '../../../src/domain/volume-context';
import { createAddonMounter } from '../../../src/mount/linux';
import { parseMountinfo } from '../../../src/mount/mountinfo';
import type { Mounter } from '../../../src/mount/ports';
import { type NodeContext, resolveNode } from '../../../src/node/deps';
import { expandVolume } from '../../../src/node/expand';
import { publishVolume, unpublishVolume } from '../../../src/node/publish';
import { type StageAccess, stageVolume } from '../../../src/node/stage';
import { volumeStats } from '../../../src/node/stats';
import { unstageVolume } from '../../../src/node/unstage';
import { createNativeFabrics } from '../../../src/nvme/fabrics';
import { loadHostIdentity } from '../../../src/nvme/hostid';
import { loadNvmeAddon } from '../../../src/nvme/native';
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

const skip = nvmeSkipReason();
if (skip !== null) console.log(`# node-stage guest test skipped: ${skip}`);

interface Volume {
  readonly id: string;
  readonly nqn: string;
  readonly file: string;
  readonly loop: string;
  readonly context: VolumeContext;
  readonly staging: string;
  readonly target: string;
}

interface Bed {
  readonly ctx: NodeContext;
  readonly mounter: Mounter;
  readonly kubelet: string;
  volume(name: string, sizeMiB: number): Volume;
}

/** A node context on the real kernel, and volumes exported by nvmet; all undone in teardown. */
async function bed(t: Test, mounter?: Mounter): Promise<Bed> {
  const kubelet = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-'));
  const addon = loadNvmeAddon();
  const realMounter = createAddonMounter(addon);
  const used = mounter ?? realMounter;
  const fabrics = createNativeFabrics({ addon });
  const host = await loadHostIdentity({ nodeId: guestEnv()?.name ?? 'guest' });
  const ctx = resolveNode({
    nodeId: 'guest',
    kubeletDir: kubelet,
    maxVolumesPerNode: 0,
    fabrics,
    mounter: used,
    host,
    timing: { probeDelayMs: 50 },
  });
  const volumes: Volume[] = [];
  t.teardown(async () => {
    const ours = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'))
      .filter((m) => m.mountPoint.startsWith(`${kubelet}/`))
      .reverse();
    for (const m of ours) execFileSync('umount', ['-l', m.mountPoint]);
    for (const v of volumes) {
      await fabrics.detach(v.nqn).catch(() => undefined);
      removeTarget(v.nqn);
      execFileSync('losetup', ['-d', v.loop]);
      fs.rmSync(v.file, { force: true });
    }
    fs.rmSync(kubelet, { recursive: true, force: true });
  });
  return {
    ctx,
    mounter: used,
    kubelet,
    volume(name, sizeMiB) {
      const nqn = `nqn.2000-02.com.mikrotik:node-${name}`;
      const file = path.join(os.tmpdir(), `node-${name}.img`);
      const loop = loopDevice(file, sizeMiB);
      createTarget({ nqn, devicePath: loop, traddr: '127.0.0.1' });
      const v: Volume = {
        id: `pvc-${name}`,
        nqn,
        file,
        loop,
        context: { nqn, traddr: '127.0.0.1', trsvcid: 4420, fsType: undefined },
        staging: path.join(kubelet, 'plugins/kubernetes.io/csi/rds-csi.dev', name, 'globalmount'),
        target: path.join(kubelet, 'pods', name, 'volumes/kubernetes.io~csi', name, 'mount'),
      };
      volumes.push(v);
      return v;
    },
  };
}

const mountAccess = (fsType: FsType): StageAccess => ({ kind: 'mount', fsType, flags: [] });

function sha(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function mountCount(): number {
  return parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).length;
}

async function stageAndPublish(ctx: NodeContext, v: Volume, access: StageAccess) {
  const staged = await stageVolume(ctx, {
    volumeId: v.id,
    stagingPath: v.staging,
    access,
    context: v.context,
  });
  await publishVolume(ctx, {
    volumeId: v.id,
    stagingPath: v.staging,
    targetPath: v.target,
    access: access.kind,
    readonly: false,
  });
  return staged;
}

async function unpublishAndUnstage(ctx: NodeContext, v: Volume): Promise<void> {
  await unpublishVolume(ctx, { volumeId: v.id, targetPath: v.target });
  await unstageVolume(ctx, { volumeId: v.id, stagingPath: v.staging });
}

t.test('node stage/publish on a real kernel', { skip: skip ?? false }, async (t) => {
  t.setTimeout(8 * 60_000);

  for (const fsType of ['ext4', 'xfs'] as const) {
    await t.test(`${fsType}: data survives unstage/disconnect and a second stage`, async (t) => {
      const b = await bed(t);
      const v = b.volume(`data-${fsType}`, 1024);
      const first = await stageAndPublish(b.ctx, v, mountAccess(fsType));
      t.ok(first.formatted, 'empty device formatted');
      t.comment(`stage ${fsType} 1 GiB: ${JSON.stringify(first.timings)}`);
      const again = await stageVolume(b.ctx, {
        volumeId: v.id,
        stagingPath: v.staging,
        access: mountAccess(fsType),
        context: v.context,
      });
      t.ok(again.alreadyStaged, 'second stage at the same path is a no-op');
      const payload = path.join(v.target, 'payload.bin');
      fs.writeFileSync(payload, crypto.randomBytes(MIB));
      const fd = fs.openSync(payload, 'r');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      const sum = sha(payload);
      const stats = await volumeStats(b.ctx, { volumeId: v.id, volumePath: v.target });
      t.equal(stats.condition.abnormal, false, stats.condition.message);
      t.ok((stats.fs?.usedBytes ?? 0) >= MIB, 'statfs sees the data');
      await unpublishAndUnstage(b.ctx, v);
      t.same(controllersOf(v.nqn), [], 'controller disconnected after unstage');
      t.notOk(fs.existsSync(v.target), 'target removed');

      const second = await stageAndPublish(b.ctx, v, mountAccess(fsType));
      t.notOk(second.formatted, 'existing filesystem not formatted again');
      t.equal(sha(payload), sum, 'checksum equal after re-attach');
      await unpublishAndUnstage(b.ctx, v);
      await unpublishAndUnstage(b.ctx, v);
      t.pass('unpublish/unstage are idempotent');
    });
  }

  await t.test('block: one bind of the device node onto a target file, raw I/O', async (t) => {
    const b = await bed(t);
    const v = b.volume('block', 256);
    const before = mountCount();
    const staged = await stageAndPublish(b.ctx, v, { kind: 'block' });
    t.equal(mountCount(), before + 1, 'exactly one new mount (no /dev mount storm)');
    const entry = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).find(
      (m) => m.mountPoint === v.target,
    );
    t.equal(entry?.root, `/${path.basename(staged.device)}`, 'the device node is bound');
    t.ok(fs.statSync(v.target).isBlockDevice(), 'target is the block device');
    const data = crypto.randomBytes(64 * 1024);
    const fd = fs.openSync(v.target, 'r+');
    fs.writeSync(fd, data, 0, data.length, MIB);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const back = Buffer.alloc(data.length);
    const rd = fs.openSync(staged.device, 'r');
    fs.readSync(rd, back, 0, back.length, MIB);
    fs.closeSync(rd);
    t.ok(back.equals(data), 'data written through the target reads back from the device');
    const stats = await volumeStats(b.ctx, { volumeId: v.id, volumePath: v.target });
    t.equal(stats.blockBytes, 256 * MIB);
    t.equal(stats.condition.abnormal, false, stats.condition.message);
    await t.rejects(
      unstageVolume(b.ctx, { volumeId: v.id, stagingPath: v.staging }),
      { code: 'failed-precondition' },
      'unstage refused while published',
    );
    t.ok(controllersOf(v.nqn).length > 0, 'still connected');
    await unpublishAndUnstage(b.ctx, v);
    t.equal(mountCount(), before, 'mount table back to where it was');
    t.same(controllersOf(v.nqn), []);
  });

  for (const fsType of ['ext4', 'xfs'] as const) {
    await t.test(`${fsType}: online expansion`, async (t) => {
      const b = await bed(t);
      const v = b.volume(`grow-${fsType}`, 512);
      await stageAndPublish(b.ctx, v, mountAccess(fsType));
      const small = (await volumeStats(b.ctx, { volumeId: v.id, volumePath: v.target })).fs!;
      fs.truncateSync(v.file, 1024 * MIB);
      execFileSync('losetup', ['-c', v.loop]);
      fs.writeFileSync(path.join(NVMET, 'subsystems', v.nqn, 'namespaces/1/revalidate_size'), '1');
      const res = await expandVolume(b.ctx, {
        volumeId: v.id,
        volumePath: v.target,
        requiredBytes: 1024 * MIB,
        block: false,
      });
      t.equal(res.capacityBytes, 1024 * MIB, 'new capacity returned');
      const big = (await volumeStats(b.ctx, { volumeId: v.id, volumePath: v.target })).fs!;
      t.ok(
        big.totalBytes > small.totalBytes * 1.8,
        `filesystem grew ${small.totalBytes} → ${big.totalBytes}`,
      );
      await unpublishAndUnstage(b.ctx, v);
    });
  }

  await t.test('never reformat a volume with data when probes fail', async (t) => {
    const real = createAddonMounter(loadNvmeAddon());
    let failing = 0;
    const formats: string[] = [];
    const flaky: Mounter = {
      ...real,
      probe: (device, o) =>
        failing-- > 0
          ? Promise.resolve({ kind: 'ambiguous', reason: 'injected: blkid failed' })
          : real.probe(device, o),
      format: (device, fsType) => {
        formats.push(device);
        return real.format(device, fsType);
      },
    };
    const b = await bed(t, flaky);
    const v = b.volume('keep', 256);
    await stageAndPublish(b.ctx, v, mountAccess('ext4'));
    t.equal(formats.length, 1, 'formatted once while empty');
    const payload = path.join(v.target, 'keep.bin');
    fs.writeFileSync(payload, crypto.randomBytes(256 * 1024));
    execFileSync('sync');
    const sum = sha(payload);
    await unpublishAndUnstage(b.ctx, v);

    failing = 100;
    await t.rejects(
      stageVolume(b.ctx, {
        volumeId: v.id,
        stagingPath: v.staging,
        access: mountAccess('ext4'),
        context: v.context,
      }),
      UnavailableError,
      'every probe ambiguous: the stage fails',
    );
    t.equal(formats.length, 1, 'not formatted');
    failing = 2;
    const res = await stageAndPublish(b.ctx, v, mountAccess('ext4'));
    t.notOk(res.formatted, 'transient probe failures, then the filesystem is found');
    t.equal(formats.length, 1, 'still formatted only once');
    t.equal(sha(payload), sum, 'data intact');
    await unpublishAndUnstage(b.ctx, v);
  });

  await t.test(
    'a controller removed under a mounted volume is detected and repaired',
    async (t) => {
      const b = await bed(t);
      const v = b.volume('stale', 256);
      const first = await stageAndPublish(b.ctx, v, mountAccess('ext4'));
      const payload = path.join(v.target, 'before.bin');
      fs.writeFileSync(payload, crypto.randomBytes(128 * 1024));
      execFileSync('sync');
      const sum = sha(payload);
      for (const n of controllersOf(v.nqn)) {
        fs.writeFileSync(`/sys/class/nvme/nvme${n}/delete_controller`, '1');
      }
      const gone = await volumeStats(b.ctx, { volumeId: v.id, volumePath: v.target });
      t.equal(gone.condition.abnormal, true, gone.condition.message);
      t.comment(`condition: ${gone.condition.message}`);

      const restaged = await stageVolume(b.ctx, {
        volumeId: v.id,
        stagingPath: v.staging,
        access: mountAccess('ext4'),
        context: v.context,
      });
      t.not(restaged.device, first.device, `reconnected as ${restaged.device}`);
      t.notOk(restaged.formatted);
      await publishVolume(b.ctx, {
        volumeId: v.id,
        stagingPath: v.staging,
        targetPath: v.target,
        access: 'mount',
        readonly: false,
      });
      t.equal(sha(payload), sum, 'data readable through the repaired mounts');
      const ok = await volumeStats(b.ctx, { volumeId: v.id, volumePath: v.target });
      t.equal(ok.condition.abnormal, false, ok.condition.message);
      await unpublishAndUnstage(b.ctx, v);
    },
  );
});
