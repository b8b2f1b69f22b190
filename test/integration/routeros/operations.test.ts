/**
 * Every port operation against the simulator over loopback, in each output form.
 */
import t from 'tap';
import { NotFoundError } from '../../../src/domain/errors';
import type { OutputForm } from '../../../src/routeros';
import { BASE, harness, volumeSpec } from './harness';

// Small sizes: the simulator copies image data (sparse, but read in full without reflink).
const MiB = 1024 ** 2;

for (const [form, version] of [
  ['json', '7.16'],
  ['terse', '7.12'],
  ['detail', '7.16'],
] as const satisfies readonly (readonly [OutputForm, string])[]) {
  t.test(`all operations (${form} output, RouterOS ${version})`, async (t) => {
    const h = await harness(t, {
      sim: { version },
      ros: form === 'detail' ? { outputForm: 'detail', consoleOptions: false } : {},
    });
    const { ros } = h;

    const info = await ros.health.info();
    t.equal(info.version, version);
    t.equal(info.identity, 'rds-sim');
    t.equal(ros.session.outputForm, form);
    t.ok(ros.health.connected);
    await ros.health.ping();

    const cap0 = await ros.capacity.pool();
    t.ok(cap0.totalBytes > 0 && cap0.freeBytes <= cap0.totalBytes, 'pool capacity');

    // 1.5 MiB + 1 byte: sizes are sent exactly, never rounded down.
    const size = 1.5 * MiB + 1;
    const created = await ros.volumes.create({
      ...volumeSpec('pvc-a1', size),
      allowedHosts: ['nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555'],
    });
    t.equal(created.slot, 'pvc-a1');
    t.equal(created.filePath, `${BASE}/pvc-a1.img`);
    t.ok(created.sizeBytes >= size, `size ${created.sizeBytes} >= ${size}`);
    t.equal(created.nvmeExport, true);
    t.equal(created.nqn, 'nqn.2000-02.com.mikrotik:pvc-a1');
    t.equal(created.port, 4420);
    t.same(created.allowedHosts, [
      'nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555',
    ]);

    // Create again with the same spec: adopted, not an error.
    t.same(await ros.volumes.create(volumeSpec('pvc-a1', size)), created, 'idempotent create');
    await t.rejects(
      ros.volumes.create({ ...volumeSpec('pvc-a1', size), filePath: `${BASE}/other.img` }),
      { code: 'already-exists' },
    );

    t.same(await ros.volumes.get('pvc-a1'), created);
    t.equal(await ros.volumes.get('pvc-missing'), undefined);

    await ros.volumes.create(volumeSpec('pvc-b2', MiB));
    const listed = await ros.volumes.list('pvc-');
    t.same(listed.map((d) => d.slot).sort(), ['pvc-a1', 'pvc-b2']);
    t.same(await ros.volumes.list('snap-'), []);
    t.equal((await ros.volumes.list('')).length, 2, 'empty prefix: all file disks, no pool');

    const grown = await ros.volumes.resize('pvc-b2', 3 * MiB);
    t.ok(grown.sizeBytes >= 3 * MiB);
    t.same(await ros.volumes.resize('pvc-b2', MiB), grown, 'never shrinks');
    await t.rejects(ros.volumes.resize('pvc-missing', MiB), NotFoundError);

    await ros.exports.setAllowedHosts('pvc-b2', [
      'nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-2222-3333-4444-555555555555',
      'nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-2222-3333-4444-555555555555',
    ]);
    t.equal((await ros.volumes.get('pvc-b2'))?.allowedHosts.length, 2);
    await ros.exports.setAllowedHosts('pvc-b2', []);
    t.same((await ros.volumes.get('pvc-b2'))?.allowedHosts, []);
    await t.rejects(ros.exports.setAllowedHosts('pvc-missing', []), NotFoundError);

    const snap = await ros.volumes.copy({
      sourceSlot: 'pvc-b2',
      slot: 'snap-s1',
      filePath: `${BASE}/snapshots/snap-s1.img`,
    });
    t.equal(snap.nvmeExport, false, 'snapshot is not exported');
    t.equal(snap.sizeBytes, grown.sizeBytes);
    const clone = await ros.volumes.copy({
      sourceSlot: 'snap-s1',
      slot: 'pvc-c3',
      filePath: `${BASE}/pvc-c3.img`,
      sizeBytes: 4 * MiB,
      export: { nqn: 'nqn.2000-02.com.mikrotik:pvc-c3', port: 4421 },
    });
    t.equal(clone.nvmeExport, true);
    t.equal(clone.port, 4421);
    t.ok(clone.sizeBytes >= 4 * MiB);
    await t.rejects(
      ros.volumes.copy({ sourceSlot: 'pvc-nope', slot: 'pvc-d4', filePath: `${BASE}/pvc-d4.img` }),
      NotFoundError,
    );

    const files = await ros.files.list(BASE);
    t.ok(
      files.some((f) => f.path === `${BASE}/pvc-a1.img`),
      'image listed',
    );
    t.ok(
      files.some((f) => f.path === `${BASE}/snapshots/snap-s1.img`),
      'nested image listed',
    );
    t.ok(files.every((f) => f.path.startsWith(`${BASE}/`)));

    await ros.volumes.delete('pvc-a1', `${BASE}/pvc-a1.img`);
    t.equal(await ros.volumes.get('pvc-a1'), undefined);
    const after = await ros.files.list(BASE);
    t.notOk(
      after.some((f) => f.path === `${BASE}/pvc-a1.img`),
      'image removed with the disk',
    );
    await ros.volumes.delete('pvc-a1', `${BASE}/pvc-a1.img`); // idempotent
    await ros.files.remove(`${BASE}/pvc-a1.img`); // idempotent

    const cap1 = await ros.capacity.pool();
    t.ok(cap1.totalBytes === cap0.totalBytes);
  });
}

t.test('RSA keys work too', async (t) => {
  const h = await harness(t, { keyType: 'rsa' });
  await h.ros.health.ping();
  t.ok(h.ros.health.connected);
});

t.test('console options are appended to the user name unless disabled', async (t) => {
  const h = await harness(t);
  await h.ros.health.ping();
  const other = h.connect({ consoleOptions: false });
  await other.health.ping();
  // The simulator logs the base user; width shows in detail wrapping, checked elsewhere.
  t.ok(h.sim.commandLog.every((e) => e.user === 'admin'));
});
