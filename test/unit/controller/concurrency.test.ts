import t from 'tap';
import { FakeRds } from '../../fakes/routeros';
import { codeOf, status } from '../../helpers/csi';
import { createReq, pvcName, startController } from './harness';

t.test(
  '100 CreateVolume at once (50 names x 2): 50 volumes, only ABORTED for duplicates in flight',
  async (t) => {
    const rds = new FakeRds({ latencyMs: 5 });
    const { c } = await startController(t, rds);
    const names = Array.from({ length: 50 }, (_, i) => pvcName(i));
    const codes = await Promise.all(
      [...names, ...names].map((n) => codeOf(c('CreateVolume', createReq(n)))),
    );
    const counts = new Map<string | number, number>();
    for (const code of codes) counts.set(code, (counts.get(code) ?? 0) + 1);
    t.ok(
      [...counts.keys()].every((k) => k === 'OK' || k === status.ABORTED),
      `codes: ${JSON.stringify([...counts])}`,
    );
    t.ok((counts.get('OK') ?? 0) >= 50, 'every name created at least once');
    t.equal(rds.disks.size, 50);
    t.same(rds.orphanFiles(), []);
    // The retries the CO would make afterwards all succeed.
    const again = await Promise.all(names.map((n) => codeOf(c('CreateVolume', createReq(n)))));
    t.ok(again.every((x) => x === 'OK'));
    t.equal(rds.disks.size, 50);
  },
);

t.test('Create and Delete of one volume serialize on the derived id', async (t) => {
  const rds = new FakeRds({ latencyMs: 20 });
  const { c } = await startController(t, rds);
  const name = 'not-a-pvc-name';
  const created = c<{ volume: { volume_id: string } }>('CreateVolume', createReq(name));
  await new Promise((r) => setTimeout(r, 5));
  const { volumeIdFromName } = await import('../../../src/domain/ids');
  const del = codeOf(c('DeleteVolume', { volume_id: volumeIdFromName(name) }));
  t.equal(await del, status.ABORTED);
  t.equal((await created).volume.volume_id, volumeIdFromName(name));
});
