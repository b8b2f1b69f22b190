/**
 * Pre-checks before taking over a Go rds-csi installation (`--compat=rds-csi-go`), from the
 * RDS's disk and file lists alone. Pure: what the takeover would adopt, what it will leave
 * alone, and what needs a decision first (docs/migration-from-go-driver.md).
 */
import { goDiskKind } from '../domain/compat/ownership';
import { isGoVolumeId } from '../domain/compat/ids';
import { isOwnVolumeFile } from '../domain/ids';
import { parseSnapshotPath } from '../domain/snapshots';
import type { Disk, FileEntry } from '../routeros/ports';
import type { CheckResult } from './report';
import { pass, warn } from './report';

const some = (names: readonly string[]): string =>
  names.slice(0, 5).join(', ') + (names.length > 5 ? `, and ${names.length - 5} more` : '');

export function goTakeoverChecks(
  disks: readonly Disk[],
  files: readonly FileEntry[],
  basePath: string,
): CheckResult[] {
  const under = (p: string): boolean => p.replace(/^\/+/, '').startsWith(basePath + '/');
  const kind = (d: Disk) => goDiskKind(d, basePath);
  const volumes = disks.filter((d) => kind(d) === 'volume');
  const snapshots = disks.filter((d) => kind(d) === 'snapshot');
  const ours = (d: Disk): boolean =>
    isOwnVolumeFile(d.filePath, d.slot) || parseSnapshotPath(d.filePath) !== undefined;
  const foreign = disks.filter((d) => under(d.filePath) && !kind(d) && !ours(d));
  const outside = disks.filter((d) => isGoVolumeId(d.slot) && !under(d.filePath));
  const exportedSnaps = snapshots.filter((d) => d.nvmeExport);
  const used = new Set(disks.map((d) => d.filePath.replace(/^\/+/, '')));
  const leftovers = files.filter((f) => f.path.endsWith('.img') && !used.has(f.path));
  const r: CheckResult[] = [];
  r.push({
    name: 'Go volumes to adopt',
    ...(volumes.length > 0
      ? pass(`${volumes.length} under ${basePath}`)
      : warn(
          `no Go volume (pvc-<uuid> with <dir>/<slot>.img) under ${basePath}`,
          'set --rds-pool-path (chart rds.basePath) to the Go -rds-volume-base-path',
        )),
  });
  r.push({ name: 'Go snapshots to adopt', ...pass(`${snapshots.length} under ${basePath}`) });
  if (exportedSnaps.length > 0) {
    r.push({
      name: 'exported Go snapshots',
      ...warn(
        `NVMe/TCP-exported snapshot disks: ${some(exportedSnaps.map((d) => d.slot))}`,
        'snapshots must not be connectable: /disk set [find slot=<id>] nvme-tcp-export=no',
      ),
    });
  }
  r.push({
    name: 'other disks left alone',
    ...pass(
      foreign.length === 0
        ? `none under ${basePath}`
        : `${foreign.length} never touched: ${some(foreign.map((d) => d.slot))}`,
    ),
  });
  if (outside.length > 0) {
    r.push({
      name: 'Go volumes outside the pool path',
      ...warn(
        `not adopted: ${some(outside.map((d) => `${d.slot} (${d.filePath})`))}`,
        'use a --rds-pool-path that contains every Go volume directory, or leave these to the Go driver',
      ),
    });
  }
  if (leftovers.length > 0) {
    r.push({
      name: 'image files without a disk',
      ...warn(
        `${leftovers.length}: ${some(leftovers.map((f) => f.path))}`,
        'check and remove them by hand (/file remove); the driver removes only files of volumes it deletes',
      ),
    });
  }
  return r;
}
