/**
 * The chaos soak as a figure: for each seed (RDS_SOAK_SEEDS, default 1,2,3) a run of
 * RDS_SOAK_MINUTES (default 30) minutes on real kernels, RDS_SOAK_CONCURRENT (default 1)
 * seeds at a time, each on its own pair of VMs. Rows: operations executed, faults injected,
 * invariant violations (must be 0), data verified. Runs only when named
 * (`npm run bench -- soak`): it takes the better part of an hour or more.
 */
import { figure, soakOnce } from '../soak/run';
import type { SoakResult } from '../soak/soak';
import { bedSkipReason } from '../soak/bed';
import type { BenchRow } from './types';

function rows(r: SoakResult, minutes: number): BenchRow[] {
  const s = r.stats;
  const note = `seed ${r.seed}, ${minutes} min of operations, ${(r.durationMs / 60_000).toFixed(1)} min in all`;
  return [
    { name: `soak seed ${r.seed}: operations executed`, value: s.ops, unit: 'ops', note },
    { name: `soak seed ${r.seed}: CSI calls`, value: s.rpcs, unit: 'calls' },
    {
      name: `soak seed ${r.seed}: faults injected`,
      value: s.faults,
      unit: 'faults',
      note: Object.entries(s.faultsByKind)
        .sort()
        .map(([k, n]) => `${k} ${n}`)
        .join(', '),
    },
    {
      name: `soak seed ${r.seed}: migrations`,
      value: s.migrations.success + s.migrations.failed + s.migrations.timeout,
      unit: 'count',
      note: `${s.migrations.success} completed, ${s.migrations.failed} aborted, ${s.migrations.timeout} timed out`,
    },
    { name: `soak seed ${r.seed}: data verified`, value: s.verifiedMiB, unit: 'MiB' },
    {
      name: `soak seed ${r.seed}: invariant violations`,
      value: r.violations.length,
      unit: 'count',
      ...(r.violations.length === 0
        ? {}
        : {
            note: r.violations
              .map((v) => `${v.invariant}: ${v.detail}`)
              .join(' | ')
              .slice(0, 400),
          }),
    },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const skip = bedSkipReason();
  if (skip !== null) {
    console.error(`bench soak: skipped: ${skip}`);
    return [];
  }
  const seeds = (process.env.RDS_SOAK_SEEDS ?? '1,2,3').split(',').map(Number);
  const minutes = Number(process.env.RDS_SOAK_MINUTES ?? '30');
  const concurrent = Math.max(1, Number(process.env.RDS_SOAK_CONCURRENT ?? '1'));
  const results: SoakResult[] = [];
  const queue = [...seeds];
  const worker = async (): Promise<void> => {
    for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
      const log = (l: string) => process.stderr.write(`soak ${seed}: ${l}\n`);
      const r = await soakOnce({ seed, minutes, log });
      for (const line of figure(r)) process.stderr.write(`${line}\n`);
      results.push(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrent, seeds.length) }, worker));
  results.sort((a, b) => a.seed - b.seed);
  return results.flatMap((r) => rows(r, minutes));
}
