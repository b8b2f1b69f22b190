/**
 * Crash-between-steps recovery with simulator faults: lost replies, interrupted deletes,
 * refused adds, leftover files and device restarts never leave an orphan disk or file,
 * and the CO's retry converges.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { codeOf, status } from '../../helpers/csi';
import { snapshotIdFromName } from '../../../src/domain/ids';
import { BASE, PVC, PVC2, createReq, pvcName, type VolumeRes } from '../../unit/controller/harness';
import { rig } from './setup';

/** Retry like the external-provisioner: until OK, at most `n` tries. */
async function retry(f: () => Promise<unknown>, n = 5): Promise<unknown> {
  let last: unknown;
  for (let i = 0; i < n; i += 1) {
    try {
      return await f();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw last;
}

t.test('lost reply of /disk add: the volume is adopted, not duplicated', async (t) => {
  const { c, h, poolFiles } = await rig(t);
  h.sim.faults.add({ match: '^/disk add', drop: true, times: 1 });
  const v = await retry(() => c<VolumeRes>('CreateVolume', createReq(PVC)));
  t.equal((v as VolumeRes).volume.volume_id, PVC);
  t.same(await poolFiles(), [`${BASE}/${PVC}.rdscsi.img`]);
  t.equal(
    h.sim.commandLog.filter((e) => e.command.startsWith('/disk add')).length,
    1,
    'added once',
  );
});

t.test(
  'delete interrupted between /disk remove and /file remove: the retry removes the file',
  async (t) => {
    const { c, h, poolFiles } = await rig(t);
    await c('CreateVolume', createReq(PVC));
    await c('CreateVolume', createReq(PVC2));
    h.sim.faults.add({ match: `^/file remove.*${PVC}`, drop: true, execute: false, times: 1 });
    t.not(await codeOf(c('DeleteVolume', { volume_id: PVC })), 'OK', 'the first try fails');
    t.same(
      await poolFiles(),
      [`${BASE}/${PVC}.rdscsi.img`, `${BASE}/${PVC2}.rdscsi.img`],
      'the file was left behind',
    );
    await retry(() => c('DeleteVolume', { volume_id: PVC }));
    t.same(await poolFiles(), [`${BASE}/${PVC2}.rdscsi.img`]);
  },
);

t.test('not enough space: RESOURCE_EXHAUSTED and nothing left behind', async (t) => {
  const { c, h, poolFiles } = await rig(t);
  h.sim.faults.add({ match: '^/disk add', fail: 'not enough space', times: 1 });
  t.equal(await codeOf(c('CreateVolume', createReq(PVC))), status.RESOURCE_EXHAUSTED);
  t.same(await poolFiles(), []);
  t.equal(await codeOf(c('CreateVolume', createReq(PVC))), 'OK');
});

t.test('a leftover image from an interrupted attempt is replaced', async (t) => {
  const { c, hostPath, poolFiles } = await rig(t);
  const file = hostPath(`${BASE}/${PVC}.rdscsi.img`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, 'stale bytes from an earlier attempt');
  const v = await c<VolumeRes>('CreateVolume', createReq(PVC));
  t.equal(v.volume.volume_id, PVC);
  const st = await fs.stat(file);
  t.equal(st.size, 1024 * 1024, 'a fresh image of the requested size');
  t.same(await poolFiles(), [`${BASE}/${PVC}.rdscsi.img`]);
});

t.test('the RDS restarts instead of answering: the retry converges', async (t) => {
  const { c, h, poolFiles } = await rig(t);
  h.sim.faults.add({ match: '^/disk add', restart: true, times: 1 });
  await retry(() => c('CreateVolume', createReq(PVC)), 10);
  t.same(await poolFiles(), [`${BASE}/${PVC}.rdscsi.img`]);
  const list = await c<{ entries: unknown[] }>('ListVolumes', {});
  t.equal(list.entries.length, 1);
});

t.test(
  'lost reply of a snapshot copy: adopted; an interrupted snapshot delete is finished',
  async (t) => {
    const { c, h, poolFiles } = await rig(t);
    await c('CreateVolume', createReq(PVC));
    h.sim.faults.add({ match: '^/disk add.*copy-from', drop: true, times: 1 });
    await retry(() => c('CreateSnapshot', { name: 'snap-a', source_volume_id: PVC }));
    const files = await poolFiles();
    t.equal(files.length, 2, 'one volume, one snapshot');
    const id = snapshotIdFromName('snap-a');
    h.sim.faults.add({ match: `^/file remove.*${id}`, drop: true, execute: false, times: 1 });
    t.not(await codeOf(c('DeleteSnapshot', { snapshot_id: id })), 'OK');
    t.equal((await poolFiles()).length, 2, 'snapshot file left behind');
    await retry(() => c('DeleteSnapshot', { snapshot_id: id }));
    t.same(await poolFiles(), [`${BASE}/${PVC}.rdscsi.img`]);
  },
);

t.test('100 CreateVolume at once (50 names x 2) against the simulator', async (t) => {
  const { c, poolFiles } = await rig(t);
  const names = Array.from({ length: 50 }, (_, i) => pvcName(i));
  const codes = await Promise.all(
    [...names, ...names].map((n) => codeOf(c('CreateVolume', createReq(n)))),
  );
  const bad = codes.filter((x) => x !== 'OK' && x !== status.ABORTED);
  t.same(bad, [], 'only OK or ABORTED');
  const files = await poolFiles();
  t.equal(files.length, 50, '50 images');
  const list = await c<{ entries: unknown[] }>('ListVolumes', {});
  t.equal(list.entries.length, 50, '50 disks');
  const again = await Promise.all(names.map((n) => codeOf(c('CreateVolume', createReq(n)))));
  t.ok(
    again.every((x) => x === 'OK'),
    'retries succeed',
  );
  t.equal((await poolFiles()).length, 50, 'no orphans, no duplicates');
});
