/**
 * `npm run bench`: runs every benchmark module and prints one table. Comparisons are
 * measured side by side in the same run and printed as ratios; nothing here asserts a
 * wall-clock target (that is for people reading the table, not for CI).
 */
import type { BenchRow } from './types';
import * as startup from './startup';
import * as routeros from './routeros';
import * as controller from './controller';
import * as vm from './vm';
import * as scrape from './scrape';
import * as image from './image';
import * as soak from './soak';

/** Suites in order; `npm run bench -- <name>...` runs only the named ones. */
const SUITES: Record<string, { run(): Promise<BenchRow[]> }> = {
  startup,
  routeros,
  controller,
  scrape,
  vm,
  'vm-node': vm.node,
  image,
  soak,
};

/** Suites that run only when named: the soak takes the better part of an hour. */
const ONLY_WHEN_NAMED = new Set(['soak']);

function format(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const rows: (BenchRow & { suite: string })[] = [];
  for (const [suite, mod] of Object.entries(SUITES)) {
    if (only.length ? !only.includes(suite) : ONLY_WHEN_NAMED.has(suite)) continue;
    process.stderr.write(`bench: ${suite}...\n`);
    try {
      for (const r of await mod.run()) rows.push({ ...r, suite });
    } catch (err) {
      rows.push({ suite, name: 'FAILED', value: NaN, unit: '', note: (err as Error).message });
    }
  }
  const w = Math.max(...rows.map((r) => r.name.length), 10);
  console.log(`${'suite'.padEnd(12)} ${'benchmark'.padEnd(w)} ${'value'.padStart(12)} unit   note`);
  for (const r of rows) {
    console.log(
      `${r.suite.padEnd(12)} ${r.name.padEnd(w)} ${format(r.value).padStart(12)} ${r.unit.padEnd(6)} ${r.note ?? ''}`,
    );
  }
}

void main();
