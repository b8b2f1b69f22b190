/** Per-operation metrics and the attach step every use-case shares. */
import type { VOLUME_OPERATIONS } from '../observability/metrics';
import type { AttachResult } from '../nvme/ports';
import type { VolumeContext } from '../domain/volume-context';
import type { NodeContext } from './deps';

export type VolumeOperation = (typeof VOLUME_OPERATIONS)[number];

/** Runs `fn`, counting it in volumeOperations{operation,status} and its duration. */
export async function instrument<T>(
  ctx: NodeContext,
  operation: VolumeOperation,
  fn: () => Promise<T>,
): Promise<T> {
  const started = ctx.now();
  let status: 'success' | 'failure' = 'failure';
  try {
    const out = await fn();
    status = 'success';
    return out;
  } finally {
    ctx.metrics?.volumeOperations.inc({ operation, status });
    ctx.metrics?.volumeOperationDuration.observe({ operation }, (ctx.now() - started) / 1000);
  }
}

/** Attaches (or re-finds, after a renumbering reconnect) the volume's namespace by NQN. */
export function attachVolume(
  ctx: NodeContext,
  context: VolumeContext,
  signal?: AbortSignal,
): Promise<AttachResult> {
  return ctx.fabrics.attach(
    {
      nqn: context.nqn,
      traddr: context.traddr,
      trsvcid: context.trsvcid,
      hostnqn: ctx.host.hostnqn,
      hostid: ctx.host.hostid,
      ...(ctx.tuning ? { tuning: ctx.tuning } : {}),
    },
    { deadlineMs: ctx.timing.attachDeadlineMs, ...(signal ? { signal } : {}) },
  );
}

/** Milliseconds since `t0`, rounded to 0.1. */
export function since(ctx: NodeContext, t0: number): number {
  return Math.round((ctx.now() - t0) * 10) / 10;
}
