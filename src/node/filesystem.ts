/**
 * Getting a filesystem onto a staged device: the never-format rule, optional fsck, the
 * mount itself and growing to the device size.
 */
import { FailedPreconditionError, UnavailableError } from '../domain/errors';
import type { FsType } from '../domain/volume-context';
import type { NodeContext } from './deps';
import { since } from './ops';

/** Grow at stage only when the device exceeds the filesystem by at least this much. */
const GROW_SLACK_BYTES = 1024 * 1024;

export interface PrepareResult {
  readonly formatted: boolean;
  readonly probeMs: number;
  readonly formatMs: number;
}

/**
 * Makes sure `device` holds a `fsType` filesystem. Formats ONLY when blkid said positively
 * that the device holds nothing. An ambiguous probe is retried a few times and then fails
 * with UnavailableError (kubelet retries the stage); it never leads to mkfs. A different
 * filesystem or any other signature → FailedPreconditionError, untouched.
 */
export async function ensureFilesystem(
  ctx: NodeContext,
  volumeId: string,
  device: string,
  fsType: FsType,
  signal?: AbortSignal,
): Promise<PrepareResult> {
  const t0 = ctx.now();
  let lastReason = '';
  for (let attempt = 1; attempt <= ctx.timing.probeAttempts; attempt++) {
    const probe = await ctx.mounter.probe(device, signal ? { signal } : {});
    if (probe.kind === 'filesystem') {
      if (probe.fsType !== fsType) {
        throw new FailedPreconditionError(
          `${device} already holds a ${probe.fsType} filesystem but the volume asks for ${fsType}; ` +
            'refusing to reformat or mount it',
          { volumeId, device },
        );
      }
      return { formatted: false, probeMs: since(ctx, t0), formatMs: 0 };
    }
    if (probe.kind === 'other') {
      throw new FailedPreconditionError(
        `${device} holds ${probe.detail}, not a filesystem; refusing to format it`,
        { volumeId, device },
      );
    }
    if (probe.kind === 'empty') {
      const probeMs = since(ctx, t0);
      const t1 = ctx.now();
      ctx.logger.info('formatting empty device', { volumeId, device, fsType });
      await countMount(ctx, 'format', () => ctx.mounter.format(device, fsType));
      return { formatted: true, probeMs, formatMs: since(ctx, t1) };
    }
    lastReason = probe.reason;
    ctx.logger.warn('ambiguous filesystem probe; not formatting', {
      volumeId,
      device,
      attempt,
      reason: probe.reason,
    });
    if (attempt < ctx.timing.probeAttempts) await ctx.sleep(ctx.timing.probeDelayMs, signal);
  }
  throw new UnavailableError(
    `could not tell whether ${device} holds data after ${ctx.timing.probeAttempts} probes ` +
      `(${lastReason}); not formatting it, retry later`,
    { volumeId, device },
  );
}

/** Grows the mounted filesystem when the device is larger than it. Returns ms spent (0 = no grow). */
export async function growIfLarger(
  ctx: NodeContext,
  nqn: string,
  device: string,
  mountPoint: string,
  fsType: FsType,
): Promise<number> {
  const [deviceBytes, fsBytes] = await Promise.all([
    ctx.fabrics.deviceSize(nqn),
    ctx.mounter.filesystemSize(device, fsType),
  ]);
  if (fsBytes !== undefined && deviceBytes - fsBytes < GROW_SLACK_BYTES) return 0;
  const t0 = ctx.now();
  await countMount(ctx, 'grow', () => ctx.mounter.grow(device, mountPoint, fsType));
  return since(ctx, t0);
}

/** Runs one mount-level operation, counting it in mountOperations{operation,status}. */
export async function countMount<T>(
  ctx: NodeContext,
  operation: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    const out = await fn();
    ctx.metrics?.mountOperations.inc({ operation, status: 'success' });
    return out;
  } catch (err) {
    ctx.metrics?.mountOperations.inc({ operation, status: 'failure' });
    throw err;
  }
}
