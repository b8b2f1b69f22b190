/**
 * NodeUnstageVolume: unmount the staging path and disconnect the volume, idempotently, with
 * or without a staging record (block vs filesystem is read from what is there).
 * Refuses (FAILED_PRECONDITION, nothing undone) while any other mount still uses the
 * device, e.g. a publish target kubelet has not unpublished, or a device node the Go node
 * plugin mknod'ed at a block publish target still exists; the Fabrics port refuses the
 * disconnect itself while the device is open or held.
 */
import path from 'node:path';
import { FailedPreconditionError } from '../domain/errors';
import { mountAt } from '../mount/mountinfo';
import type { MountEntry } from '../mount/ports';
import { blockNodesOf, stagedWithoutRecord } from './compat/go-staged';
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
    // Both only read; the mount table is read before anything is unmounted either way.
    const [record, mounts] = await Promise.all([
      ctx.records.get(input.volumeId),
      ctx.mounter.mounts(),
    ]);
    if (record && record.stagingPath !== input.stagingPath) {
      throw new FailedPreconditionError(
        `volume ${input.volumeId} is staged at ${record.stagingPath}, not ${input.stagingPath}`,
        { volumeId: input.volumeId },
      );
    }
    const staging = mountAt(mounts, input.stagingPath);
    const nqn = record?.context.nqn ?? (await nqnWithoutRecord(ctx, input));
    const attached = nqn === undefined ? undefined : await ctx.fabrics.find(nqn, { brief: true });
    const device = attached?.device ?? staging?.source;
    if (device !== undefined) {
      const majorMinor = await ctx.mounter.deviceNumber(device);
      const users = deviceUsers(mounts, { majorMinor, path: device }, [input.stagingPath]);
      const nodes = await blockNodesOf(ctx, input.volumeId, majorMinor);
      if (users.length > 0 || nodes.length > 0) {
        throw new FailedPreconditionError(
          `volume ${input.volumeId} is still in use on this node (${describe(users, nodes)}); ` +
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

/**
 * Without a record (a lost state dir, or a volume the Go node plugin staged): the managed
 * subsystem of the filesystem mounted at staging, or of the volume id for a block volume
 * (which leaves nothing in staging). Only a connected, managed NQN is returned, so nothing
 * else is ever disconnected.
 */
async function nqnWithoutRecord(
  ctx: NodeContext,
  input: UnstageInput,
): Promise<string | undefined> {
  const staged = await stagedWithoutRecord(ctx, input);
  if (staged === undefined) return undefined;
  const managed = await ctx.fabrics.listManaged();
  return managed.some((v) => v.nqn === staged.context.nqn) ? staged.context.nqn : undefined;
}

function describe(users: readonly MountEntry[], nodes: readonly string[]): string {
  const points = [
    ...users.map((u) => `mounted at ${path.normalize(u.mountPoint)}`),
    ...nodes.map((n) => `device node ${n}`),
  ];
  return `${points.slice(0, 3).join(', ')}${points.length > 3 ? ` and ${points.length - 3} more` : ''}`;
}
