/**
 * CreateSnapshot, DeleteSnapshot, ListSnapshots, GetSnapshot. A snapshot is an unexported
 * copy of the source disk whose file name records its source and creation time
 * (src/domain/snapshots.ts). Contract:
 * - Idempotent by name: same name + same source returns the existing snapshot; same name
 *   + another source is ALREADY_EXISTS.
 * - Before copying, files of earlier interrupted attempts for this snapshot id are removed
 *   (their names carry another creation time, so nothing else would ever remove them).
 * - ready_to_use is true: the port verifies the copy before returning.
 * - Delete is idempotent and also removes a file whose disk is already gone. A disk with
 *   the id that is not a snapshot of this driver is FAILED_PRECONDITION, never deleted.
 * - In compatibility mode the Go driver's snapshots are listed, restored from and deleted
 *   too (src/controller/compat/go-snapshots.ts).
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
import {
  goSnapshotView,
  isGoSnapshotHandle,
  looksLikeGoSnapshot,
  withGoTimes,
} from './compat/go-snapshots';
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
    return goSnapshotView(deps, d);
  }
  return {
    snapshotId: d.slot,
    sourceVolumeId: meta.sourceVolumeId,
    sizeBytes: d.sizeBytes,
    createdMs: meta.createdMs,
    readyToUse: true,
  };
}

/** Whether the disk is a snapshot this driver manages (restore sources must be). */
export function isSnapshotDisk(deps: ControllerDeps, d: Disk): boolean {
  return viewOf(deps, d) !== undefined;
}

/** A snapshot id this driver answers for: its own form, or a Go handle in compatibility mode. */
export function isKnownSnapshotId(deps: ControllerDeps, id: string): boolean {
  return isSnapshotId(id) || isGoSnapshotHandle(deps, id);
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
  if (!isKnownSnapshotId(deps, snapshotId)) return undefined;
  const disk = await deps.volumes.get(snapshotId, { signal: call.signal });
  const view = disk && viewOf(deps, disk);
  return view && (await withGoTimes(deps, [view], call))[0];
}

/**
 * Snapshot parameters: only the snapshotter's `csi.storage.k8s.io/*` keys are accepted;
 * in compatibility mode every key is, as the Go driver ignored them (`volumePath`,
 * `btrfsFSLabel`).
 */
export function checkSnapshotParams(
  deps: ControllerDeps,
  params: Readonly<Record<string, string>>,
): void {
  if (deps.config.compat !== undefined) return;
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
  // A Go handle outside compatibility mode is asked about, so that its disk is refused
  // (FAILED_PRECONDITION) instead of answered OK while it stays on the RDS.
  if (!isKnownSnapshotId(deps, snapshotId) && !looksLikeGoSnapshot(snapshotId)) return;
  const o = { signal: call.signal };
  const disk = await deps.volumes.get(snapshotId, o);
  if (disk !== undefined) {
    if (viewOf(deps, disk) === undefined) {
      const hint = looksLikeGoSnapshot(snapshotId)
        ? ' (a snapshot of the Go rds-csi driver: see --compat)'
        : '';
      throw new FailedPreconditionError(
        `disk ${snapshotId} is not a snapshot of this driver${hint}; refusing to delete it`,
        { snapshotId },
      );
    }
    // The file to remove is the one the disk names, not a recomputed path.
    await deps.volumes.delete(snapshotId, disk.filePath, o);
    return;
  }
  if (!isKnownSnapshotId(deps, snapshotId)) return;
  const goFile = `${snapshotId}.img`;
  await removeLeftoverFiles(deps, call, deps.config.poolBasePath, (p) =>
    isSnapshotId(snapshotId) ? isSnapshotFileOf(p, snapshotId) : p.endsWith('/' + goFile),
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
    views = await withGoTimes(
      deps,
      (await deps.volumes.list('snap-', o))
        .map((d) => viewOf(deps, d))
        .filter((v): v is SnapshotView => v !== undefined),
      call,
    );
  }
  if (filter.sourceVolumeId !== '') {
    views = views.filter((v) => v.sourceVolumeId === filter.sourceVolumeId);
  }
  const page = paginate(
    views,
    (v) => v.snapshotId,
    maxEntries,
    startingToken,
    (t) => isKnownSnapshotId(deps, t),
  );
  return { entries: [...page.items], nextToken: page.nextToken };
}
