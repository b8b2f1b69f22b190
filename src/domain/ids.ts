/**
 * Volume and snapshot identifiers. An id is used as the RDS disk slot, in the backing file
 * name and in the subsystem NQN, so every id this module returns matches the slot grammar
 * `[a-z][a-z0-9-]{0,99}` and nothing from a request reaches the CLI unchecked. Pure.
 *
 * - Volume id from a CreateVolume name: a `pvc-<uuid>` name (as the external-provisioner
 *   makes them) is used as is, lower-cased; any other name becomes `vol-` + the first 32 hex
 *   digits (128 bits) of SHA-256 of the name, so the mapping is deterministic and a retry
 *   with the same name finds the same volume.
 * - Snapshot id from a CreateSnapshot name: always `snap-` + 32 hex digits of SHA-256 of
 *   the name (snapshot names are `snapshot-<uuid>`; hashing keeps them distinct from volumes).
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from './errors';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const PVC_ID = new RegExp(`^pvc-${UUID}$`);
const HASHED_VOLUME_ID = /^vol-[0-9a-f]{32}$/;
const SNAPSHOT_ID = /^snap-[0-9a-f]{32}$/;
/** CSI names are at most 128 bytes in Kubernetes; allow headroom, refuse abuse. */
const MAX_NAME_BYTES = 1024;

export const NQN_PREFIX = 'nqn.2000-02.com.mikrotik:';

function hash32(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 32);
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(`${what} name is required`);
  }
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new InvalidArgumentError(`${what} name is longer than ${MAX_NAME_BYTES} bytes`);
  }
  return name;
}

export function volumeIdFromName(name: unknown): string {
  const n = checkName(name, 'volume');
  const lower = n.toLowerCase();
  return PVC_ID.test(lower) ? lower : `vol-${hash32(n)}`;
}

export function snapshotIdFromName(name: unknown): string {
  return `snap-${hash32(checkName(name, 'snapshot'))}`;
}

/** Whether `id` is a volume id this driver could have made. */
export function isVolumeId(id: unknown): id is string {
  return typeof id === 'string' && (PVC_ID.test(id) || HASHED_VOLUME_ID.test(id));
}

export function isSnapshotId(id: unknown): id is string {
  return typeof id === 'string' && SNAPSHOT_ID.test(id);
}

/** Subsystem NQN of a volume's export (lower case, well under 223 bytes). */
export function volumeNqn(volumeId: string): string {
  return NQN_PREFIX + volumeId;
}

/**
 * Ownership marker in a volume's backing file name: `<id>.rdscsi.img`. The RDS keeps a
 * disk's `file-path` for its whole life and `copy-from` takes the new disk's path from the
 * command, so every disk this driver makes carries it and no other software's disk does
 * (the Go driver and hand-made disks use `<name>.img`). A `comment=` was not chosen: the
 * `/disk` reference documents no comment property, nor whether `copy-from` copies one.
 */
export const VOLUME_FILE_SUFFIX = '.rdscsi.img';

/** Backing file of a volume: `<pool>/<id>.rdscsi.img` (pool without leading or trailing `/`). */
export function volumeFilePath(pool: string, volumeId: string): string {
  return `${pool}/${volumeId}${VOLUME_FILE_SUFFIX}`;
}

/** Whether `filePath` is the marked backing file of volume `volumeId` (in any directory). */
export function isOwnVolumeFile(filePath: string, volumeId: string): boolean {
  return filePath.slice(filePath.lastIndexOf('/') + 1) === volumeId + VOLUME_FILE_SUFFIX;
}
