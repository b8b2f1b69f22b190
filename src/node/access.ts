/**
 * Pure request checks shared by the node RPCs: ids, access types, fs types and mount
 * flags. Inputs are structural (the shape of the CSI messages), so use-cases stay free of
 * generated types.
 */
import { READ_ONLY_MODES } from '../domain/capabilities';
import { InvalidArgumentError } from '../domain/errors';
import {
  DEFAULT_FS_TYPE,
  type FsType,
  SUPPORTED_FS_TYPES,
  isFsType,
} from '../domain/volume-context';
import type { StageAccess } from './stage';

export interface CapabilityShape {
  readonly access_type?: 'mount' | 'block';
  readonly mount?: { readonly fs_type?: string; readonly mount_flags?: readonly string[] } | null;
  readonly access_mode?: { readonly mode?: string | number } | null;
}

/** A mount option: letters, digits and a few separators; no commas, spaces or quotes. */
const MOUNT_FLAG = /^[A-Za-z0-9_.:=/+-]{1,128}$/;
/** Options the node sets itself or that would defeat its guarantees. */
const FORBIDDEN_FLAGS = new Set(['bind', 'rbind', 'remount', 'move', 'loop']);

export function requireId(v: string | undefined, field: string): string {
  if (v === undefined || v === '') throw new InvalidArgumentError(`${field} is required`);
  if (v.length > 256) throw new InvalidArgumentError(`${field} is longer than 256 characters`);
  return v;
}

export function requireCapability(cap: CapabilityShape | null | undefined): CapabilityShape & {
  access_type: 'mount' | 'block';
} {
  if (!cap) throw new InvalidArgumentError('volume_capability is required');
  const kind = cap.access_type;
  if (kind !== 'mount' && kind !== 'block') {
    throw new InvalidArgumentError('volume_capability needs an access type (mount or block)');
  }
  const mode = cap.access_mode?.mode;
  if (mode === undefined || mode === 'UNKNOWN' || mode === 0) {
    throw new InvalidArgumentError('volume_capability.access_mode is required');
  }
  return { ...cap, access_type: kind };
}

export function isReadOnlyMode(cap: CapabilityShape): boolean {
  const readOnly: ReadonlySet<string> = READ_ONLY_MODES;
  return readOnly.has(String(cap.access_mode?.mode));
}

/** The stage access: fs type from the capability, else the volume context, else ext4. */
export function stageAccess(
  cap: CapabilityShape & { access_type: 'mount' | 'block' },
  contextFsType: FsType | undefined,
): StageAccess {
  if (cap.access_type === 'block') return { kind: 'block' };
  const requested = cap.mount?.fs_type ?? '';
  let fsType: FsType = contextFsType ?? DEFAULT_FS_TYPE;
  if (requested !== '') {
    if (!isFsType(requested)) {
      throw new InvalidArgumentError(
        `fs_type "${requested}" is not supported (use ${SUPPORTED_FS_TYPES.join(' or ')})`,
      );
    }
    fsType = requested;
  }
  const flags = [...(cap.mount?.mount_flags ?? [])];
  for (const f of flags) {
    if (!MOUNT_FLAG.test(f) || FORBIDDEN_FLAGS.has(f)) {
      throw new InvalidArgumentError(`mount flag "${f}" is not allowed`);
    }
  }
  if (isReadOnlyMode(cap) && !flags.includes('ro')) flags.push('ro');
  return { kind: 'mount', fsType, flags };
}

/** A decimal int64 string from the wire as a safe number; '' or absent → 0. */
export function bytesField(v: string | undefined, field: string): number {
  if (v === undefined || v === '') return 0;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`${field} must be a non-negative integer`);
  }
  return n;
}
