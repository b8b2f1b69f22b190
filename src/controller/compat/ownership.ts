/**
 * Which disks on the RDS belong to this driver. Outside compatibility mode only disks
 * carrying the ownership marker (src/domain/ids.ts, src/domain/snapshots.ts) are ours. In
 * compatibility mode the Go driver's disks are adopted too, recognised by what that driver
 * always did and nothing looser: a `pvc-<uuid>` / `snap-<uuid>[-at-<hex>]` slot whose file
 * is exactly `<dir>/<slot>.img` under the pool base path. Any other disk in the same
 * directory (e.g. `backup-disk`) is never ours.
 */
import { isGoVolumeId, parseGoSnapshotId } from '../../domain/compat/ids';
import type { Disk } from '../../routeros/ports';
import type { ControllerDeps } from '../deps';

function underBasePath(deps: ControllerDeps, path: string): boolean {
  return path.replace(/^\/+/, '').startsWith(deps.config.poolBasePath + '/');
}

/** `<dir>/<slot>.img` under the base path: the Go driver's file layout. */
function goFileOf(deps: ControllerDeps, d: Disk): boolean {
  const name = d.filePath.slice(d.filePath.lastIndexOf('/') + 1);
  return name === `${d.slot}.img` && underBasePath(deps, d.filePath);
}

/** A Go volume disk this controller adopts (compatibility mode only). */
export function isAdoptedGoVolume(deps: ControllerDeps, d: Disk): boolean {
  return deps.config.compat !== undefined && isGoVolumeId(d.slot) && goFileOf(deps, d);
}

/** A Go snapshot disk this controller adopts (compatibility mode only). */
export function isAdoptedGoSnapshot(deps: ControllerDeps, d: Disk): boolean {
  return (
    deps.config.compat !== undefined && parseGoSnapshotId(d.slot) !== undefined && goFileOf(deps, d)
  );
}
