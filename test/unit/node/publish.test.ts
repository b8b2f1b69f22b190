import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { FailedPreconditionError } from '../../../src/domain/errors';
import { type PublishInput, publishVolume, unpublishVolume } from '../../../src/node/publish';
import { stageVolume } from '../../../src/node/stage';
import { NQN, rig, type Rig } from './setup';

function input(r: Rig, o: Partial<PublishInput> = {}): PublishInput {
  return {
    volumeId: 'pvc-1',
    stagingPath: r.staging,
    targetPath: r.target,
    access: 'mount',
    readonly: false,
    ...o,
  };
}

t.test('publish before stage → FAILED_PRECONDITION', async (t) => {
  const r = rig(t);
  await t.rejects(publishVolume(r.ctx, input(r)), FailedPreconditionError);
  t.notOk(fs.existsSync(r.target), 'no target directory made');
  t.equal(await r.count('volumeOperations', { operation: 'publish', status: 'failure' }), 1);
});

t.test('publish with the other access type than staged → FAILED_PRECONDITION', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  await t.rejects(publishVolume(r.ctx, input(r, { access: 'block' })), FailedPreconditionError);
  t.notOk(fs.existsSync(r.target), 'no target made');
});

t.test('mount publish binds the staging mount; idempotent; read-only honoured', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  await publishVolume(r.ctx, input(r));
  await publishVolume(r.ctx, input(r));
  t.equal(r.mounter.calls.filter((c) => c.startsWith('bind')).length, 1, 'one bind');
  t.ok(fs.statSync(r.target).isDirectory());
  const ro = path.join(r.kubelet, 'pods/uid2/volumes/x/mount');
  await publishVolume(r.ctx, input(r, { targetPath: ro, readonly: true }));
  t.ok(r.mounter.calls.includes(`bind ${r.staging} ${ro} ro`));
  await t.rejects(publishVolume(r.ctx, input(r, { targetPath: ro, readonly: false })), {
    code: 'already-exists',
  });
});

t.test('block publish binds the device node onto a target file, once', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput({ access: { kind: 'block' } }));
  await publishVolume(r.ctx, input(r, { access: 'block' }));
  await publishVolume(r.ctx, input(r, { access: 'block' }));
  t.ok(fs.statSync(r.target).isFile(), 'target is a file');
  const binds = r.mounter.calls.filter((c) => c.startsWith('bind'));
  t.same(binds, [`bind /dev/nvme0n1 ${r.target}`], 'exactly one bind of the device node');
  t.equal(r.mounter.table.length, 1);
  t.match(r.mounter.table[0], { fsType: 'devtmpfs', root: '/nvme0n1', mountPoint: r.target });
});

t.test('block publish after a renumbering reconnect binds the new device', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput({ access: { kind: 'block' } }));
  const moved = r.fabrics.renumber(NQN);
  await publishVolume(r.ctx, input(r, { access: 'block' }));
  t.ok(r.mounter.calls.includes(`bind ${moved} ${r.target}`));
});

t.test('block publish re-attaches when the controller is gone', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput({ access: { kind: 'block' } }));
  r.fabrics.conns.delete(NQN);
  await publishVolume(r.ctx, input(r, { access: 'block' }));
  t.equal(r.fabrics.calls.filter((c) => c.startsWith('attach')).length, 2);
  t.equal((await r.ctx.records.get('pvc-1'))?.device, '/dev/nvme1n1');
  t.same(r.events.recovered, ['/dev/nvme1n1'], 'ConnectionRecovered hook');
});

t.test('a stale target (old device) is unmounted and bound again', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput({ access: { kind: 'block' } }));
  await publishVolume(r.ctx, input(r, { access: 'block' }));
  const moved = r.fabrics.renumber(NQN);
  await publishVolume(r.ctx, input(r, { access: 'block' }));
  t.same(r.events.stale, [r.target]);
  t.equal(await r.count('staleRecoveries', { status: 'success' }), 1);
  t.equal(r.mounter.table.length, 1);
  t.match(r.mounter.table[0], { root: `/${path.basename(moved)}` });
});

t.test('a stale staging mount is remounted before the bind', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  const moved = r.fabrics.renumber(NQN);
  r.mounter.moveFilesystem('/dev/nvme0n1', moved);
  await publishVolume(r.ctx, input(r));
  t.equal(await r.count('staleMountsDetected'), 1);
  t.equal(await r.count('staleRecoveries', { status: 'success' }), 1);
  t.match(
    r.mounter.table.map((e) => [e.mountPoint, e.source]),
    [
      [r.staging, moved],
      [r.target, moved],
    ],
  );
  t.equal(r.mounter.calls.filter((c) => c.startsWith('format')).length, 1, 'only the first mkfs');
});

t.test('mount publish with nothing mounted at staging → FAILED_PRECONDITION', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  r.mounter.table = [];
  await t.rejects(publishVolume(r.ctx, input(r)), FailedPreconditionError);
});

t.test('unpublish: missing target OK; unmounts and removes dir or file', async (t) => {
  const r = rig(t);
  await unpublishVolume(r.ctx, { volumeId: 'pvc-1', targetPath: r.target });
  await stageVolume(r.ctx, r.stageInput());
  await publishVolume(r.ctx, input(r));
  r.mounter.busy.set(r.target, 1);
  await unpublishVolume(r.ctx, { volumeId: 'pvc-1', targetPath: r.target });
  t.notOk(fs.existsSync(r.target));
  t.equal(r.mounter.table.length, 1, 'staging stays');
  await unpublishVolume(r.ctx, { volumeId: 'pvc-1', targetPath: r.target });

  const b = rig(t);
  await stageVolume(b.ctx, b.stageInput({ access: { kind: 'block' } }));
  await publishVolume(b.ctx, input(b, { access: 'block' }));
  await unpublishVolume(b.ctx, { volumeId: 'pvc-1', targetPath: b.target });
  t.notOk(fs.existsSync(b.target));
  t.same(b.mounter.table, []);
});

t.test('unpublish never deletes a non-empty unmounted target', async (t) => {
  const r = rig(t);
  fs.mkdirSync(r.target, { recursive: true });
  fs.writeFileSync(path.join(r.target, 'data'), 'x');
  await t.rejects(
    unpublishVolume(r.ctx, { volumeId: 'pvc-1', targetPath: r.target }),
    FailedPreconditionError,
  );
  t.ok(fs.existsSync(path.join(r.target, 'data')));
});

t.test('unpublish removes every mount stacked on the target (a past mount storm)', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput({ access: { kind: 'block' } }));
  fs.mkdirSync(path.dirname(r.target), { recursive: true });
  fs.writeFileSync(r.target, '');
  for (let i = 0; i < 5; i++) await r.mounter.bind('/dev/nvme0n1', r.target, false);
  await unpublishVolume(r.ctx, { volumeId: 'pvc-1', targetPath: r.target });
  t.same(r.mounter.table, []);
  t.notOk(fs.existsSync(r.target));
});
