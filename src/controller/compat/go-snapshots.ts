/**
 * The Go driver's snapshots, in compatibility mode: unexported `/disk` copies with slot =
 * handle and file `<dir>/<handle>.img` (src/domain/compat/ids.ts lists the handle forms).
 * The RDS prints no creation time for a disk, so a snapshot's time is its file's
 * last-modified (whole seconds), or 0 when the file cannot be seen. Its source volume is
 * known only for v0.11.0 handles, which name it. Btrfs-era handles (v0.10.x) never had a
 * `/disk` entry: they are not found, and deleting one is success.
 */
import { parseGoSnapshotId } from '../../domain/compat/ids';
import type { Disk } from '../../routeros/ports';
import type { Call, ControllerDeps } from '../deps';
import type { SnapshotView } from '../snapshots';
import { isAdoptedGoSnapshot } from './ownership';

/** Whether `id` is a Go snapshot handle this controller answers for. */
export function isGoSnapshotHandle(deps: ControllerDeps, id: string): boolean {
  return deps.config.compat !== undefined && parseGoSnapshotId(id) !== undefined;
}

/** Whether `id` has the shape of a Go snapshot handle (in any mode). */
export function looksLikeGoSnapshot(id: string): boolean {
  return parseGoSnapshotId(id) !== undefined;
}

export function goSnapshotView(deps: ControllerDeps, d: Disk): SnapshotView | undefined {
  if (!isAdoptedGoSnapshot(deps, d)) return undefined;
  return {
    snapshotId: d.slot,
    sourceVolumeId: parseGoSnapshotId(d.slot)?.sourceVolumeId ?? '',
    sizeBytes: d.sizeBytes,
    createdMs: 0,
    readyToUse: true,
  };
}

/**
 * Fill in the creation time of Go snapshots from their files' last-modified (one `/file
 * print` for the whole list; nothing is asked when no Go snapshot is in it).
 */
export async function withGoTimes(
  deps: ControllerDeps,
  views: readonly SnapshotView[],
  call: Call,
): Promise<SnapshotView[]> {
  const isGo = (v: SnapshotView): boolean => isGoSnapshotHandle(deps, v.snapshotId);
  if (!views.some(isGo)) return [...views];
  const files = await deps.files.list(deps.config.poolBasePath, { signal: call.signal });
  const times = new Map<string, number>();
  for (const f of files) {
    const name = f.path.slice(f.path.lastIndexOf('/') + 1);
    if (f.lastModified !== undefined && name.endsWith('.img')) {
      times.set(name.slice(0, -4), f.lastModified.getTime());
    }
  }
  return views.map((v) => (isGo(v) ? { ...v, createdMs: times.get(v.snapshotId) ?? 0 } : v));
}
