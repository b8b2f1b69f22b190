/**
 * Property tests: parse(render(x)) = x for generated disks, in every output form, at many
 * widths, with every field wrapped at every position, and for 1 to 10,000 disks.
 */
import t from 'tap';
import { parseDisks } from '../../../src/routeros/parse';
import type { Disk } from '../../../src/routeros/ports';
import {
  FLAGS_HEADER,
  detailTokens,
  genDisk,
  renderDetail,
  renderDetailEntry,
  renderJson,
  renderTerse,
  rng,
} from './render';

function disks(seed: number, n: number): Disk[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => genDisk(r));
}

t.test('round trip in all three forms, 1 to 10,000 disks', async (t) => {
  for (const n of [1, 2, 7, 100, 10_000]) {
    const ds = disks(n, n);
    t.same(parseDisks(renderDetail(ds, 80), 'detail'), ds, `detail n=${n}`);
    t.same(parseDisks(renderTerse(ds), 'terse'), ds, `terse n=${n}`);
    t.same(parseDisks(renderJson(ds), 'json'), ds, `json n=${n}`);
  }
});

t.test('round trip at widths 20 to 200 (values longer than a line are cut)', async (t) => {
  const ds = disks(42, 5);
  for (let width = 20; width <= 200; width += 7) {
    const out = renderDetail(ds, width);
    const got = parseDisks(out, 'detail');
    if (!t.same(got, ds, `width ${width}`)) {
      t.comment(out);
      break;
    }
  }
});

t.test('every field wrapped at every position', async (t) => {
  const r = rng(7);
  // An exported disk with allowed hosts, and a plain one, cover every field.
  let exported = genDisk(r);
  while (!exported.nvmeExport || exported.allowedHosts.length === 0) exported = genDisk(r);
  let plain = genDisk(r);
  while (plain.nvmeExport) plain = genDisk(r);
  let checked = 0;
  for (const d of [exported, plain]) {
    const tokens = detailTokens(d);
    for (let token = 0; token < tokens.length; token++) {
      const len = tokens[token]?.length ?? 0;
      // The first property shares the index line and is short: RouterOS never splits its
      // key there, so only positions inside its value are exercised.
      const from = token === 0 ? 'type='.length : 1;
      for (let at = from; at < len; at++) {
        for (const width of [60, 4096]) {
          const lines = [FLAGS_HEADER, ...renderDetailEntry(d, 3, width, { token, at })];
          // A neighbour entry before and after makes sure entry boundaries hold too.
          const out = [
            ...lines.slice(0, 1),
            ...renderDetailEntry(plain, 2, 80),
            ...lines.slice(1),
            ...renderDetailEntry(exported, 4, 80),
          ].join('\n');
          const got = parseDisks(out, 'detail');
          checked++;
          if (!t.same(got, [plain, d, exported], `token ${token} at ${at} width ${width}`)) {
            t.comment(out);
            return;
          }
        }
      }
    }
  }
  t.ok(checked > 500, `checked ${checked} wrapped variants`);
});

t.test('parsing 10,000 disks stays fast enough for a list call (coarse bound)', async (t) => {
  const ds = disks(99, 10_000);
  const out = renderDetail(ds, 80);
  const start = process.hrtime.bigint();
  const got = parseDisks(out, 'detail');
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  t.equal(got.length, 10_000);
  // Generous: guards against quadratic blow-ups, not against a slow CI machine.
  t.ok(ms < 20_000, `parsed in ${ms.toFixed(0)} ms`);
});
