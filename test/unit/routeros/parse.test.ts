import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  formForVersion,
  parseDetail,
  parseDisks,
  parseFiles,
  parseIdentity,
  parseJson,
  parsePool,
  parseTerse,
  parseVersion,
  tokenize,
} from '../../../src/routeros/parse';
import { parseBytes, parseDate, parseInteger } from '../../../src/routeros/parse/values';
import type { Disk } from '../../../src/routeros/ports';

const FIX = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'routeros');
const fixture = (name: string): string => readFileSync(join(FIX, name), 'utf8');

interface DatasetDisk {
  slot: string;
  filePath: string;
  fileSize: number;
  nvmeExport: boolean;
  port: number;
  nqn: string;
  allowHost: string;
}
const dataset = JSON.parse(fixture('dataset.json')) as {
  pool: { sizeBytes: number; freeBytes: number };
  disks: DatasetDisk[];
};
const expected: Disk[] = dataset.disks.map((d) => ({
  slot: d.slot,
  filePath: d.filePath,
  sizeBytes: d.fileSize,
  nvmeExport: d.nvmeExport,
  allowedHosts: d.allowHost === '' ? [] : d.allowHost.split(','),
  ...(d.nvmeExport ? { nqn: d.nqn, port: d.port } : {}),
}));

t.test('shared fixtures: every disk form gives the dataset', async (t) => {
  for (const [file, form] of [
    ['disk-print-detail.txt', 'detail'],
    ['disk-print-detail-width60.txt', 'detail'],
    ['disk-print-detail-width4096.txt', 'detail'],
    ['disk-print-terse.txt', 'terse'],
    ['disk-serialize-json.txt', 'json'],
  ] as const) {
    t.same(parseDisks(fixture(file), form), expected, file);
  }
  t.same(parseDisks(fixture('disk-print-detail-one.txt'), 'detail'), [expected[0]]);
  t.same(parseDisks(fixture('disk-serialize-json-one.txt'), 'json'), [expected[0]]);
  t.same(parseDisks(fixture('disk-print-detail-empty.txt'), 'detail'), []);
  t.same(parseDisks(fixture('disk-print-terse-empty.txt'), 'terse'), []);
  t.same(parseDisks(fixture('disk-serialize-json-empty.txt'), 'json'), []);
  t.same(parseDisks('', 'json'), []);
  t.same(parseDisks('', 'detail'), []);
});

t.test('shared fixtures: pool capacity in all forms', async (t) => {
  const want = { totalBytes: dataset.pool.sizeBytes, freeBytes: dataset.pool.freeBytes };
  t.same(parsePool(fixture('pool-print-detail.txt'), 'detail'), want);
  t.same(parsePool(fixture('pool-print-terse.txt'), 'terse'), want);
  t.same(parsePool(fixture('pool-serialize-json.txt'), 'json'), want);
  t.equal(parsePool('', 'detail'), undefined);
  t.same(parsePool(' 0 BM type=hardware size=1 000 use=25%', 'terse'), {
    totalBytes: 1000,
    freeBytes: 750,
  });
});

t.test('shared fixtures: files in all forms (directories skipped)', async (t) => {
  for (const [file, form] of [
    ['file-print-detail.txt', 'detail'],
    ['file-print-terse.txt', 'terse'],
    ['file-serialize-json.txt', 'json'],
  ] as const) {
    const files = parseFiles(fixture(file), form);
    t.equal(files.length, 6, file);
    const snap = files.find((f) => f.path.includes('snap-'));
    t.equal(
      snap?.path,
      'storage-pool/k8s/snapshots/snap-5d2c9a10-8e3f-4b6a-a1c7-2f9e8d7c6b5a.img',
      `${file}: wrapped name`,
    );
    const orphan = files.find((f) => f.path.includes('orphan-'));
    t.equal(orphan?.sizeBytes, 2 * 1024 ** 3, `${file}: size`);
    t.same(orphan?.lastModified, new Date(Date.UTC(2026, 10, 20, 7, 3, 9)), `${file}: date`);
  }
  t.same(parseFiles(fixture('file-print-detail-empty.txt'), 'detail'), []);
});

