/**
 * Startup to socket-ready (first successful GetPluginInfo over the unix socket) and idle
 * RSS of `rds-csi serve`, the baseline later changes are compared against.
 * `--mode node` starts the way the chart's node DaemonSet does: with the node plugin's
 * Node.js flags (src/runtime-flags.ts) and the metrics/health server listening (the
 * chart's default; here on an ephemeral loopback port). `--mode all --sim` is the
 * development mode and runs with V8's defaults.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';
import { NODE_PLUGIN_NODE_FLAGS } from '../../src/runtime-flags';
import { csiClient } from '../helpers/csi';
import type { BenchRow } from './types';
import { summarize } from './types';

interface Start {
  readonly nodeFlags: readonly string[];
  readonly args: readonly string[];
}

async function once(mode: string, start: Start): Promise<{ readyMs: number; rssMiB: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'rds-csi-bench-'));
  const sock = join(dir, 'csi.sock');
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...start.nodeFlags,
      join(packageRoot(), 'dist/src/main.js'),
      'serve',
      '--mode',
      mode,
      '--endpoint',
      `unix://${sock}`,
      ...start.args,
    ],
    { stdio: 'ignore' },
  );
  try {
    let readyMs = NaN;
    for (let i = 0; i < 2000; i++) {
      const c = csiClient(`unix://${sock}`);
      try {
        await c.identity('GetPluginInfo', {}, { deadlineMs: 200 });
        readyMs = performance.now() - started;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      } finally {
        c.close();
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { readyMs, rssMiB: rssKiB / 1024 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const nodeArgs = [
    '--node-id',
    'bench',
    '--metrics-address',
    '127.0.0.1:0',
    '--log-level',
    'info',
  ];
  const starts: [string, string, Start][] = [
    [
      `node ${NODE_PLUGIN_NODE_FLAGS.join(' ')}`,
      'node',
      { nodeFlags: NODE_PLUGIN_NODE_FLAGS, args: nodeArgs },
    ],
    // The same without the flags, to show what they pay (not how production runs).
    ['node, V8 defaults', 'node', { nodeFlags: [], args: nodeArgs }],
    [
      'all --sim',
      'all',
      { nodeFlags: [], args: ['--sim', '--metrics-address', '', '--log-level', 'error'] },
    ],
  ];
  for (const [label, mode, start] of starts) {
    const ready: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await once(mode, start);
      ready.push(r.readyMs);
      rss.push(r.rssMiB);
    }
    rows.push({
      name: `startup → socket ready (--mode ${label}), median of 5`,
      value: summarize(ready).p50,
      unit: 'ms',
    });
    rows.push({
      name: `idle RSS after 1 s (--mode ${label})`,
      value: summarize(rss).p50,
      unit: 'MiB',
    });
  }
  return rows;
}
