/** Per-operation metrics and the attach step every use-case shares. */
import type { VOLUME_OPERATIONS } from '../observability/metrics';
import type { AttachResult } from '../nvme/ports';
import type { VolumeContext } from '../domain/volume-context';
import { UnavailableError } from '../domain/errors';
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

/**
 * Attaches (or re-finds, after a renumbering reconnect) the volume's namespace by NQN. A
 * Go-driver volume first adopts a controller already connected for its NQN (see
 * adoptConnected) and connects with that driver's reconnect tuning otherwise.
 */
export async function attachVolume(
  ctx: NodeContext,
  context: VolumeContext,
  signal?: AbortSignal,
): Promise<AttachResult> {
  const go = context.goDriver;
  if (go !== undefined) {
    const adopted = await adoptConnected(ctx, context.nqn);
    if (adopted) return adopted;
  }
  const tuning = go
    ? {
        ...ctx.tuning,
        ctrlLossTmoSec: go.ctrlLossTmoSec,
        reconnectDelaySec: go.reconnectDelaySec,
        ...(go.keepAliveTmoSec !== undefined ? { keepAliveTmoSec: go.keepAliveTmoSec } : {}),
      }
    : ctx.tuning;
  return ctx.fabrics.attach(
    {
      nqn: context.nqn,
      traddr: context.traddr,
      trsvcid: context.trsvcid,
      hostnqn: ctx.host.hostnqn,
      hostid: ctx.host.hostid,
      ...(tuning ? { tuning } : {}),
    },
    { deadlineMs: ctx.timing.attachDeadlineMs, ...(signal ? { signal } : {}) },
  );
}

/**
 * A controller the Go node plugin connected is used as it is, whatever host NQN it was
 * connected with (nvme-cli's default, which need not be this node's): connecting again
 * with ours would add a second controller to the subsystem, and the kernel refuses a
 * connect that reuses a host id under another host NQN. Undefined when nothing usable is
 * connected (then the caller connects); UnavailableError while the only controllers are
 * reconnecting (kubelet retries; a second connect would fail the same way).
 */
async function adoptConnected(ctx: NodeContext, nqn: string): Promise<AttachResult | undefined> {
  const found = await ctx.fabrics.find(nqn);
  const active = (found?.controllers ?? []).filter(
    (c) => c.state !== 'dead' && !c.state.startsWith('deleting'),
  );
  if (!found || active.length === 0) return undefined;
  const live = active.find((c) => c.state === 'live');
  if (live && found.device !== undefined) {
    return {
      device: found.device,
      controller: live.instance,
      reused: true,
      timings: { connectMs: 0, deviceReadyMs: 0, totalMs: 0 },
    };
  }
  if (live) return undefined;
  throw new UnavailableError(
    `NVMe controller for ${nqn} is ${active.map((c) => `nvme${c.instance} ${c.state}`).join(', ')}; ` +
      'waiting for it to reconnect to the target',
    { nqn },
  );
}

/** Milliseconds since `t0`, rounded to 0.1. */
export function since(ctx: NodeContext, t0: number): number {
  return Math.round((ctx.now() - t0) * 10) / 10;
}
