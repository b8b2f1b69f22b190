/**
 * CreateVolume. Contract:
 * - The id is derived from the name (src/domain/ids.ts); the CSI layer locks on it, so
 *   Create and Delete of one volume never overlap.
 * - A disk that already exists with this id is returned when it is compatible with the
 *   request (same pool file, same port, exported, size within capacity_range); otherwise
 *   ALREADY_EXISTS. So a retry after a lost reply returns the same volume.
 * - A `.img` left by an interrupted attempt (file without disk) is removed and the create
 *   retried once; a failed create removes the file it may have left. No orphans.
 * - Restore (snapshot source) and clone (volume source) are one `/disk add copy-from` with
 *   the final size, never copy-then-resize, so there is no half-done state to adopt.
 */
import { DENY_ALL_HOST_NQN } from '../domain/attachment';
import { assertSupported, type Capability } from '../domain/capabilities';
import {
  AlreadyExistsError,
  NotFoundError,
  ResourceExhaustedError,
  isDomainError,
} from '../domain/errors';
import { volumeFilePath, volumeNqn } from '../domain/ids';
import { type VolumeParams } from '../domain/params';
import { chooseSize, satisfies, type SizeRange } from '../domain/sizes';
import { TOPOLOGY_KEY } from '../domain/topology';
import type { Disk } from '../routeros/ports';
import { adoptGoDisk, goContextOf, parseParamsFor } from './compat/go-volumes';
import type { Call, ControllerDeps } from './deps';
import { dirname } from './pool';
import { isKnownSnapshotId, isSnapshotDisk } from './snapshots';
import { findVolume } from './volume-queries';
import { createdView, resolveFsType, type ContentSource, type VolumeView } from './volume-view';

export interface CreateVolumeInput {
  readonly volumeId: string;
  readonly capabilities: readonly Capability[];
  readonly range: SizeRange;
  readonly parameters: Readonly<Record<string, string>>;
  readonly contentSource?: ContentSource;
  /** Requisite topology segments, when the CO sent accessibility requirements. */
  readonly requisite?: readonly Readonly<Record<string, string>>[];
}

export async function createVolume(
  deps: ControllerDeps,
  input: CreateVolumeInput,
  call: Call,
): Promise<VolumeView> {
  assertSupported(input.capabilities);
  const { params, go } = parseParamsFor(deps, input.parameters, call.log);
  const mounts = input.capabilities.filter((c) => c.accessType === 'mount');
  const fsType = resolveFsType(
    params.fsType,
    mounts.map((c) => c.fsType),
    mounts.length > 0,
  );
  // The Go driver returned no volume topology and ignored requirements (Topology=false).
  if (deps.config.compat === undefined) checkTopology(deps, input.requisite);
  const o = { signal: call.signal };
  const source = await sourceDisk(deps, input.contentSource, call);
  const floor = Math.max(deps.config.minVolumeBytes, source?.sizeBytes ?? 0);
  const sizeBytes = chooseSize(input.range, floor);
  const filePath = volumeFilePath(params.poolPath, input.volumeId);

  const extra = (d: Disk): Record<string, string> | undefined => go && goContextOf(go, d, params);
  const found = await deps.volumes.get(input.volumeId, o);
  if (found !== undefined) {
    const { disk: existing, adopted } = await adoptGoDisk(deps, found, sizeBytes, call);
    const goPath = `${params.poolPath}/${input.volumeId}.img`;
    const samePlace = adopted ? dirname(existing.filePath) === params.poolPath : true;
    checkCompatible(existing, adopted && samePlace ? goPath : filePath, params, input.range, floor);
    call.log.info('volume already exists; returning it', { volumeId: input.volumeId, adopted });
    return createdView(deps.config, existing, params, fsType, input.contentSource, extra(existing));
  }
  const disk = await createOrCopy(deps, call, {
    volumeId: input.volumeId,
    filePath,
    sizeBytes,
    port: params.nvmePort,
    sourceSlot: source?.slot,
    // A fenced volume is closed from birth: nobody may connect before its first publish.
    allowedHosts: params.hostFencing ? [DENY_ALL_HOST_NQN] : [],
  });
  return createdView(deps.config, disk, params, fsType, input.contentSource, extra(disk));
}

function checkTopology(
  deps: ControllerDeps,
  requisite: readonly Readonly<Record<string, string>>[] | undefined,
): void {
  if (!requisite || requisite.length === 0) return;
  const ok = requisite.some((seg) => seg[TOPOLOGY_KEY] === deps.config.topologyValue);
  if (!ok) {
    throw new ResourceExhaustedError(
      `no requisite topology includes ${TOPOLOGY_KEY}=${deps.config.topologyValue}, the RDS this controller serves`,
    );
  }
}

