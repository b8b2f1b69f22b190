/**
 * Volume capabilities in domain terms: the CSI access modes (same names as the CSI enum)
 * and the rules this driver applies to them. Pure; no proto types.
 */
import { InvalidArgumentError } from './errors';

export type AccessMode =
  | 'SINGLE_NODE_WRITER'
  | 'SINGLE_NODE_READER_ONLY'
  | 'MULTI_NODE_READER_ONLY'
  | 'MULTI_NODE_SINGLE_WRITER'
  | 'MULTI_NODE_MULTI_WRITER'
  | 'SINGLE_NODE_SINGLE_WRITER'
  | 'SINGLE_NODE_MULTI_WRITER';

export type AccessType = 'mount' | 'block';

export interface Capability {
  readonly accessType: AccessType;
  readonly accessMode: AccessMode;
  /** Filesystem requested by a mount capability ('' = the StorageClass default). */
  readonly fsType: string;
  readonly mountFlags: readonly string[];
}

/** Modes that let only one node use the volume at a time. */
export const SINGLE_NODE_MODES: ReadonlySet<AccessMode> = new Set<AccessMode>([
  'SINGLE_NODE_WRITER',
  'SINGLE_NODE_READER_ONLY',
  'SINGLE_NODE_SINGLE_WRITER',
  'SINGLE_NODE_MULTI_WRITER',
]);

/** Modes in which nobody writes: the volume is published read-only everywhere. */
export const READ_ONLY_MODES: ReadonlySet<AccessMode> = new Set<AccessMode>([
  'SINGLE_NODE_READER_ONLY',
  'MULTI_NODE_READER_ONLY',
]);

export function isMultiNode(mode: AccessMode): boolean {
  return !SINGLE_NODE_MODES.has(mode);
}

/**
 * Whether the driver supports a capability, and why not. Rules:
 * - every single-node mode, for mount and block;
 * - MULTI_NODE_MULTI_WRITER only for block: the volume is shared by two nodes only during
 *   a KubeVirt live migration, and two kernels mounting one ext4/xfs would corrupt it;
 * - MULTI_NODE_READER_ONLY for block and mount: nobody writes, so every node sees a
 *   consistent image (mounts are forced read-only by the node plugin);
 * - MULTI_NODE_SINGLE_WRITER is refused: the driver cannot keep the other nodes from
 *   writing to an NVMe namespace, so "single writer" could not be enforced.
 */
export function capabilityProblem(c: Capability): string | undefined {
  if (c.accessMode === 'MULTI_NODE_MULTI_WRITER' && c.accessType === 'mount') {
    return (
      'MULTI_NODE_MULTI_WRITER (ReadWriteMany) is only supported for raw block volumes: ' +
      'a filesystem mounted read-write by two nodes at once would be corrupted'
    );
  }
  if (c.accessMode === 'MULTI_NODE_SINGLE_WRITER') {
    return 'MULTI_NODE_SINGLE_WRITER is not supported: a single writer cannot be enforced on NVMe/TCP';
  }
  return undefined;
}

export function assertSupported(caps: readonly Capability[]): void {
  for (const c of caps) {
    const problem = capabilityProblem(c);
    if (problem !== undefined) throw new InvalidArgumentError(problem);
  }
}

/** The wire shape of a CSI VolumeCapability, structurally (no proto import here). */
export interface RawCapability {
  readonly access_mode?: { readonly mode?: string | number } | null;
  readonly access_type?: 'mount' | 'block';
  readonly mount?: { readonly fs_type?: string; readonly mount_flags?: readonly string[] } | null;
  readonly block?: object | null;
}

const MODES: ReadonlySet<string> = new Set<AccessMode>([
  ...SINGLE_NODE_MODES,
  'MULTI_NODE_READER_ONLY',
  'MULTI_NODE_SINGLE_WRITER',
  'MULTI_NODE_MULTI_WRITER',
]);

/** Parse one capability; INVALID_ARGUMENT when the access mode or type is missing. */
export function parseCapability(raw: RawCapability | null | undefined, what: string): Capability {
  if (raw === null || raw === undefined) throw new InvalidArgumentError(`${what} is required`);
  const mode = raw.access_mode?.mode;
  if (typeof mode !== 'string' || !MODES.has(mode)) {
    throw new InvalidArgumentError(`${what}.access_mode is missing or unknown`);
  }
  const accessType = raw.access_type ?? (raw.block ? 'block' : raw.mount ? 'mount' : undefined);
  if (accessType !== 'mount' && accessType !== 'block') {
    throw new InvalidArgumentError(`${what} must have an access type (mount or block)`);
  }
  return {
    accessType,
    accessMode: mode as AccessMode,
    fsType: accessType === 'mount' ? (raw.mount?.fs_type ?? '') : '',
    mountFlags: accessType === 'mount' ? [...(raw.mount?.mount_flags ?? [])] : [],
  };
}

export function parseCapabilities(
  raw: readonly RawCapability[] | null | undefined,
  what = 'volume_capabilities',
): Capability[] {
  if (!raw || raw.length === 0) throw new InvalidArgumentError(`${what} is required`);
  return raw.map((c, i) => parseCapability(c, `${what}[${i}]`));
}
