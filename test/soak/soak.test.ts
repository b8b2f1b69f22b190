// The chaos soak's short fixed-seed run (the long runs are `npm run soak` and
// `npm run bench -- soak`): two kernels, rds-sim on the kernel NVMe target, the controller on
// the host, a seeded mix of operations and faults, every invariant checked.
import t from 'tap';
import { leftoverVmPids } from '../vm/runner';
import { bedSkipReason } from './bed';
import { describe } from './model';
import { figure, soakOnce } from './run';
import { focus } from './shrink';

// Seed 9 draws ten of the eleven fault kinds within its first 70 operations.
const SEED = Number(process.env.RDS_SOAK_SEED ?? '9');
const MINUTES = Number(process.env.RDS_SOAK_MINUTES ?? '2');

t.setTimeout(15 * 60_000);
const skip = bedSkipReason();
if (skip !== null) console.log(`# soak skipped: ${skip}`);

t.test(
  `chaos soak: seed ${SEED}, ${MINUTES} minutes of operations`,
  { skip: skip ?? false },
  async (t) => {
    const lines: string[] = [];
    const result = await soakOnce({
      seed: SEED,
      minutes: MINUTES,
      // Faults twice as often as the long runs: a short run must still meet many of them.
      gen: { faultWeight: 2 },
      log: (l) => lines.push(l),
    });
    for (const line of figure(result)) t.comment(line);
    if (!t.same(result.violations, [], 'no invariant violated')) {
      t.comment(`replay: npm run soak -- --seed ${SEED} --minutes ${MINUTES}`);
      const at = result.failedAt ?? result.ops.length - 1;
      for (const op of focus(result.ops, at)) t.comment(`  ${describe(op)}`);
      t.comment(lines.slice(-200).join('\n'));
    }
    const s = result.stats;
    t.ok(s.ops >= 20, `operations executed: ${s.ops}`);
    t.ok(s.faults >= 4, `faults injected: ${s.faults}`);
    t.ok(s.writes > 0 && s.verifiedMiB > 0, `writes ${s.writes}, verified ${s.verifiedMiB} MiB`);
    t.same(leftoverVmPids(), [], 'no QEMU process left behind');
  },
);
