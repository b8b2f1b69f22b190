import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import {
  formatRate,
  formatSize,
  formatUptime,
  groupDigits,
  quote,
  quoteIfNeeded,
} from '../../../src/sim/format';
import { DISK_MENU, diskItems } from '../../../src/sim/model';
import { jsonValue, renderDetail, renderKeyValues, wrapTokens } from '../../../src/sim/render';
import { DISKS, expectedFixtures, FIXTURE_DIR, POOL } from './fixture-data';

const write = process.env.RDS_SIM_WRITE_FIXTURES === '1';

t.test('renderers reproduce every fixture byte for byte', async (t) => {
  for (const [file, lines] of Object.entries(expectedFixtures())) {
    const text = lines.length ? lines.join('\n') + '\n' : '';
    if (write) writeFileSync(path.join(FIXTURE_DIR, file), text);
    t.equal(readFileSync(path.join(FIXTURE_DIR, file), 'utf8'), text, file);
  }
});

t.test('dataset.json matches the state the fixtures show', async (t) => {
  const data = JSON.parse(readFileSync(path.join(FIXTURE_DIR, 'dataset.json'), 'utf8'));
  t.equal(data.pool.sizeBytes, POOL.sizeBytes);
  t.equal(data.pool.usedBytes, POOL.usedBytes);
  t.equal(data.pool.freeBytes, POOL.sizeBytes - POOL.usedBytes);
  t.same(
    data.disks.map((d: { slot: string; fileSize: number }) => [d.slot, d.fileSize]),
    DISKS.map((d) => [d.slot, d.fileSize]),
  );
});

t.test('value formats', async (t) => {
  t.equal(groupDigits(0), '0');
  t.equal(groupDigits(999), '999');
  t.equal(groupDigits(1000), '1 000');
  t.equal(groupDigits(53687091200), '53 687 091 200');
  t.equal(groupDigits(-1234), '-1 234');
  t.equal(formatSize(512), '512B');
  t.equal(formatSize(1024), '1.0KiB');
  t.equal(formatSize(1.5 * 1024 ** 3), '1.5GiB');
  t.equal(formatSize(50 * 1024 ** 3), '50.0GiB');
  t.equal(formatSize(1024 ** 3 - 1), '1023.9MiB', 'never rounds up to the next unit');
  t.equal(formatSize(2 * 1024 ** 4), '2.0TiB');
  t.equal(formatRate(0), '0bps');
  t.equal(formatRate(12845056), '12.8Mbps');
  t.equal(formatRate(2.5e9), '2.5Gbps');
  t.equal(formatUptime(0), '0s');
  t.equal(formatUptime(3 * 86400 + 4 * 3600 + 12 * 60 + 7), '3d4h12m7s');
  t.equal(formatUptime(8 * 86400), '1w1d');
  t.equal(quote('a"b\\c$d?e'), '"a\\"b\\\\c\\$d\\?e"');
  t.equal(quote('tab\there'), '"tab\\09here"');
  t.equal(quote('é'), '"\\C3\\A9"');
  t.equal(quoteIfNeeded('storage-pool/k8s/x.img'), 'storage-pool/k8s/x.img');
  t.equal(quoteIfNeeded('has space'), '"has space"');
  t.equal(
    jsonValue({ kind: 'str', v: '443' }),
    '443.000000',
    'numeric-looking strings become floats',
  );
  t.equal(jsonValue({ kind: 'str', v: 'pvc-1' }), '"pvc-1"');
  t.equal(jsonValue({ kind: 'bool', v: false }), 'false');
  t.same(
    renderKeyValues([
      ['a', '1'],
      ['long-key', '2'],
    ]),
    ['         a: 1', '  long-key: 2'],
  );
});

t.test('wrapping keeps every line within the width and loses nothing', async (t) => {
  const items = diskItems(POOL, DISKS);
  for (const width of [40, 41, 60, 79, 80, 81, 120, 4096]) {
    const lines = renderDetail(items, DISK_MENU, width);
    for (const l of lines) t.ok(l.length <= width, `width ${width}: ${l.length} <= ${width}`);
    t.notOk(
      lines.some((l) => l.endsWith(' ')),
      'no trailing spaces',
    );
    t.same(unwrap(lines), unwrap(renderDetail(items, DISK_MENU, 100000)), `width ${width} unwraps`);
  }
});

/**
 * The rule parsers use to undo wrapping: an entry starts with its index; a continuation line
 * that starts with `key=` (outside an open quote) is a new property, anything else carries on
 * the previous value without a space.
 */
function unwrap(lines: readonly string[]): string[] {
  const entries: string[] = [];
  for (const l of lines) {
    if (l.startsWith('Flags:') || !/^ /.test(l)) continue;
    if (/^ *\d+ /.test(l) && !/^ {6}/.test(l)) {
      entries.push(l);
      continue;
    }
    const last = entries.pop()!;
    const body = l.trimStart();
    const quotes = (last.replace(/\\./g, '').match(/"/g) ?? []).length;
    const newProp = quotes % 2 === 0 && /^[a-z][a-z0-9-]*=/.test(body);
    entries.push(newProp ? `${last} ${body}` : last + body);
  }
  return entries;
}

t.test('wrapTokens cuts a token longer than a line', async (t) => {
  t.same(wrapTokens(' 0 ', ['abcdefghij'], 7), [' 0 abcd', '   efgh', '   ij']);
  t.same(wrapTokens(' 0 ', ['ab', 'cd', 'ef'], 8), [' 0 ab cd', '   ef']);
  t.same(wrapTokens(' 0 ', [], 80), [' 0']);
});
