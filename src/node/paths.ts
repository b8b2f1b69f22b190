/** Pure checks on the paths kubelet hands the node service. */
import path from 'node:path';
import { InvalidArgumentError, NotFoundError } from '../domain/errors';

/**
 * `p` must be an absolute, normalised path strictly under `root` (the kubelet directory):
 * the node runs as root with the host's filesystem, so a path elsewhere is refused.
 */
export function requirePathUnder(p: string | undefined, root: string, field: string): string {
  if (p === undefined || p === '') throw new InvalidArgumentError(`${field} is required`);
  if (!path.isAbsolute(p) || p.includes('\0')) {
    throw new InvalidArgumentError(`${field} must be an absolute path`);
  }
  const norm = path.resolve(p);
  const base = path.resolve(root);
  if (norm !== p.replace(/\/+$/, '') || !norm.startsWith(`${base}/`)) {
    throw new InvalidArgumentError(`${field} must be a normalised path under ${base}`);
  }
  return norm;
}

/**
 * The path of a volume the node staged or published earlier (NodeGetVolumeStats,
 * NodeExpandVolume). Empty is a missing required field: INVALID_ARGUMENT. Any other path
 * the node never stages or publishes at (relative, not normalised, outside `root`) holds
 * no volume of this node, exactly like a path that does not exist: NOT_FOUND, as the spec
 * asks of these RPCs. Nothing outside `root` is looked at.
 */
export function volumePathUnder(p: string | undefined, root: string, field: string): string {
  if (p === undefined || p === '') throw new InvalidArgumentError(`${field} is required`);
  try {
    return requirePathUnder(p, root, field);
  } catch (err) {
    throw new NotFoundError(
      `${field} ${JSON.stringify(p)} holds no volume of this node`,
      {},
      {
        cause: err,
      },
    );
  }
}
