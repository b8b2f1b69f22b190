/**
 * CreateSnapshot, DeleteSnapshot, ListSnapshots, GetSnapshot. A snapshot is an unexported
 * copy of the source disk whose file name records its source and creation time
 * (src/domain/snapshots.ts). Contract:
 * - Idempotent by name: same name + same source returns the existing snapshot; same name
 *   + another source is ALREADY_EXISTS.
 * - Before copying, files of earlier interrupted attempts for this snapshot id are removed
 *   (their names carry another creation time, so nothing else would ever remove them).
 * - ready_to_use is true: the port verifies the copy before returning.
 * - Delete is idempotent and also removes a file whose disk is already gone.
 */
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from '../domain/errors';
import { isSnapshotId, isVolumeId } from '../domain/ids';
import { PROVISIONER_PREFIX } from '../domain/params';
import {
  isSnapshotFileOf,
  parseSnapshotPath,
  snapshotDir,
  snapshotFilePath,
} from '../domain/snapshots';
import type { Disk } from '../routeros/ports';
import type { Call, ControllerDeps } from './deps';
import { paginate } from './paging';
import { dirname, removeLeftoverFiles, underBase } from './pool';
import { requireVolume } from './volume-queries';

export interface SnapshotView {
  readonly snapshotId: string;
  readonly sourceVolumeId: string;
  readonly sizeBytes: number;
  readonly createdMs: number;
  readonly readyToUse: boolean;
}

function viewOf(deps: ControllerDeps, d: Disk): SnapshotView | undefined {
  const meta = parseSnapshotPath(d.filePath);
  if (meta === undefined || meta.snapshotId !== d.slot || !underBase(deps, d.filePath)) {
    return undefined;
  }
  return {
    snapshotId: d.slot,
    sourceVolumeId: meta.sourceVolumeId,
    sizeBytes: d.sizeBytes,
    createdMs: meta.createdMs,
    readyToUse: true,
  };
}

/**
 * The snapshot, or undefined when the id is malformed (the RDS is not asked), no disk has
 * it, or the disk is not one of this driver's snapshots.
 */
async function findSnapshot(
  deps: ControllerDeps,
  snapshotId: string,
  call: Call,
): Promise<SnapshotView | undefined> {
  if (!isSnapshotId(snapshotId)) return undefined;
  const disk = await deps.volumes.get(snapshotId, { signal: call.signal });
  return disk && viewOf(deps, disk);
}

/** Snapshot parameters: only the snapshotter's `csi.storage.k8s.io/*` keys are accepted. */
export function checkSnapshotParams(params: Readonly<Record<string, string>>): void {
  const unknown = Object.keys(params).filter((k) => !k.startsWith(PROVISIONER_PREFIX));
  if (unknown.length > 0) {
    const names = unknown.sort().map((k) => `"${k.slice(0, 64)}"`);
    throw new InvalidArgumentError(`unknown snapshot parameter ${names.join(', ')}`);
  }
}

export async function createSnapshot(
  deps: ControllerDeps,
  snapshotId: string,
  sourceVolumeId: string,
  call: Call,
): Promise<SnapshotView> {
  const o = { signal: call.signal };
  const existing = await deps.volumes.get(snapshotId, o);
  if (existing !== undefined) {
    const view = viewOf(deps, existing);
    if (view === undefined) {
      throw new AlreadyExistsError(`a disk named ${snapshotId} exists and is not a snapshot`, {
        snapshotId,
      });
    }
    if (view.sourceVolumeId !== sourceVolumeId) {
      throw new AlreadyExistsError(
        `snapshot ${snapshotId} already exists for another source volume (${view.sourceVolumeId})`,
        { snapshotId },
      );
    }
    return view;
  }
  const source = await requireVolume(deps, sourceVolumeId, call);
  const pool = dirname(source.filePath);
  await removeLeftoverFiles(deps, call, snapshotDir(pool), (p) => isSnapshotFileOf(p, snapshotId));
  const disk = await deps.volumes.copy(
    {
      sourceSlot: sourceVolumeId,
      slot: snapshotId,
      filePath: snapshotFilePath(pool, snapshotId, sourceVolumeId, deps.now()),
    },
    o,
  );
  const view = viewOf(deps, disk);
  if (view === undefined) {
    throw new FailedPreconditionError(`snapshot ${snapshotId} was copied to an unexpected path`);
  }
  return view;
}

export async function deleteSnapshot(
  deps: ControllerDeps,
  snapshotId: string,
  call: Call,
): Promise<void> {
  if (!isSnapshotId(snapshotId)) return;
  const o = { signal: call.signal };
  const disk = await deps.volumes.get(snapshotId, o);
  if (disk !== undefined) {
    if (viewOf(deps, disk) === undefined) {
      throw new FailedPreconditionError(
        `disk ${snapshotId} is not a snapshot of this driver; refusing to delete it`,
        { snapshotId },
      );
    }
    await deps.volumes.delete(snapshotId, disk.filePath, o);
    return;
  }
  await removeLeftoverFiles(deps, call, deps.config.poolBasePath, (p) =>
    isSnapshotFileOf(p, snapshotId),
  );
}

export async function getSnapshot(
  deps: ControllerDeps,
  snapshotId: string,
  call: Call,
): Promise<SnapshotView> {
  const view = await findSnapshot(deps, snapshotId, call);
  if (!view) throw new NotFoundError(`snapshot ${snapshotId.slice(0, 128)} does not exist`);
  return view;
}

export interface SnapshotFilter {
  readonly snapshotId: string;
  readonly sourceVolumeId: string;
}

/**
 * Filters by snapshot id and/or source volume id ('' = any). An id of the wrong shape
 * matches nothing (an empty list, not an error), as the CSI spec asks.
 */
export async function listSnapshots(
  deps: ControllerDeps,
  filter: SnapshotFilter,
  maxEntries: number,
  startingToken: string,
  call: Call,
): Promise<{ entries: SnapshotView[]; nextToken: string }> {
  const o = { signal: call.signal };
  let views: SnapshotView[];
  if (filter.snapshotId !== '') {
    const v = await findSnapshot(deps, filter.snapshotId, call);
    views = v ? [v] : [];
  } else if (filter.sourceVolumeId !== '' && !isVolumeId(filter.sourceVolumeId)) {
    views = [];
  } else {
    views = (await deps.volumes.list('snap-', o))
      .map((d) => viewOf(deps, d))
      .filter((v): v is SnapshotView => v !== undefined);
  }
  if (filter.sourceVolumeId !== '') {
    views = views.filter((v) => v.sourceVolumeId === filter.sourceVolumeId);
  }
  const page = paginate(views, (v) => v.snapshotId, maxEntries, startingToken, isSnapshotId);
  return { entries: [...page.items], nextToken: page.nextToken };
}
