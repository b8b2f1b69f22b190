import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The package root: the nearest directory above this file with our package.json. Works
 * from src/ (tests compiled in place) and from dist/src/ (the build) alike.
 */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'rds-csi') return dir;
    }
    if (dirname(dir) === dir) throw new Error(`package root of rds-csi not found above ${from}`);
  }
}

export interface BuildInfo {
  readonly version: string;
  readonly commit: string;
}

/**
 * Version from package.json; the commit from BUILD_COMMIT baked into the image at build
 * time (a file written by the Dockerfile), or 'unknown' for a source checkout.
 */
export function buildInfo(root: string = packageRoot()): BuildInfo {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const commitFile = join(root, 'BUILD_COMMIT');
  const commit = existsSync(commitFile) ? readFileSync(commitFile, 'utf8').trim() : 'unknown';
  return { version: pkg.version, commit: commit || 'unknown' };
}
