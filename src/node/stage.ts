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
import type { MountEntry } from '../mount/ports';
import type { NodeContext } from './deps';
import {
  type EarlyProbe,
  countMount,
  ensureFilesystem,
  growIfLarger,
  probeEarly,
} from './filesystem';
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

/**
 * Where a stage's time went (ms). connectMs and deviceReadyMs are parts of attachMs; the
 * other rows are sequential phases, so what totalMs has beyond their sum is glue.
 */
export interface StageTimings {
  /** Reading the volume's record and refusing a staging elsewhere. */
  readonly recordReadMs: number;
  readonly connectMs: number;
  readonly deviceReadyMs: number;
  /** The whole attach (connect, device wait, finding the namespace, the staging mkdir). */
  readonly attachMs: number;
  /**
   * Writing the staging record and, alongside it for mount access, reading what is mounted
   * now and the device's number and, on a first stage at the path, probing the device.
   */
  readonly recordWriteMs: number;
  /** The rest of the check of the staging path: its state, unmounting a stale mount. */
  readonly mountCheckMs: number;
  /** Probing the device after the record was written (retries; a repaired stale mount). */
  readonly probeMs: number;
  /** The probe taken alongside the record write (part of recordWriteMs); 0 when none. */
  readonly earlyProbeMs: number;
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
  mountCheckMs: number;
  probeMs: number;
  formatMs: number;
  mountMs: number;
  growMs: number;
}

const NO_MOUNT: MountPhase = {
  alreadyStaged: false,
  formatted: false,
  mountCheckMs: 0,
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
    const recordReadMs = since(ctx, t0);
    const tAttach = ctx.now();
    // kubelet usually creates the staging directory; making sure overlaps with the connect.
    const [attached] = await Promise.all([
      attachVolume(ctx, input.context, signal),
      fs.mkdir(input.stagingPath, { recursive: true }),
    ]);
    const attachMs = since(ctx, tAttach);
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
    // The record is on disk before anything is formatted or mounted; the reads overlap it.
    // Unless the record says this path already holds the volume (a repeated stage, which
    // mounts nothing), the device's first probe runs alongside too: it only reads.
    const tWrite = ctx.now();
    const mount = input.access.kind === 'mount';
    const [seen, early] = await Promise.all([
      mount ? readMountState(ctx, attached.device) : undefined,
      mount && previous?.stagingPath !== input.stagingPath
        ? probeEarly(ctx, attached.device, signal)
        : undefined,
      ctx.records.put(record),
    ]);
    const recordWriteMs = since(ctx, tWrite);
    const phase =
      input.access.kind === 'mount'
        ? await mountStaging(ctx, record, input.access, attached.device, signal, seen, early)
        : { ...NO_MOUNT, alreadyStaged: previous?.stagingPath === input.stagingPath };
    const timings: StageTimings = {
      recordReadMs,
      connectMs: attached.timings.connectMs,
      deviceReadyMs: attached.timings.deviceReadyMs,
      attachMs,
      recordWriteMs,
      mountCheckMs: phase.mountCheckMs,
      probeMs: phase.probeMs,
      earlyProbeMs: early?.ms ?? 0,
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

/** The mount table and the device's major:minor, read together. */
export interface MountState {
  readonly majorMinor: string | undefined;
  readonly mounts: readonly MountEntry[];
}

async function readMountState(ctx: NodeContext, device: string): Promise<MountState> {
  const [majorMinor, mounts] = await Promise.all([
    ctx.mounter.deviceNumber(device),
    ctx.mounter.mounts(),
  ]);
  return { majorMinor, mounts };
}

/**
 * The mount part of staging, also used by publish to repair a stale staging mount. A
 * healthy mount of the current device at the path → nothing to do. A mount of anything
 * else (a vanished or renumbered device) is reported and unmounted first. `seen` is that
 * state read by the caller after the attach, if it has it; `early` a probe of the device
 * taken alongside, used only when nothing had to be unmounted first.
 */
export async function mountStaging(
  ctx: NodeContext,
  record: StagingRecord,
  access: { readonly fsType: FsType; readonly flags: readonly string[] },
  device: string,
  signal?: AbortSignal,
  seen?: MountState,
  early?: EarlyProbe,
): Promise<MountPhase> {
  const at = record.stagingPath;
  const t0 = ctx.now();
  const { majorMinor, mounts } = seen ?? (await readMountState(ctx, device));
  const current = { majorMinor, path: device };
  const existing = mountAt(mounts, at);
  let repairing = false;
  let mountCheckMs = since(ctx, t0);
  if (existing) {
    const state = await ctx.mounter.pathState(at);
    if (mountIsOn(existing, current) && state === 'ok') {
      return { ...NO_MOUNT, alreadyStaged: true, mountCheckMs: since(ctx, t0) };
    }
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
      mountCheckMs = since(ctx, t0);
    } catch (err) {
      staleRepaired(ctx, record.volumeId, at, false);
      throw err;
    }
  }
  try {
    const prep = await ensureFilesystem(ctx, record.volumeId, device, access.fsType, {
      signal,
      firstProbe: repairing ? undefined : early,
    });
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
    return { alreadyStaged: false, ...prep, mountCheckMs, mountMs, growMs };
  } catch (err) {
    if (repairing) staleRepaired(ctx, record.volumeId, at, false);
    ctx.events.mountFailure({ volumeId: record.volumeId, reason: (err as Error).message });
    throw err;
  }
}