/** The disk to copy from, validated; NOT_FOUND when it does not exist. */
async function sourceDisk(
  deps: ControllerDeps,
  src: ContentSource | undefined,
  call: Call,
): Promise<Disk | undefined> {
  if (src === undefined) return undefined;
  const o = { signal: call.signal };
  if (src.type === 'snapshot') {
    const disk = isKnownSnapshotId(deps, src.id) ? await deps.volumes.get(src.id, o) : undefined;
    if (disk === undefined || !isSnapshotDisk(deps, disk)) {
      throw new NotFoundError(`snapshot ${src.id.slice(0, 128)} does not exist`, {
        snapshotId: src.id,
      });
    }
    return disk;
  }
  const disk = await findVolume(deps, src.id, call);
  if (disk === undefined) {
    throw new NotFoundError(`source volume ${src.id.slice(0, 128)} does not exist`, {
      volumeId: src.id,
    });
  }
  return disk;
}

function checkCompatible(
  d: Disk,
  filePath: string,
  params: VolumeParams,
  range: SizeRange,
  floor: number,
): void {
  const problems: string[] = [];
  if (d.filePath !== filePath) problems.push('a different pool path');
  if (!d.nvmeExport || d.port !== params.nvmePort) problems.push('a different NVMe export');
  if (!satisfies(d.sizeBytes, range) || d.sizeBytes < floor) {
    problems.push(`a size (${d.sizeBytes} bytes) outside the requested capacity_range`);
  }
  if (problems.length > 0) {
    throw new AlreadyExistsError(`volume ${d.slot} already exists with ${problems.join(' and ')}`, {
      volumeId: d.slot,
    });
  }
}

interface NewDisk {
  readonly volumeId: string;
  readonly filePath: string;
  readonly sizeBytes: number;
  readonly port: number;
  readonly sourceSlot: string | undefined;
  readonly allowedHosts: readonly string[];
}

async function createOrCopy(deps: ControllerDeps, call: Call, n: NewDisk): Promise<Disk> {
  const o = { signal: call.signal };
  const attempt = (): Promise<Disk> => {
    const nqn = volumeNqn(n.volumeId);
    return n.sourceSlot === undefined
      ? deps.volumes.create(
          {
            slot: n.volumeId,
            filePath: n.filePath,
            sizeBytes: n.sizeBytes,
            nqn,
            port: n.port,
            allowedHosts: n.allowedHosts,
          },
          o,
        )
      : deps.volumes.copy(
          {
            sourceSlot: n.sourceSlot,
            slot: n.volumeId,
            filePath: n.filePath,
            sizeBytes: n.sizeBytes,
            export: { nqn, port: n.port, allowedHosts: n.allowedHosts },
          },
          o,
        );
  };
  try {
    return await attempt();
  } catch (err) {
    if (!isDomainError(err) || err.code !== 'already-exists') {
      await cleanupAfterFailure(deps, call, n, err);
      throw err;
    }
    // The port read back and found no disk with this slot: the file is a leftover.
    if ((await deps.volumes.get(n.volumeId, o)) !== undefined) throw err;
    call.log.info('removing a leftover image file before creating the volume', {
      volumeId: n.volumeId,
    });
    await deps.files.remove(n.filePath, o);
    deps.metrics?.orphansCleaned?.inc();
    return attempt();
  }
}

/** Failures after which the device may have left a file behind. */
const MAY_LEAVE_FILE: ReadonlySet<string> = new Set(['resource-exhausted', 'internal']);

/**
 * After a refused or failed add, remove the file the add may have left, but only when no
 * disk uses it. Validation errors sent nothing; a lost reply (UNAVAILABLE/DEADLINE) was
 * already read back by the port and the next retry adopts or cleans up.
 */
async function cleanupAfterFailure(
  deps: ControllerDeps,
  call: Call,
  n: NewDisk,
  err: unknown,
): Promise<void> {
  const signal = call.signal;
  if (signal.aborted || !isDomainError(err) || !MAY_LEAVE_FILE.has(err.code)) return;
  try {
    const disk = await deps.volumes.get(n.volumeId, { signal });
    if (disk === undefined) await deps.files.remove(n.filePath, { signal });
  } catch (cleanupErr) {
    call.log.warn('could not check for a leftover file after a failed create', {
      volumeId: n.volumeId,
      error: isDomainError(cleanupErr) ? cleanupErr.message : String(cleanupErr),
    });
  }
}
