/**
 * NodeGetVolumeStats: usage (statfs for mounts, device size for block) and the volume's
 * condition. Unknown volume or path → NOT_FOUND. A stale mount is reported (metric, log,
 * event) once; the repair happens on the next stage/publish, not in a stats call.
 */
import { NotFoundError } from '../domain/errors';
import { mountAt } from '../mount/mountinfo';
import type { FsStats } from '../mount/ports';
import { type Condition, assessCondition } from './condition';
import type { NodeContext } from './deps';
import { reportStale } from './mounts';
import { stagedVolume } from './compat/go-staged';

export interface StatsInput {
  readonly volumeId: string;
  readonly volumePath: string;
  /** The request's staging_target_path, when kubelet sent one. */
  readonly stagingPath?: string | undefined;
}

export interface VolumeStats {
  /** Filesystem usage; undefined for block volumes or when the path cannot be read. */
  readonly fs: FsStats | undefined;
  /** Device size for block volumes. */
  readonly blockBytes: number | undefined;
  readonly condition: Condition;
}

export async function volumeStats(ctx: NodeContext, input: StatsInput): Promise<VolumeStats> {
  const record = await stagedVolume(ctx, {
    volumeId: input.volumeId,
    stagingPath: input.stagingPath,
    volumePath: input.volumePath,
  });
  if (!record) {
    throw new NotFoundError(`volume ${input.volumeId} is not staged on this node`, {
      volumeId: input.volumeId,
    });
  }
  const pathState = await ctx.mounter.pathState(input.volumePath);
  if (pathState === 'missing') {
    throw new NotFoundError(`volume path ${input.volumePath} does not exist`, {
      volumeId: input.volumeId,
    });
  }
  const [attached, mounts] = await Promise.all([
    ctx.fabrics.find(record.context.nqn),
    ctx.mounter.mounts(),
  ]);
  const mount = mountAt(mounts, input.volumePath);
  const [deviceNumber, nodeNumber] = await Promise.all([
    attached?.device === undefined ? undefined : ctx.mounter.deviceNumber(attached.device),
    // A block volume the Go node plugin published is a device node, not a mount.
    mount === undefined && record.access === 'block'
      ? ctx.mounter.deviceNumber(input.volumePath)
      : undefined,
  ]);
  const condition = assessCondition({
    record,
    volumePath: input.volumePath,
    attached,
    deviceNumber,
    mount,
    nodeNumber,
    pathState,
  });
  if (condition.stale) reportStale(ctx, input.volumeId, input.volumePath, condition.message);
  if (record.access === 'block') {
    return { fs: undefined, blockBytes: attached?.sizeBytes, condition };
  }
  let fs: FsStats | undefined;
  if (pathState === 'ok') {
    fs = await ctx.mounter.statfs(input.volumePath).catch((err: unknown) => {
      ctx.logger.warn('statfs failed', { volumeId: input.volumeId, err });
      return undefined;
    });
  }
  return { fs, blockBytes: undefined, condition };
}
