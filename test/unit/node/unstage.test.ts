import t from 'tap';
import path from 'node:path';
import { FailedPreconditionError } from '../../../src/domain/errors';
import { publishVolume } from '../../../src/node/publish';
import { stageVolume } from '../../../src/node/stage';
import { unstageVolume } from '../../../src/node/unstage';
import { NQN, rig } from './setup';

t.test('unstage unmounts, disconnects and forgets the volume; idempotent', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  await unstageVolume(r.ctx, { volumeId: 'pvc-1', stagingPath: r.staging });
  t.same(r.mounter.table, []);
  t.ok(r.fabrics.calls.includes(`detach ${NQN}`));
  t.equal(r.fabrics.conns.size, 0);
  t.equal(await r.ctx.records.get('pvc-1'), undefined);
  await unstageVolume(r.ctx, { volumeId: 'pvc-1', stagingPath: r.staging });
  t.equal(await r.count('volumeOperations', { operation: 'unstage', status: 'success' }), 2);
});

t.test('unstage of a volume never staged here is OK and touches nothing', async (t) => {
  const r = rig(t);
  await unstageVolume(r.ctx, { volumeId: 'nope', stagingPath: r.staging });
  t.same(r.fabrics.calls, []);
});

t.test('a busy unmount is retried briefly', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  r.mounter.busy.set(r.staging, 2);
  await unstageVolume(r.ctx, { volumeId: 'pvc-1', stagingPath: r.staging });
  t.equal(r.mounter.calls.filter((c) => c === `unmount ${r.staging}`).length, 3);
  t.equal(await r.count('mountOperations', { operation: 'unmount', status: 'failure' }), 2);
});

t.test('a mount that stays busy → FAILED_PRECONDITION and no disconnect', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  r.mounter.busy.set(r.staging, 100);
  await t.rejects(
    unstageVolume(r.ctx, { volumeId: 'pvc-1', stagingPath: r.staging }),
    FailedPreconditionError,
  );
  t.notOk(r.fabrics.calls.includes(`detach ${NQN}`));
  t.ok(await r.ctx.records.get('pvc-1'), 'record kept for the retry');
});

t.test('refuses while a publish target still uses the device (mount and block)', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  await publishVolume(r.ctx, {
    volumeId: 'pvc-1',
    stagingPath: r.staging,
    targetPath: r.target,
    access: 'mount',
    readonly: false,
  });
  await t.rejects(unstageVolume(r.ctx, { volumeId: 'pvc-1', stagingPath: r.staging }), {
    code: 'failed-precondition',
    message: /still in use.*unpublish it first/,
  });
  t.equal(r.mounter.table.length, 2, 'staging left mounted');
  t.notOk(r.fabrics.calls.includes(`detach ${NQN}`));

  const b = rig(t);
  await stageVolume(b.ctx, b.stageInput({ access: { kind: 'block' } }));
  await publishVolume(b.ctx, {
    volumeId: 'pvc-1',
    stagingPath: b.staging,
    targetPath: b.target,
    access: 'block',
    readonly: false,
  });
  await t.rejects(
    unstageVolume(b.ctx, { volumeId: 'pvc-1', stagingPath: b.staging }),
    FailedPreconditionError,
  );
  t.notOk(b.fabrics.calls.includes(`detach ${NQN}`));
});

t.test(
  'the Fabrics port refusing to disconnect (device open) is FAILED_PRECONDITION',
  async (t) => {
    const r = rig(t);
    await stageVolume(r.ctx, r.stageInput({ access: { kind: 'block' } }));
    r.fabrics.busy.add(NQN);
    await t.rejects(
      unstageVolume(r.ctx, { volumeId: 'pvc-1', stagingPath: r.staging }),
      FailedPreconditionError,
    );
    t.ok(await r.ctx.records.get('pvc-1'));
  },
);

t.test('without a record the NQN is found from the mounted device', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  await r.ctx.records.remove('pvc-1');
  await unstageVolume(r.ctx, { volumeId: 'pvc-1', stagingPath: r.staging });
  t.ok(r.fabrics.calls.includes(`detach ${NQN}`));
  t.same(r.mounter.table, []);
});

t.test('unstage at a path other than the staged one → FAILED_PRECONDITION', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  await t.rejects(
    unstageVolume(r.ctx, { volumeId: 'pvc-1', stagingPath: path.join(r.kubelet, 'x') }),
    FailedPreconditionError,
  );
});
