/**
 * NodePublishVolume / NodeUnpublishVolume. Mount access: bind the staging mount onto the
 * target directory. Block access: bind the namespace's device node onto a target FILE,
 * exactly one bind per target (never /dev or devtmpfs recursively). Both idempotent;
 * read-only honoured with a bind-then-remount; stale targets and a stale staging mount
 * are repaired when safe.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { AlreadyExistsError, FailedPreconditionError } from '../domain/errors';
import { isReadOnly, mountAt } from '../mount/mountinfo';
import type { MountEntry } from '../mount/ports';
import type { VolumeContext } from '../domain/volume-context';
import { stagedVolume } from './compat/go-staged';
import type { NodeContext } from './deps';
import { countMount } from './filesystem';
import { mountIsOn, reportStale, staleRepaired, unmountAll } from './mounts';
import { attachVolume, instrument } from './ops';
import type { StagingRecord } from './records';
import { mountStaging } from './stage';

export interface PublishInput {
  readonly volumeId: string;
  readonly stagingPath: string;
  readonly targetPath: string;
  readonly access: 'mount' | 'block';
  readonly readonly: boolean;
  /**
   * The request's volume_context, used only when no staging record exists (a volume the
   * Go node plugin staged, see src/node/compat/go-staged.ts).
   */
  readonly context?: VolumeContext | undefined;
}

export function publishVolume(
  ctx: NodeContext,
  input: PublishInput,
  signal?: AbortSignal,
): Promise<void> {
  return instrument(ctx, 'publish', async () => {
    const record = await stagedVolume(ctx, input);
    if (!record || record.stagingPath !== input.stagingPath) {
      throw new FailedPreconditionError(
        `volume ${input.volumeId} is not staged at ${input.stagingPath}; stage it first`,
        { volumeId: input.volumeId },
      );
    }
    if (record.access !== input.access) {
      throw new FailedPreconditionError(
        `volume ${input.volumeId} was staged for ${record.access} access, not ${input.access}`,
        { volumeId: input.volumeId },
      );
    }
    // The device, the mount table and (for mount access) the target directory at once; the
    // table is read again only if the staging mount had to be repaired.
    const mount = input.access === 'mount';
    const [device, seenMounts] = await Promise.all([
      currentDevice(ctx, record, signal),
      ctx.mounter.mounts(),
      mount ? makeTarget(input.targetPath, 'mount') : undefined,
    ]);
    const dev = { majorMinor: await ctx.mounter.deviceNumber(device), path: device };
    const source = mount ? record.stagingPath : device;
    const repaired = mount ? await ensureStagingMount(ctx, record, dev, seenMounts, signal) : false;
    const mounts = repaired ? await ctx.mounter.mounts() : seenMounts;
    const existing = mountAt(mounts, input.targetPath);
    if (existing) {
      if (mountIsOn(existing, dev)) {
        if (isReadOnly(existing) === input.readonly) return;
        throw new AlreadyExistsError(
          `${input.targetPath} is already published ${isReadOnly(existing) ? 'read-only' : 'read-write'}`,
          { volumeId: input.volumeId },
        );
      }
      reportStale(
        ctx,
        input.volumeId,
        input.targetPath,
        `target is mounted from ${existing.source} (${existing.majorMinor}), the volume is ${device}`,
      );
      try {
        await unmountAll(ctx, input.targetPath, signal, mounts);
      } catch (err) {
        staleRepaired(ctx, input.volumeId, input.targetPath, false);
        throw err;
      }
      staleRepaired(ctx, input.volumeId, input.targetPath, true);
    }
    if (!mount) await makeTarget(input.targetPath, 'block');
    await countMount(ctx, 'bind', () =>
      ctx.mounter.bind(source, input.targetPath, input.readonly, signal ? { signal } : {}),
    );
    ctx.logger.info('published', {
      volumeId: input.volumeId,
      target: input.targetPath,
      readonly: input.readonly,
    });
  });
}

/**
 * The volume's device now: found again by NQN (a reconnect may have renumbered it), or
 * re-attached when the controller is gone.
 */
async function currentDevice(
  ctx: NodeContext,
  record: StagingRecord,
  signal?: AbortSignal,
): Promise<string> {
  const found = await ctx.fabrics.find(record.context.nqn, { brief: true });
  if (found?.device !== undefined) return found.device;
  ctx.logger.warn('volume has no device on this node; attaching again', {
    volumeId: record.volumeId,
  });
  const attached = await attachVolume(ctx, record.context, signal);
  await ctx.records.put({ ...record, device: attached.device });
  ctx.events.connectionRecovered({
    volumeId: record.volumeId,
    nqn: record.context.nqn,
    device: attached.device,
  });
  return attached.device;
}

/** The staging mount must be a healthy mount of `device`; a stale one is remounted. */
/** True when the staging mount was stale and has been mounted again. */
async function ensureStagingMount(
  ctx: NodeContext,
  record: StagingRecord,
  dev: { readonly majorMinor: string | undefined; readonly path: string },
  mounts: readonly MountEntry[],
  signal?: AbortSignal,
): Promise<boolean> {
  const fsType = record.fsType;
  if (fsType === undefined) {
    throw new FailedPreconditionError(`staging record of ${record.volumeId} has no filesystem`);
  }
  const existing = mountAt(mounts, record.stagingPath);
  if (!existing) {
    throw new FailedPreconditionError(
      `volume ${record.volumeId} is not mounted at ${record.stagingPath}; stage it first`,
      { volumeId: record.volumeId },
    );
  }
  const phase = await mountStaging(
    ctx,
    record,
    { fsType, flags: record.mountFlags ?? [] },
    dev.path,
    signal,
    { majorMinor: dev.majorMinor, mounts },
  );
  return !phase.alreadyStaged;
}

/** A directory for a filesystem bind, a regular file for a device bind. */
async function makeTarget(target: string, access: 'mount' | 'block'): Promise<void> {
  if (access === 'mount') {
    await fs.mkdir(target, { recursive: true });
    return;
  }
  await fs.mkdir(path.dirname(target), { recursive: true });
  const fh = await fs.open(target, 'a', 0o660);
  await fh.close();
}

export interface UnpublishInput {
  readonly volumeId: string;
  readonly targetPath: string;
}

/**
 * Unmounts the target and removes it (a directory, our block target file, or the S_IFBLK
 * node the Go node plugin mknod'ed there: unlinked, never opened). Idempotent.
 */
export function unpublishVolume(
  ctx: NodeContext,
  input: UnpublishInput,
  signal?: AbortSignal,
): Promise<void> {
  return instrument(ctx, 'unpublish', async () => {
    await unmountAll(ctx, input.targetPath, signal);
    if ((await ctx.mounter.pathState(input.targetPath)) === 'missing') return;
    const st = await fs.lstat(input.targetPath);
    try {
      if (st.isDirectory()) await fs.rmdir(input.targetPath);
      else await fs.unlink(input.targetPath);
    } catch (err) {
      // Never delete recursively: a non-empty unmounted target holds someone's files.
      throw new FailedPreconditionError(
        `could not remove ${input.targetPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        { volumeId: input.volumeId },
        { cause: err },
      );
    }
    ctx.logger.info('unpublished', { volumeId: input.volumeId, target: input.targetPath });
  });
}
