/**
 * Shared helpers over the RouterOS ports: which disks belong to this driver, and the
 * search for leftover files when an operation was interrupted between its steps.
 */
import { isOwnVolumeFile, isVolumeId } from '../domain/ids';
import type { Disk } from '../routeros/ports';
import { isAdoptedGoVolume } from './compat/ownership';
import type { Call, ControllerDeps } from './deps';

/** Whether `path` (no leading `/`) lies under the configured pool base path. */
export function underBase(deps: ControllerDeps, path: string): boolean {
  return path.replace(/^\/+/, '').startsWith(deps.config.poolBasePath + '/');
}

/**
 * A disk this driver manages as a volume: a volume id slot with its marked file under the
 * base (src/domain/ids.ts), or in compatibility mode a Go volume it adopts.
 */
export function isVolumeDisk(deps: ControllerDeps, d: Disk): boolean {
  if (!isVolumeId(d.slot) || !underBase(deps, d.filePath)) return false;
  return isOwnVolumeFile(d.filePath, d.slot) || isAdoptedGoVolume(deps, d);
}

/**
 * Remove files under the pool base path that `match` selects and no disk uses. Used when a
 * disk is already gone but its file may have survived (a delete interrupted between
 * `/disk remove` and `/file remove`, or a failed `/disk add` that left its file).
 * Returns how many were removed.
 */
export async function removeLeftoverFiles(
  deps: ControllerDeps,
  call: Call,
  dir: string,
  match: (path: string) => boolean,
): Promise<number> {
  const o = { signal: call.signal };
  const files = await deps.files.list(dir, o);
  let removed = 0;
  for (const f of files) {
    if (!match(f.path)) continue;
    await deps.files.remove(f.path, o);
    removed += 1;
    call.log.info('removed a leftover file from an interrupted operation', { path: f.path });
    deps.metrics?.orphansCleaned?.inc();
  }
  return removed;
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function dirname(path: string): string {
  const p = path.replace(/^\/+/, '');
  return p.slice(0, Math.max(0, p.lastIndexOf('/')));
}
