/**
 * Startup to socket-ready (first successful GetPluginInfo over the unix socket) and idle
 * RSS of `rds-csi serve`, the baseline later changes are compared against.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';
import { csiClient } from '../helpers/csi';
import type { BenchRow } from './types';
import { summarize } from './types';

async function once(mode: string, extra: string[]): Promise<{ readyMs: number; rssMiB: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'rds-csi-bench-'));
  const sock = join(dir, 'csi.sock');
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      join(packageRoot(), 'dist/src/main.js'),
      'serve',
      '--mode',
      mode,
      '--endpoint',
      `unix://${sock}`,
      '--metrics-address',
      '',
      '--log-level',
      'error',
      ...extra,
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
  for (const [mode, extra] of [
    ['node', ['--node-id', 'bench']],
    ['all', ['--sim']],
  ] as const) {
    const ready: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await once(mode, [...extra]);
      ready.push(r.readyMs);
      rss.push(r.rssMiB);
    }
    rows.push({
      name: `startup → socket ready (--mode ${mode}${mode === 'all' ? ' --sim' : ''}), median of 5`,
      value: summarize(ready).p50,
      unit: 'ms',
    });
    rows.push({
      name: `idle RSS after 1 s (--mode ${mode})`,
      value: summarize(rss).p50,
      unit: 'MiB',
    });
  }
  return rows;
}
