import t from 'tap';
import fs from 'node:fs';
import { DeadlineExceededError, NotFoundError } from '../../../src/domain/errors';
import { expandVolume } from '../../../src/node/expand';
import { publishVolume } from '../../../src/node/publish';
import { stageVolume } from '../../../src/node/stage';
import { volumeStats } from '../../../src/node/stats';
import { NQN, rig } from './setup';

const GIB = 1024 ** 3;

t.test('expand: rescan, wait for the new size, grow the filesystem online', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  r.fabrics.pendingSize.set(NQN, 2 * GIB);
  const res = await expandVolume(r.ctx, {
    volumeId: 'pvc-1',
    volumePath: r.staging,
    requiredBytes: 2 * GIB,
    block: false,
  });
  t.equal(res.capacityBytes, 2 * GIB);
  t.ok(r.fabrics.calls.includes(`rescan ${NQN}`));
  t.ok(r.mounter.calls.includes(`grow /dev/nvme0n1 ${r.staging} ext4`));
  t.equal(r.mounter.filesystems.get('/dev/nvme0n1')?.size, 2 * GIB);
  t.equal(await r.count('volumeOperations', { operation: 'expand', status: 'success' }), 1);
});

t.test('expand of a block volume needs no filesystem work', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput({ access: { kind: 'block' } }));
  r.fabrics.pendingSize.set(NQN, 3 * GIB);
  const res = await expandVolume(r.ctx, {
    volumeId: 'pvc-1',
    volumePath: r.staging,
    requiredBytes: 0,
    block: true,
  });
  t.equal(res.capacityBytes, 3 * GIB);
  t.notOk(r.mounter.calls.some((c) => c.startsWith('grow')));
});

t.test('expand waits a bounded time for the size, then DEADLINE_EXCEEDED', async (t) => {
  let clock = 0;
  const r = rig(t, {
    now: () => clock,
    sleep: (ms) => {
      clock += ms;
      return Promise.resolve();
    },
    timing: { expandWaitMs: 2000 },
  });
  await stageVolume(r.ctx, r.stageInput());
  await t.rejects(
    expandVolume(r.ctx, {
      volumeId: 'pvc-1',
      volumePath: r.staging,
      requiredBytes: 2 * GIB,
      block: false,
    }),
    DeadlineExceededError,
  );
  t.ok(clock >= 2000 && clock < 4000, `waited ~2 s of fake time (${clock})`);
  t.notOk(r.mounter.calls.some((c) => c.startsWith('grow')));
});

t.test('expand of an unknown volume or missing path → NOT_FOUND', async (t) => {
  const r = rig(t);
  const req = { volumeId: 'pvc-1', volumePath: r.staging, requiredBytes: 0, block: false };
  await t.rejects(expandVolume(r.ctx, req), NotFoundError);
  await stageVolume(r.ctx, r.stageInput());
  await t.rejects(expandVolume(r.ctx, { ...req, volumePath: r.target }), NotFoundError);
});

t.test('stats of a healthy mount: bytes and inodes, condition normal', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  await publishVolume(r.ctx, {
    volumeId: 'pvc-1',
    stagingPath: r.staging,
    targetPath: r.target,
    access: 'mount',
    readonly: false,
  });
  const s = await volumeStats(r.ctx, { volumeId: 'pvc-1', volumePath: r.target });
  t.same(s.fs, r.mounter.stats);
  t.equal(s.condition.abnormal, false);
});

t.test('stats of a block volume report the device size', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput({ access: { kind: 'block' } }));
  await publishVolume(r.ctx, {
    volumeId: 'pvc-1',
    stagingPath: r.staging,
    targetPath: r.target,
    access: 'block',
    readonly: false,
  });
  const s = await volumeStats(r.ctx, { volumeId: 'pvc-1', volumePath: r.target });
  t.equal(s.blockBytes, GIB);
  t.equal(s.fs, undefined);
  t.equal(s.condition.abnormal, false);
});

t.test('stats of an unknown volume or path → NOT_FOUND', async (t) => {
  const r = rig(t);
  await t.rejects(volumeStats(r.ctx, { volumeId: 'x', volumePath: r.target }), NotFoundError);
  await stageVolume(r.ctx, r.stageInput());
  await t.rejects(volumeStats(r.ctx, { volumeId: 'pvc-1', volumePath: r.target }), NotFoundError);
});

t.test('conditions: each abnormal state says what is wrong and what happens', async (t) => {
  const setup = async () => {
    const r = rig(t);
    await stageVolume(r.ctx, r.stageInput());
    return r;
  };
  const check = async (
    name: string,
    mutate: (r: Awaited<ReturnType<typeof setup>>) => void,
    message: RegExp,
  ) => {
    const r = await setup();
    mutate(r);
    const s = await volumeStats(r.ctx, { volumeId: 'pvc-1', volumePath: r.staging });
    t.equal(s.condition.abnormal, true, name);
    t.match(s.condition.message, message, name);
    return r;
  };
  await check(
    'connecting',
    (r) => r.fabrics.setState(NQN, 'connecting'),
    /is connecting.*keeps reconnecting/,
  );
  await check(
    'gone',
    (r) => r.fabrics.conns.delete(NQN),
    /no NVMe controller.*reconnects on the next stage/,
  );
  await check(
    'no namespace',
    (r) => {
      r.fabrics.conns.get(NQN)!.device = undefined;
    },
    /namespace device is missing/,
  );
  await check('stale path', (r) => r.mounter.stalePaths.add(r.staging), /stale handle/);
  await check('not mounted', (r) => (r.mounter.table = []), /nothing is mounted/);
  await check(
    'read-only after errors',
    (r) => {
      r.mounter.table = r.mounter.table.map((e) => ({
        ...e,
        superOptions: ['ro', 'errors=remount-ro'],
      }));
    },
    /remounted read-only after I\/O errors/,
  );
  const r = await check(
    'renumbered',
    (r) => r.fabrics.renumber(NQN),
    /no longer this volume's device/,
  );
  await volumeStats(r.ctx, { volumeId: 'pvc-1', volumePath: r.staging });
  t.equal(await r.count('staleMountsDetected'), 1, 'a stale mount is counted once');
  t.same(r.events.stale, [r.staging]);
});

t.test('a staging path mounted read-only on request is not reported', async (t) => {
  const r = rig(t);
  await stageVolume(
    r.ctx,
    r.stageInput({ access: { kind: 'mount', fsType: 'ext4', flags: ['ro'] } }),
  );
  const s = await volumeStats(r.ctx, { volumeId: 'pvc-1', volumePath: r.staging });
  t.equal(s.condition.abnormal, false);
  t.ok(fs.existsSync(r.staging));
});
