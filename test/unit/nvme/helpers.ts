import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { CancelledError } from '../../../src/domain/errors';
import type { NvmeMetrics } from '../../../src/nvme/context';
import type { AttachTarget } from '../../../src/nvme/ports';
import type { Clock } from '../../../src/nvme/wait';
import { createMetrics } from '../../../src/observability/metrics';
import { DEFAULT_HOSTID, DEFAULT_HOSTNQN } from '../../fakes/sysfs';

export const NQN = 'nqn.2000-02.com.mikrotik:pvc-a';
export const target: AttachTarget = {
  nqn: NQN,
  traddr: '127.0.0.1',
  trsvcid: 4420,
  hostnqn: DEFAULT_HOSTNQN,
  hostid: DEFAULT_HOSTID,
};

/** A clock whose sleeps return at once and advance time; records every delay. */
export class FakeClock implements Clock {
  t = 1000;
  readonly sleeps: number[] = [];
  /** Called on each sleep (e.g. to abort a controller mid-wait). */
  onSleep: ((n: number) => void) | undefined;

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
    this.onSleep?.(this.sleeps.length);
    if (signal?.aborted === true) return Promise.reject(new CancelledError('operation cancelled'));
    return Promise.resolve();
  }

  /** Deadline timers never fire on their own; the ones still pending are counted. */
  pendingTimers = 0;

  timer(_ms: number, _fire: () => void): () => void {
    this.pendingTimers++;
    let cancelled = false;
    return () => {
      if (!cancelled) this.pendingTimers--;
      cancelled = true;
    };
  }
}

export async function tempDir(
  t: { teardown(fn: () => unknown): void },
  prefix = 'nvme-',
): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

export function testMetrics(): NvmeMetrics {
  return createMetrics({
    registry: new Registry(),
    version: 'test',
    commit: 'test',
    processMetrics: false,
  });
}

export async function metricValue(
  m: NvmeMetrics,
  name: keyof NvmeMetrics,
  labels: Record<string, string> = {},
): Promise<number> {
  const got = await m[name].get();
  const values = got.values as {
    value: number;
    labels: Record<string, unknown>;
    metricName?: string;
  }[];
  const match = values.find(
    (v) =>
      (v.metricName === undefined || !/_bucket$|_sum$/.test(v.metricName)) &&
      Object.entries(labels).every(([k, val]) => v.labels[k] === val),
  );
  return match?.value ?? 0;
}

/**
 * Waits (a bounded number of event-loop turns, no wall-clock time) until the metric reads
 * `want`, for values set off the caller's path; returns the last value read.
 */
export async function settledMetric(
  m: NvmeMetrics,
  name: keyof NvmeMetrics,
  want: number,
): Promise<number> {
  let value = await metricValue(m, name);
  for (let i = 0; i < 200 && value !== want; i++) {
    await new Promise((r) => setImmediate(r));
    value = await metricValue(m, name);
  }
  return value;
}
