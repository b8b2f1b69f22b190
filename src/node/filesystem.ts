/**
 * Getting a filesystem onto a staged device: the never-format rule, optional fsck, the
 * mount itself and growing to the device size.
 */
import { FailedPreconditionError, UnavailableError } from '../domain/errors';
import type { FsType } from '../domain/volume-context';
import type { ProbeResult } from '../mount/ports';
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
  opts: {
    readonly signal?: AbortSignal | undefined;
    /** The first probe, already taken by the caller (see probeEarly). */
    readonly firstProbe?: EarlyProbe | undefined;
  } = {},
): Promise<PrepareResult> {
  const { signal, firstProbe } = opts;
  const t0 = ctx.now();
  let lastReason = '';
  for (let attempt = 1; attempt <= ctx.timing.probeAttempts; attempt++) {
    const probe =
      attempt === 1 && firstProbe !== undefined
        ? unwrap(firstProbe)
        : await ctx.mounter.probe(device, signal ? { signal } : {});
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

/** A probe taken ahead of its use: its outcome, a result or the error it threw. */
export type EarlyProbe = (
  | { readonly ok: true; readonly result: ProbeResult }
  | { readonly ok: false; readonly error: unknown }
) & {
  /** How long the probe took. */
  readonly ms: number;
};

/**
 * Probes `device` now, to be handed to ensureFilesystem later. Probing only reads the
 * device, so it may run beside other work; what it found is used only once the caller has
 * decided to format or mount. Never rejects: an error is kept and thrown where it is used.
 */
export function probeEarly(
  ctx: NodeContext,
  device: string,
  signal?: AbortSignal,
): Promise<EarlyProbe> {
  const t0 = ctx.now();
  return ctx.mounter.probe(device, signal ? { signal } : {}).then(
    (result) => ({ ok: true, result, ms: since(ctx, t0) }),
    (error: unknown) => ({ ok: false, error, ms: since(ctx, t0) }),
  );
}

function unwrap(probe: EarlyProbe): ProbeResult {
  if (probe.ok) return probe.result;
  throw probe.error;
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
