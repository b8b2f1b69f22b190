/**
 * Benchmarks that need a real kernel: runs a guest bench file in a fresh test VM (one VM with
 * the rds and node roles) and returns the rows it printed as `@@BENCH {json}` lines, plus the
 * VM's boot time. Returns [] with a printed reason when VMs cannot run here.
 * RDS_VM_BENCH_FILE overrides the guest file (path relative to the project root);
 * RDS_NODE_BENCH_ROUNDS, when set, is passed to the guest (node-bench's rounds per method);
 * RDS_BENCH_VERBOSE=1 copies the guest's whole output (its tables and comments) to stderr;
 * RDS_BENCH_NODE_FLAGS adds Node.js flags to the guest's (e.g. --trace-gc).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BenchRow } from './types';
import { NODE_PLUGIN_NODE_FLAGS } from '../../src/runtime-flags';
import { projectRoot } from '../vm/host-tools';
import { buildRawConnect } from './native/build-raw-connect';
import { ensureImage } from '../vm/image';
import { parseBenchRows } from '../vm/protocol';
import { vmSuiteSkipReason } from '../vm/suite-util';
import { SINGLE, startTopology } from '../vm/topology';

export const DEFAULT_GUEST_BENCH = 'dist/test/vm/guest/nvme-bench.guest.js';

export const NODE_GUEST_BENCH = 'dist/test/vm/guest/node-bench.guest.js';

/** Attach/detach as the node plugin does them: with the plugin's Node.js flags. */
export function run(): Promise<BenchRow[]> {
  return runGuestBench(
    process.env.RDS_VM_BENCH_FILE ?? DEFAULT_GUEST_BENCH,
    NODE_PLUGIN_NODE_FLAGS,
  );
}

/**
 * NodeStage/NodeUnstage broken down, against the same steps done by an nvme-cli script. The
 * guest runs the use-cases with the node plugin's Node.js flags, as the DaemonSet does.
 */
export const node = {
  // --expose-gc only lets the guest collect between rounds (see collect() there).
  run: (): Promise<BenchRow[]> =>
    runGuestBench(NODE_GUEST_BENCH, [...NODE_PLUGIN_NODE_FLAGS, '--expose-gc']),
};

export async function runGuestBench(
  relativeFile: string,
  nodeFlags: readonly string[] = [],
): Promise<BenchRow[]> {
  const file = path.resolve(projectRoot(), relativeFile);
  const reason =
    vmSuiteSkipReason() ?? (fs.existsSync(file) ? null : `no guest bench file ${file}`);
  if (reason !== null) {
    process.stderr.write(`bench vm: skipped: ${reason}\n`);
    return [];
  }
  if (relativeFile === DEFAULT_GUEST_BENCH) {
    // The raw C floor the addon is compared with; compiled on the host, run in the guest.
    try {
      buildRawConnect();
    } catch (err) {
      process.stderr.write(`bench vm: raw C floor not built: ${(err as Error).message}\n`);
    }
  }
  const image = await ensureImage({ log: (l) => process.stderr.write(`bench vm: ${l}\n`) });
  const topo = await startTopology(SINGLE, { image });
  try {
    const { vm } = topo.rds;
    const env: Record<string, string> = {};
    for (const k of ['RDS_NODE_BENCH_ROUNDS', 'RDS_BENCH_VERBOSE']) {
      const v = process.env[k];
      if (v) env[k] = v;
    }
    const extra = (process.env.RDS_BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
    const res = await vm.runNode(file, [], { timeoutMs: 20 * 60_000, env }, [
      ...nodeFlags,
      ...extra,
    ]);
    if (process.env.RDS_BENCH_VERBOSE) process.stderr.write(res.output);
    if (res.exitCode !== 0) {
      throw new Error(`${path.basename(file)} exited ${res.exitCode}: ${res.output.slice(-2000)}`);
    }
    return [
      {
        name: 'vm boot (to init ready)',
        value: vm.bootMs,
        unit: 'ms',
        note: [vm.accel, ...nodeFlags].join(' '),
      },
      ...parseBenchRows(res.output),
    ];
  } finally {
    await topo.stop();
  }
}
