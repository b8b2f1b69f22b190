/**
 * Per-filesystem strategy: how to make, check, mount and grow it. One small map instead
 * of switches on fs type strings across the code.
 */
import type { FsType } from '../domain/volume-context';

export interface FilesystemTools {
  /** mkfs argv. ext4 needs -F for a whole device; mkfs.xfs is left to refuse an existing fs. */
  readonly mkfs: (device: string) => string[];
  /** Preen check argv, or undefined when mounting is the check (XFS replays its log). */
  readonly fsck: ((device: string) => string[]) | undefined;
  /** Highest fsck exit code that still means "clean or fixed" (fsck(8): 1 = corrected). */
  readonly fsckMaxOk: number;
  /** Options always added on mount (XFS `nouuid`: clones share a UUID). */
  readonly mountOptions: readonly string[];
  /** Online grow argv: resize2fs takes the device, xfs_growfs the mount point. */
  readonly grow: (device: string, mountPoint: string) => string[];
}

export const FILESYSTEMS: Readonly<Record<FsType, FilesystemTools>> = Object.freeze({
  ext4: {
    mkfs: (device) => ['mkfs.ext4', '-F', '-q', '-m0', device],
    fsck: (device) => ['fsck.ext4', '-p', device],
    fsckMaxOk: 1,
    mountOptions: [],
    grow: (device) => ['resize2fs', device],
  },
  xfs: {
    mkfs: (device) => ['mkfs.xfs', '-q', device],
    fsck: undefined,
    fsckMaxOk: 0,
    mountOptions: ['nouuid'],
    grow: (_device, mountPoint) => ['xfs_growfs', mountPoint],
  },
});
