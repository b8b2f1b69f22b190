import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

type PackageJson = { readonly name?: string; readonly version: string };

/** Parsed package.json files by directory; they do not change while the process runs. */
const packages = new Map<string, PackageJson>();
const roots = new Map<string, string>();

function readPackage(dir: string): PackageJson {
  let pkg = packages.get(dir);
  if (pkg === undefined) {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
    packages.set(dir, pkg);
  }
  return pkg;
}

/**
 * The package root: the nearest directory above this file with our package.json. Works
 * from src/ (tests compiled in place) and from dist/src/ (the build) alike. Found once
 * per starting directory.
 */
export function packageRoot(from: string = __dirname): string {
  const known = roots.get(from);
  if (known !== undefined) return known;
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && readPackage(dir).name === 'rds-csi') {
      roots.set(from, dir);
      return dir;
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
  const pkg = readPackage(root);
  const commitFile = join(root, 'BUILD_COMMIT');
  const commit = existsSync(commitFile) ? readFileSync(commitFile, 'utf8').trim() : 'unknown';
  return { version: pkg.version, commit: commit || 'unknown' };
}