t.test('system screens: version, identity, output form', async (t) => {
  t.equal(parseVersion(fixture('system-resource-print.txt')), '7.16');
  t.equal(parseVersion(fixture('system-resource-print-7.12.txt')), '7.12.1');
  t.equal(parseIdentity(fixture('system-identity-print.txt')), 'rds-sim');
  t.equal(parseVersion('garbage'), undefined);
  t.equal(formForVersion('7.16'), 'json');
  t.equal(formForVersion('7.13'), 'json');
  t.equal(formForVersion('8.0'), 'json');
  t.equal(formForVersion('7.12.1'), 'terse');
  t.equal(formForVersion('6.49'), 'terse');
  t.equal(formForVersion(undefined), 'detail');
});

t.test('values: grouped numbers, human sizes, floats, dates', async (t) => {
  t.equal(parseBytes('53 687 091 200'), 53687091200);
  t.equal(parseBytes('50.0GiB'), 50 * 1024 ** 3);
  t.equal(parseBytes('1.5GiB'), 1.5 * 1024 ** 3);
  t.equal(parseBytes('512B'), 512);
  t.equal(parseBytes('2G'), 2 * 1024 ** 3);
  t.equal(parseBytes(53687091200.0), 53687091200);
  t.equal(parseBytes('12 parsecs'), undefined);
  t.equal(parseBytes('-1'), undefined);
  t.equal(parseBytes(undefined), undefined);
  t.equal(parseInteger('4420'), 4420);
  t.equal(parseInteger('4420.000000'), 4420);
  t.equal(parseInteger(4420), 4420);
  t.equal(parseInteger(44.5), undefined);
  t.same(parseDate('jan/02/2024 03:04:05'), new Date(Date.UTC(2024, 0, 2, 3, 4, 5)));
  t.equal(parseDate('yesterday'), undefined);
});

t.test('tokenize: quotes, escapes, hex escapes, flags, grouped values', async (t) => {
  t.same(tokenize('X t  a="q\\"uo\\\\te\\$" b=bare c=1 000 d=""'), {
    a: 'q"uo\\te$',
    b: 'bare',
    c: '1 000',
    d: '',
    '.flags': 'Xt',
  });
  t.same(tokenize('name="caf\\C3\\A9"'), { name: 'caf\u00c3\u00a9' });
});

t.test('detail: missing fields, comments, CRLF, non-file disks', async (t) => {
  const out = [
    'Flags: X - disabled',
    ' 0    ;;; a comment',
    '      type=file slot="a-1" file-path=/p/a-1.img',
    ' 1    type=hardware slot="pool" size=10',
    ' 2    type=file slot="b-2" file-path=p/b-2.img file-size=1.0KiB',
  ].join('\r\n');
  t.same(parseDisks(out, 'detail'), [
    { slot: 'a-1', filePath: 'p/a-1.img', sizeBytes: 0, nvmeExport: false, allowedHosts: [] },
    { slot: 'b-2', filePath: 'p/b-2.img', sizeBytes: 1024, nvmeExport: false, allowedHosts: [] },
  ]);
  t.equal(parseDetail(out).length, 3);
  t.equal(parseTerse(out).length, 3);
});

t.test('json: one object, broken lines, garbage', async (t) => {
  t.same(parseJson('{"slot":"a"}'), [{ slot: 'a' }]);
  t.same(parseJson('[{"slot":"ab\r\ncd"}]'), [{ slot: 'abcd' }]);
  t.same(parseJson('[{"slot":"a"},3]'), [{ slot: 'a' }]);
  t.throws(() => parseJson('[{"slot":'), { name: 'Error' });
  t.throws(() => parseJson('42'));
  t.same(
    parseDisks('[{"type":"file","slot":"a","file-path":"p/a.img","size":12.000000}]', 'json'),
    [{ slot: 'a', filePath: 'p/a.img', sizeBytes: 12, nvmeExport: false, allowedHosts: [] }],
  );
});
