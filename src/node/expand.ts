/**
 * NodeExpandVolume: the controller grew the namespace on the target; make the kernel see
 * it (rescan), wait for the new size (bounded), then grow the filesystem online. Block
 * volumes need no filesystem work. Returns the device size. Works without a staging record
 * (a volume the Go node plugin staged: see src/node/compat/go-staged.ts).
 */
import { DeadlineExceededError, NotFoundError } from '../domain/errors';
import { mountAt } from '../mount/mountinfo';
import { stagedVolume } from './compat/go-staged';
import type { NodeContext } from './deps';
import { countMount } from './filesystem';
import { instrument } from './ops';

export interface ExpandInput {
  readonly volumeId: string;
  readonly volumePath: string;
  /** The request's staging_target_path, when kubelet sent one. */
  readonly stagingPath?: string | undefined;
  /** 0 when the caller did not say; then the current size is used. */
  readonly requiredBytes: number;
  /** True when the capability (or the staging record) says raw block. */
  readonly block: boolean;
}

export function expandVolume(
  ctx: NodeContext,
  input: ExpandInput,
  signal?: AbortSignal,
): Promise<{ capacityBytes: number }> {
  return instrument(ctx, 'expand', async () => {
    const record = await stagedVolume(ctx, {
      volumeId: input.volumeId,
      stagingPath: input.stagingPath,
      volumePath: input.volumePath,
      ...(input.block ? { access: 'block' as const } : {}),
    });
    if (!record) {
      throw new NotFoundError(`volume ${input.volumeId} is not staged on this node`, {
        volumeId: input.volumeId,
      });
    }
    if ((await ctx.mounter.pathState(input.volumePath)) === 'missing') {
      throw new NotFoundError(`volume path ${input.volumePath} does not exist`, {
        volumeId: input.volumeId,
      });
    }
    const nqn = record.context.nqn;
    await ctx.fabrics.rescan(nqn);
    const size = await waitForSize(ctx, nqn, input.requiredBytes, signal);
    if (input.block || record.access === 'block' || record.fsType === undefined) {
      return { capacityBytes: size };
    }
    // Without a record the staging path may be unknown: the filesystem mounted at the
    // volume path (a bind of the staging mount) grows the same filesystem.
    const mounts = await ctx.mounter.mounts();
    const at = [record.stagingPath, input.volumePath].find((p) => p && mountAt(mounts, p));
    const staging = at === undefined ? undefined : mountAt(mounts, at);
    if (at === undefined || !staging) {
      throw new NotFoundError(`volume ${input.volumeId} is not mounted at ${record.stagingPath}`, {
        volumeId: input.volumeId,
      });
    }
    const fsType = record.fsType;
    await countMount(ctx, 'grow', () => ctx.mounter.grow(staging.source, at, fsType));
    ctx.logger.info('expanded', { volumeId: input.volumeId, bytes: size });
    return { capacityBytes: size };
  });
}

/** Polls the kernel's namespace size until it reaches `required` or the wait runs out. */
async function waitForSize(
  ctx: NodeContext,
  nqn: string,
  required: number,
  signal?: AbortSignal,
): Promise<number> {
  const deadline = ctx.now() + ctx.timing.expandWaitMs;
  let poll = ctx.timing.pollMs;
  for (;;) {
    const size = await ctx.fabrics.deviceSize(nqn);
    if (size >= required) return size;
    if (ctx.now() >= deadline) {
      throw new DeadlineExceededError(
        `the device of ${nqn} is ${size} bytes after ${ctx.timing.expandWaitMs} ms, ` +
          `expected at least ${required}; the target may not have grown the namespace yet`,
      );
    }
    await ctx.sleep(poll, signal);
    poll = Math.min(poll * 2, 500);
  }
}
