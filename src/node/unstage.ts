/**
 * NodeUnstageVolume: unmount the staging path and disconnect the volume, idempotently.
 * Refuses (FAILED_PRECONDITION, nothing undone) while any other mount still uses the
 * device, e.g. a publish target kubelet has not unpublished; the Fabrics port refuses
 * the disconnect itself while the device is open or held.
 */
import path from 'node:path';
import { FailedPreconditionError } from '../domain/errors';
import { mountAt } from '../mount/mountinfo';
import type { MountEntry } from '../mount/ports';
import type { NodeContext } from './deps';
import { deviceUsers, unmountAll } from './mounts';
import { instrument } from './ops';

export interface UnstageInput {
  readonly volumeId: string;
  readonly stagingPath: string;
}

export function unstageVolume(
  ctx: NodeContext,
  input: UnstageInput,
  signal?: AbortSignal,
): Promise<void> {
  return instrument(ctx, 'unstage', async () => {
    const record = await ctx.records.get(input.volumeId);
    if (record && record.stagingPath !== input.stagingPath) {
      throw new FailedPreconditionError(
        `volume ${input.volumeId} is staged at ${record.stagingPath}, not ${input.stagingPath}`,
        { volumeId: input.volumeId },
      );
    }
    const mounts = await ctx.mounter.mounts();
    const staging = mountAt(mounts, input.stagingPath);
    const nqn = record?.context.nqn ?? (await nqnOfMount(ctx, staging));
    const attached = nqn === undefined ? undefined : await ctx.fabrics.find(nqn);
    const device = attached?.device ?? staging?.source;
    if (device !== undefined) {
      const users = deviceUsers(
        mounts,
        { majorMinor: await ctx.mounter.deviceNumber(device), path: device },
        [input.stagingPath],
      );
      if (users.length > 0) {
        throw new FailedPreconditionError(
          `volume ${input.volumeId} is still in use on this node (${describe(users)}); ` +
            'unpublish it first',
          { volumeId: input.volumeId },
        );
      }
    }
    await unmountAll(ctx, input.stagingPath, signal, mounts);
    if (nqn !== undefined) {
      const r = await ctx.fabrics.detach(nqn, signal ? { signal } : {});
      ctx.logger.info('unstaged', { volumeId: input.volumeId, nqn, disconnected: r.disconnected });
    } else {
      ctx.logger.info('unstage: volume not known on this node; nothing to do', {
        volumeId: input.volumeId,
      });
    }
    await ctx.records.remove(input.volumeId);
  });
}

/** Without a record (lost state dir), find the NQN owning the device mounted at staging. */
async function nqnOfMount(
  ctx: NodeContext,
  staging: MountEntry | undefined,
): Promise<string | undefined> {
  if (!staging) return undefined;
  const managed = await ctx.fabrics.listManaged();
  return managed.find((v) => v.device === staging.source)?.nqn;
}

function describe(users: readonly MountEntry[]): string {
  const points = users.slice(0, 3).map((u) => path.normalize(u.mountPoint));
  return `mounted at ${points.join(', ')}${users.length > 3 ? ` and ${users.length - 3} more` : ''}`;
}
