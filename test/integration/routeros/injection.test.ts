/**
 * Hostile identifiers and values are rejected with INVALID_ARGUMENT before anything is
 * sent: asserted on the simulator's command log.
 */
import t from 'tap';
import { InvalidArgumentError } from '../../../src/domain/errors';
import { BASE, harness, volumeSpec } from './harness';

const HOSTILE = [
  'pvc-a;b',
  'pvc-a"b',
  "pvc-a'b",
  'pvc-[x]',
  'pvc-$x',
  'pvc-a\\b',
  'pvc-a\nb',
  'pvc-a\r/system reboot',
  'pvc-\u00e9t\u00e9',
  'pvc-\u{1f4a5}',
  'pvc-' + 'a'.repeat(2048),
  '../pvc-a',
  'pvc-a b',
  'PVC-A',
  '',
  '-pvc',
  '1pvc',
];

const BAD_PATHS = [
  `${BASE}/../x.img`,
  `${BASE}/../../etc/passwd.img`,
  `${BASE}/a;b.img`,
  `${BASE}/a"b.img`,
  `${BASE}/a'b.img`,
  `${BASE}/[find].img`,
  `${BASE}/$x.img`,
  `${BASE}/a\\b.img`,
  `${BASE}/a.img\n/system reboot`,
  `${BASE}/a b.img`,
  `${BASE}/\u00e9.img`,
  `${BASE}/${'a'.repeat(2048)}.img`,
  `${BASE}/./a.img`,
  `${BASE}//a.img`,
  `${BASE}/a.txt`,
  `${BASE}/.img`,
  `${BASE}k8s/a.img`,
  'storage-pool/a.img',
  '/etc/passwd',
  '',
];

const BAD_NQNS = [
  'nqn.2000-02.com.mikrotik:pvc";/system reboot',
  'nqn.2000-02.com.mikrotik:' + 'a'.repeat(300),
  'nqn.2000-02.com.mikrotik:PVC-A',
  'nqn.2000-02.com.mikrotik:a b',
  'nqn.2000-02.com.mikrotik:$x',
  'nqn.2000-02.com.mikrotik:a\nb',
  'nqn.2000-02.com.mikrotik:\u00e9',
  'iqn.2000-02.com.mikrotik:a',
  '',
];

const BAD_HOSTS = [
  'nqn.2014-08.org.nvmexpress:uuid:a,b',
  'nqn.2014-08.org.nvmexpress:uuid:a;b',
  'nqn.2014-08.org.nvmexpress:uuid:"x"',
  'nqn.2014-08.org.nvmexpress:uuid:' + 'a'.repeat(2048),
  'host\nnqn',
  '',
];

const BAD_SIZES = [0, -1, 1.5, NaN, Infinity, 2 ** 60, '10' as unknown as number];
const BAD_PORTS = [0, -1, 65536, 4420.5, NaN];

t.test('hostile input never reaches the device', async (t) => {
  const h = await harness(t, { ros: { livenessIntervalMs: 0 } });
  await h.ros.health.ping();
  h.mark();
  const { volumes, files, exports } = h.ros;
  const calls: Array<[string, () => Promise<unknown>]> = [];
  for (const s of HOSTILE) {
    const what = JSON.stringify(s.slice(0, 30));
    calls.push([`create slot ${what}`, () => volumes.create(volumeSpec(s))]);
    calls.push([`get ${what}`, () => volumes.get(s)]);
    calls.push([`resize ${what}`, () => volumes.resize(s, 1024)]);
    calls.push([`delete ${what}`, () => volumes.delete(s, `${BASE}/x.img`)]);
    calls.push([`allow ${what}`, () => exports.setAllowedHosts(s, [])]);
    calls.push([
      `copy from ${what}`,
      () => volumes.copy({ sourceSlot: s, slot: 'snap-a', filePath: `${BASE}/snap-a.img` }),
    ]);
    calls.push([
      `copy to ${what}`,
      () => volumes.copy({ sourceSlot: 'pvc-a', slot: s, filePath: `${BASE}/snap-a.img` }),
    ]);
    if (s !== '' && s !== '1pvc' && s !== '-pvc') {
      calls.push([`list ${what}`, () => volumes.list(s)]);
    }
  }
  for (const p of BAD_PATHS) {
    const what = JSON.stringify(p.slice(0, 40));
    calls.push([
      `create path ${what}`,
      () => volumes.create({ ...volumeSpec('pvc-a'), filePath: p }),
    ]);
    calls.push([`delete path ${what}`, () => volumes.delete('pvc-a', p)]);
    calls.push([
      `copy path ${what}`,
      () => volumes.copy({ sourceSlot: 'pvc-a', slot: 'snap-a', filePath: p }),
    ]);
    if (!p.endsWith('.txt')) calls.push([`file remove ${what}`, () => files.remove(p)]);
  }
  for (const d of ['storage-pool', '/', `${BASE}/..`, `${BASE}/../x`, `${BASE}/a;b`, '']) {
    calls.push([`file list ${JSON.stringify(d)}`, () => files.list(d)]);
  }
  for (const n of BAD_NQNS) {
    const what = JSON.stringify(n.slice(0, 40));
    calls.push([`create nqn ${what}`, () => volumes.create({ ...volumeSpec('pvc-a'), nqn: n })]);
    calls.push([
      `copy nqn ${what}`,
      () =>
        volumes.copy({
          sourceSlot: 'pvc-a',
          slot: 'pvc-b',
          filePath: `${BASE}/pvc-b.img`,
          export: { nqn: n, port: 4420 },
        }),
    ]);
  }
  for (const hn of BAD_HOSTS) {
    const what = JSON.stringify(hn.slice(0, 40));
    calls.push([`allow host ${what}`, () => exports.setAllowedHosts('pvc-a', [hn])]);
    calls.push([
      `create host ${what}`,
      () => volumes.create({ ...volumeSpec('pvc-a'), allowedHosts: [hn] }),
    ]);
  }
  for (const size of BAD_SIZES) {
    calls.push([`create size ${size}`, () => volumes.create(volumeSpec('pvc-a', size))]);
    calls.push([`resize size ${size}`, () => volumes.resize('pvc-a', size)]);
    calls.push([
      `copy size ${size}`,
      () =>
        volumes.copy({
          sourceSlot: 'pvc-a',
          slot: 'pvc-b',
          filePath: `${BASE}/pvc-b.img`,
          sizeBytes: size,
        }),
    ]);
  }
  for (const port of BAD_PORTS) {
    calls.push([`create port ${port}`, () => volumes.create({ ...volumeSpec('pvc-a'), port })]);
  }
  calls.push([
    'too many hosts',
    () =>
      exports.setAllowedHosts(
        'pvc-a',
        Array.from({ length: 65 }, (_, i) => `nqn.2014-08.org.nvmexpress:uuid:${i}`),
      ),
  ]);

  for (const [name, call] of calls) {
    await t.rejects(call(), InvalidArgumentError, name);
  }
  t.same(h.commandsSinceMark(), [], `none of ${calls.length} hostile calls sent a command`);
});
