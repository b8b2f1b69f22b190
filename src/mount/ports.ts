/**
 * The Mounter port: everything the node use-cases need from filesystems and mounts. The
 * Linux implementation (linux.ts) runs mount(8), blkid, mkfs, fsck and the grow tools
 * through one argv runner and reads <procRoot>/self/mountinfo; tests use a fake.
 *
 * Errors: FailedPreconditionError for a missing tool or a mount that stays busy,
 * DeadlineExceededError for a tool past its timeout, InternalError for a tool that failed
 * (its first stderr line is in the message), CancelledError when the signal fired.
 */
import type { FsType } from '../domain/volume-context';
import type { MountEntry } from './mountinfo';

export type { MountEntry } from './mountinfo';

/**
 * What blkid says is on a device. Only `empty` allows formatting: it means blkid ran, looked
 * and positively found nothing. `ambiguous` is every other outcome (tool error, timeout,
 * unreadable device, multiple signatures, odd output) and must never lead to mkfs.
 */
export type ProbeResult =
  | { readonly kind: 'filesystem'; readonly fsType: string }
  /** Something that is not a filesystem (partition table, RAID member, LUKS...). */
  | { readonly kind: 'other'; readonly detail: string }
  | { readonly kind: 'empty' }
  | { readonly kind: 'ambiguous'; readonly reason: string };

export interface FsStats {
  readonly totalBytes: number;
  readonly availableBytes: number;
  readonly usedBytes: number;
  readonly totalInodes: number;
  readonly freeInodes: number;
  readonly usedInodes: number;
}

/** How a path responds to stat(): 'stale' covers ESTALE, EIO and ENOTCONN. */
export type PathState = 'ok' | 'missing' | 'stale';

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface Mounter {
  probe(device: string, opts?: CallOptions): Promise<ProbeResult>;
  /** mkfs; callers must have seen probe() === 'empty' first. Not cancellable once started. */
  format(device: string, fsType: FsType): Promise<void>;
  /** Preen-mode check before mounting; rejects when the filesystem has uncorrected errors. */
  check(device: string, fsType: FsType): Promise<void>;
  mount(
    device: string,
    target: string,
    fsType: FsType,
    options: readonly string[],
    opts?: CallOptions,
  ): Promise<void>;
  /** Bind-mounts `source` (a directory or a device node) on `target`; then read-only if asked. */
  bind(source: string, target: string, readonly: boolean, opts?: CallOptions): Promise<void>;
  /** One umount of the top-most mount at `target`. */
  unmount(target: string, opts?: CallOptions): Promise<void>;
  /** The mount table of this process's mount namespace. */
  mounts(): Promise<readonly MountEntry[]>;
  /** Grows the mounted filesystem to the device size (online). */
  grow(device: string, mountPoint: string, fsType: FsType): Promise<void>;
  /** The filesystem's size from its superblock, or undefined when unreadable/unknown. */
  filesystemSize(device: string, fsType: FsType): Promise<number | undefined>;
  statfs(path: string): Promise<FsStats>;
  /** 'major:minor' of a block device node, or undefined when absent / not a block device. */
  deviceNumber(devicePath: string): Promise<string | undefined>;
  pathState(path: string): Promise<PathState>;
}
