/**
 * NodeStageVolume: attach by NQN, then mount a filesystem at the staging path (mount
 * access) or only record the device (block access). Idempotent for the same path; a
 * volume staged elsewhere is FAILED_PRECONDITION; a stale mount left at the path (the
 * device vanished or was renumbered) is replaced.
 */
import fs from 'node:fs/promises';
import { AlreadyExistsError, FailedPreconditionError } from '../domain/errors';
import type { FsType, VolumeContext } from '../domain/volume-context';
import { mountAt } from '../mount/mountinfo';
import type { NodeContext } from './deps';
import { countMount, ensureFilesystem, growIfLarger } from './filesystem';
import { mountIsOn, reportStale, staleRepaired, unmountAll } from './mounts';
import { attachVolume, instrument, since } from './ops';
import type { StagingRecord } from './records';

export type StageAccess =
  | { readonly kind: 'mount'; readonly fsType: FsType; readonly flags: readonly string[] }
  | { readonly kind: 'block' };

export interface StageInput {
  readonly volumeId: string;
  readonly stagingPath: string;
  readonly access: StageAccess;
  readonly context: VolumeContext;
}

export interface StageTimings {
  readonly connectMs: number;
  readonly deviceReadyMs: number;
  readonly attachMs: number;
  readonly probeMs: number;
  readonly formatMs: number;
  readonly mountMs: number;
  readonly growMs: number;
  readonly totalMs: number;
}

export interface StageResult {
  readonly device: string;
  /** True when the staging path already held this volume (nothing was mounted). */
  readonly alreadyStaged: boolean;
  readonly formatted: boolean;
  readonly timings: StageTimings;
}

interface MountPhase {
  alreadyStaged: boolean;
  formatted: boolean;
  probeMs: number;
  formatMs: number;
  mountMs: number;
  growMs: number;
}

const NO_MOUNT: MountPhase = {
  alreadyStaged: false,
  formatted: false,
  probeMs: 0,
  formatMs: 0,
  mountMs: 0,
  growMs: 0,
};

export function stageVolume(
  ctx: NodeContext,
  input: StageInput,
  signal?: AbortSignal,
): Promise<StageResult> {
  return instrument(ctx, 'stage', async () => {
    const t0 = ctx.now();
    const previous = await ctx.records.get(input.volumeId);
    await refuseOtherStaging(ctx, input, previous);
    // kubelet usually creates the staging directory; making sure overlaps with the connect.
    const [attached] = await Promise.all([
      attachVolume(ctx, input.context, signal),
      fs.mkdir(input.stagingPath, { recursive: true }),
    ]);
    const attachMs = since(ctx, t0);
    const record: StagingRecord = {
      version: 1,
      volumeId: input.volumeId,
      stagingPath: input.stagingPath,
      access: input.access.kind,
      ...(input.access.kind === 'mount'
        ? { fsType: input.access.fsType, mountFlags: [...input.access.flags] }
        : {}),
      context: input.context,
      device: attached.device,
    };
    await ctx.records.put(record);
    const phase =
      input.access.kind === 'mount'
        ? await mountStaging(ctx, record, input.access, attached.device, signal)
        : { ...NO_MOUNT, alreadyStaged: previous?.stagingPath === input.stagingPath };
    const timings: StageTimings = {
      connectMs: attached.timings.connectMs,
      deviceReadyMs: attached.timings.deviceReadyMs,
      attachMs,
      probeMs: phase.probeMs,
      formatMs: phase.formatMs,
      mountMs: phase.mountMs,
      growMs: phase.growMs,
      totalMs: since(ctx, t0),
    };
    ctx.logger.info('staged', {
      volumeId: input.volumeId,
      device: attached.device,
      reused: attached.reused,
      ...phase,
      timings,
    });
    return {
      device: attached.device,
      alreadyStaged: phase.alreadyStaged,
      formatted: phase.formatted,
      timings,
    };
  });
}

/**
 * A volume lives at one staging path per node. A record for another path counts only
 * while that path is still in use (a mount there, or for block the directory), so a
 * record that outlived a reboot does not block staging.
 */
async function refuseOtherStaging(
  ctx: NodeContext,
  input: StageInput,
  previous: StagingRecord | undefined,
): Promise<void> {
  if (!previous) return;
  if (previous.stagingPath === input.stagingPath) {
    if (previous.access !== input.access.kind) {
      throw new AlreadyExistsError(
        `volume ${input.volumeId} is already staged at ${input.stagingPath} as ${previous.access}`,
        { volumeId: input.volumeId },
      );
    }
    return;
  }
  const inUse =
    previous.access === 'mount'
      ? mountAt(await ctx.mounter.mounts(), previous.stagingPath) !== undefined
      : (await ctx.mounter.pathState(previous.stagingPath)) !== 'missing';
  if (inUse) {
    throw new FailedPreconditionError(
      `volume ${input.volumeId} is already staged at ${previous.stagingPath} on this node`,
      { volumeId: input.volumeId },
    );
  }
}

/**
 * The mount part of staging, also used by publish to repair a stale staging mount. A
 * healthy mount of the current device at the path → nothing to do. A mount of anything
 * else (a vanished or renumbered device) is reported and unmounted first.
 */
export async function mountStaging(
  ctx: NodeContext,
  record: StagingRecord,
  access: { readonly fsType: FsType; readonly flags: readonly string[] },
  device: string,
  signal?: AbortSignal,
): Promise<MountPhase> {
  const at = record.stagingPath;
  const [majorMinor, mounts] = await Promise.all([
    ctx.mounter.deviceNumber(device),
    ctx.mounter.mounts(),
  ]);
  const current = { majorMinor, path: device };
  const existing = mountAt(mounts, at);
  let repairing = false;
  if (existing) {
    const state = await ctx.mounter.pathState(at);
    if (mountIsOn(existing, current) && state === 'ok') return { ...NO_MOUNT, alreadyStaged: true };
    reportStale(
      ctx,
      record.volumeId,
      at,
      `staging mount is on ${existing.source} (${existing.majorMinor}), the volume is now ${device}` +
        (state === 'ok' ? '' : ` and the path is ${state}`),
    );
    repairing = true;
    try {
      await unmountAll(ctx, at, signal, mounts);
    } catch (err) {
      staleRepaired(ctx, record.volumeId, at, false);
      throw err;
    }
  }
  try {
    const prep = await ensureFilesystem(ctx, record.volumeId, device, access.fsType, signal);
    if (ctx.fsckOnStage && !prep.formatted) {
      await countMount(ctx, 'fsck', () => ctx.mounter.check(device, access.fsType));
    }
    const t1 = ctx.now();
    await countMount(ctx, 'mount', () =>
      ctx.mounter.mount(device, at, access.fsType, access.flags, signal ? { signal } : {}),
    );
    const mountMs = since(ctx, t1);
    const growMs = prep.formatted
      ? 0
      : await growIfLarger(ctx, record.context.nqn, device, at, access.fsType);
    if (repairing) {
      staleRepaired(ctx, record.volumeId, at, true);
      ctx.events.connectionRecovered({
        volumeId: record.volumeId,
        nqn: record.context.nqn,
        device,
      });
    }
    return { alreadyStaged: false, ...prep, mountMs, growMs };
  } catch (err) {
    if (repairing) staleRepaired(ctx, record.volumeId, at, false);
    ctx.events.mountFailure({ volumeId: record.volumeId, reason: (err as Error).message });
    throw err;
  }
}
