/** Pure checks on the paths kubelet hands the node service. */
import path from 'node:path';
import { InvalidArgumentError } from '../domain/errors';

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
