/**
 * What the Go driver left on the RDS, recognised by what it always did and nothing looser:
 * a `pvc-<uuid>` (volume) or Go snapshot handle slot whose file is exactly
 * `<dir>/<slot>.img` under the pool base path. Any other disk (e.g. `backup-disk` in the
 * same directory) is not the Go driver's. Pure.
 */
import { isGoVolumeId, parseGoSnapshotId } from './ids';

export type GoDiskKind = 'volume' | 'snapshot';

/** The kind of Go disk this is, or undefined. `basePath` has no leading or trailing `/`. */
export function goDiskKind(
  d: { readonly slot: string; readonly filePath: string },
  basePath: string,
): GoDiskKind | undefined {
  const path = d.filePath.replace(/^\/+/, '');
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name !== `${d.slot}.img` || !path.startsWith(basePath + '/')) return undefined;
  if (isGoVolumeId(d.slot)) return 'volume';
  return parseGoSnapshotId(d.slot) !== undefined ? 'snapshot' : undefined;
}
