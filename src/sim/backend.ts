/**
 * Where the simulated device's disks go. Every backend keeps the images as sparse files in
 * `poolDir` (the store does the file work); a backend decides what "exported" means:
 * nothing for `files`, a kernel NVMe/TCP subsystem for `nvmet`.
 */
import type { SimDisk } from './model';

export interface SimBackend {
  readonly kind: string;
  /** Host directory that holds the pool's files (the pool mount point maps onto it). */
  readonly poolDir: string;
  /** Make the exports mirror `disks` exactly (called on start and on every restart). */
  sync(disks: readonly SimDisk[]): Promise<void>;
  /**
   * One disk changed: `before` undefined = added, `after` undefined = removed. Called after
   * the image file exists at its final size, so a grown file can be revalidated.
   */
  apply(before: SimDisk | undefined, after: SimDisk | undefined): Promise<void>;
  /** Release what the backend holds (exports stay for `sync` to reconcile on restart). */
  close(): Promise<void>;
}

/** The default: images only, no network export. */
export function createFilesBackend(opts: { poolDir: string }): SimBackend {
  return {
    kind: 'files',
    poolDir: opts.poolDir,
    sync: () => Promise.resolve(),
    apply: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/** Host NQNs in an allow-list value: separated by commas and/or whitespace. */
export function allowedHosts(value: string): string[] {
  return value.split(/[\s,]+/).filter((h) => h !== '');
}
