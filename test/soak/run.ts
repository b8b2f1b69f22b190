// `npm run soak -- --seed N --minutes M`: a chaos soak on real kernels (two node VMs, rds-sim
// on the kernel NVMe target, the controller on the host). Prints the figure; on a violation
// prints the seed and a minimal history and writes the replayable history to .cache/soak/.
//   --replay FILE      run exactly the operations in FILE (a history this command wrote)
//   --shrink           after a failure, minimise the history by replaying (reboots the VMs
//                      per attempt; bounded by --shrink-minutes, default 30)
//   --parallel N       operations in flight at once (default 3)
//   --no-faults        operations only
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../vm/host-tools';
import { bedSkipReason, startBed } from './bed';
import { describe, type Op } from './model';
import { ddmin, focus } from './shrink';
import { runSoak, type SoakOptions, type SoakResult } from './soak';

/** The controller flags of every soak run: short timers, so a run sees many of them fire. */
export const SOAK_CONTROLLER_ARGS = [
  '--attach-grace-period=5s',
  '--rds-command-timeout=15s',
  '--reconcile-interval=30s',
];

export interface CliOptions {
  seed: number;
  minutes: number;
  replay?: string;
  shrink: boolean;
  shrinkMinutes: number;
  parallel: number;
  faults: boolean;
}

export function parseArgs(argv: readonly string[]): CliOptions {
  const o: CliOptions = {
    seed: 1,
    minutes: 5,
    shrink: false,
    shrinkMinutes: 30,
    parallel: 3,
    faults: true,
  };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k] as string;
    const [flag, inline] = a.includes('=')
      ? (a.split(/=(.*)/s, 2) as [string, string])
      : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++k];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const num = (): number => {
      const v = value();
      if (!/^\d+(\.\d+)?$/.test(v)) throw new Error(`${flag} needs a number, got ${v}`);
      return Number(v);
    };
    switch (flag) {
      case '--seed':
        o.seed = num();
        break;
      case '--minutes':
        o.minutes = num();
        break;
      case '--replay':
        o.replay = value();
        break;
      case '--shrink':
        o.shrink = true;
        break;
      case '--shrink-minutes':
        o.shrinkMinutes = num();
        break;
      case '--parallel':
        o.parallel = Math.max(1, Math.floor(num()));
        break;
      case '--no-faults':
        o.faults = false;
        break;
      default:
        throw new Error(`unknown argument ${a}`);
    }
  }
  return o;
}

/** The figure of one run, one line per quantity. */
export function figure(r: SoakResult): string[] {
  const s = r.stats;
  const kinds = Object.entries(s.faultsByKind)
    .sort()
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return [
    `seed ${r.seed}: ${(r.durationMs / 60_000).toFixed(1)} min`,
    `  operations executed  ${s.ops} (${s.rpcs} CSI calls, ${s.retries} retried)`,
    `  faults injected      ${s.faults}${kinds === '' ? '' : ` (${kinds})`}`,
    `  migrations           ${s.migrations.success} completed, ${s.migrations.failed} aborted, ${s.migrations.timeout} timed out`,
    `  data written         ${s.writes} acknowledged writes`,
    `  data verified        ${s.verifiedMiB} MiB`,
    `  invariant violations ${r.violations.length}`,
  ];
}

/** Boots a bed, runs, and always powers the bed off; a failing run prints the logs' tails. */
export async function soakOnce(opts: SoakOptions): Promise<SoakResult> {
  const bed = await startBed({ log: opts.log, controllerArgs: SOAK_CONTROLLER_ARGS });
  try {
    const result = await runSoak(bed, opts);
    if (result.violations.length > 0) opts.log(`logs:\n${await bed.logTails(80)}`);
    return result;
  } finally {
    await bed.stop();
  }
}

function printHistory(title: string, ops: readonly Op[]): void {
  console.log(`${title} (${ops.length} operations):`);
  ops.forEach((op, i) => console.log(`  ${String(i).padStart(4)} ${describe(op)}`));
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const skip = bedSkipReason();
  if (skip !== null) {
    console.error(`soak: cannot run: ${skip}`);
    return 2;
  }
  const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
  const replay =
    o.replay === undefined
      ? undefined
      : (JSON.parse(fs.readFileSync(o.replay, 'utf8')) as { ops: Op[] }).ops;
  const base: Omit<SoakOptions, 'log'> = {
    seed: o.seed,
    minutes: o.minutes,
    parallel: o.parallel,
    gen: { faultWeight: o.faults ? 1 : 0 },
    ...(replay === undefined ? {} : { replay }),
  };
  const result = await soakOnce({ ...base, log });
  const out = path.join(projectRoot(), '.cache', 'soak');
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(
    out,
    `seed-${o.seed}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  );
  fs.writeFileSync(file, JSON.stringify({ minutes: o.minutes, ...result }, null, 1));
  for (const line of figure(result)) console.log(line);
  if (result.violations.length === 0) return 0;

  console.log(`\nFAILED: seed ${o.seed}; history written to ${file}`);
  for (const v of result.violations.slice(0, 20)) {
    console.log(`  ${v.invariant}: ${v.detail}${v.op === undefined ? '' : ` (operation ${v.op})`}`);
  }
  const at = result.failedAt ?? result.ops.length - 1;
  let minimal = focus(result.ops, at);
  if (o.shrink) {
    const invariant = result.violations[0]?.invariant ?? '';
    minimal = await ddmin(
      minimal,
      async (candidate) => {
        const r = await soakOnce({ ...base, replay: candidate, log: () => undefined });
        return r.violations.some((v) => v.invariant === invariant);
      },
      o.shrinkMinutes * 60_000,
      log,
    );
  }
  const minFile = file.replace(/\.json$/, '.min.json');
  fs.writeFileSync(minFile, JSON.stringify({ seed: o.seed, ops: minimal }, null, 1));
  printHistory(
    o.shrink ? 'minimal history (shrunk by replay)' : 'history of the failing volume',
    minimal,
  );
  console.log(`replay: npm run soak -- --seed ${o.seed} --replay ${minFile}`);
  return 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(2);
    },
  );
}
