/**
 * Which disks on the RDS belong to this driver. Outside compatibility mode only disks
 * carrying the ownership marker (src/domain/ids.ts, src/domain/snapshots.ts) are ours. In
 * compatibility mode the Go driver's disks are adopted too (src/domain/compat/ownership.ts);
 * nothing else in the same directory ever is.
 */
import { goDiskKind } from '../../domain/compat/ownership';
import type { Disk } from '../../routeros/ports';
import type { ControllerDeps } from '../deps';

/** A Go volume disk this controller adopts (compatibility mode only). */
export function isAdoptedGoVolume(deps: ControllerDeps, d: Disk): boolean {
  return deps.config.compat !== undefined && goDiskKind(d, deps.config.poolBasePath) === 'volume';
}

/** A Go snapshot disk this controller adopts (compatibility mode only). */
export function isAdoptedGoSnapshot(deps: ControllerDeps, d: Disk): boolean {
  return deps.config.compat !== undefined && goDiskKind(d, deps.config.poolBasePath) === 'snapshot';
}
