/**
 * Snapshot metadata kept in the backing file's name, because the RDS prints neither the
 * source nor a reliable creation time for a copied disk:
 *
 *   <pool>/snapshots/<snapshot id>.<source volume id>.<creation time, ms since epoch>.img
 *
 * The snapshot is a disk (slot = snapshot id, not exported) made by copying the source
 * disk. Ids never contain '.', so the name splits unambiguously. The creation time is the
 * controller's clock when the snapshot was first attempted (RouterOS' `/file`
 * last-modified has whole seconds and no time zone). Pure.
 */
import { isSnapshotId, isVolumeId } from './ids';

export const SNAPSHOT_DIR = 'snapshots';

export interface SnapshotName {
  readonly snapshotId: string;
  readonly sourceVolumeId: string;
  readonly createdMs: number;
  /** Directory the snapshot lives in (`<pool>/snapshots`). */
  readonly dir: string;
}

export function snapshotDir(pool: string): string {
  return `${pool}/${SNAPSHOT_DIR}`;
}

export function snapshotFilePath(
  pool: string,
  snapshotId: string,
  sourceVolumeId: string,
  createdMs: number,
): string {
  return `${snapshotDir(pool)}/${snapshotId}.${sourceVolumeId}.${Math.trunc(createdMs)}.img`;
}

/** Decode a snapshot's file path (with or without a leading `/`); undefined if not one. */
export function parseSnapshotPath(filePath: string): SnapshotName | undefined {
  const p = filePath.replace(/^\/+/, '');
  const slash = p.lastIndexOf('/');
  if (slash < 0) return undefined;
  const dir = p.slice(0, slash);
  if (!dir.endsWith('/' + SNAPSHOT_DIR)) return undefined;
  const parts = p.slice(slash + 1).split('.');
  if (parts.length !== 4 || parts[3] !== 'img') return undefined;
  const [snapshotId, sourceVolumeId, created] = parts as [string, string, string];
  if (!isSnapshotId(snapshotId) || !isVolumeId(sourceVolumeId) || !/^\d{1,15}$/.test(created)) {
    return undefined;
  }
  return { snapshotId, sourceVolumeId, createdMs: Number(created), dir };
}

/** Whether a file path belongs to the given snapshot id (any source, any time). */
export function isSnapshotFileOf(filePath: string, snapshotId: string): boolean {
  return parseSnapshotPath(filePath)?.snapshotId === snapshotId;
}
