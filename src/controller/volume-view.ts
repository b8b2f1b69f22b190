/**
 * The volume as the CSI layer returns it: id, size, the volume_context a node needs
 * (nqn, traddr, trsvcid, fsType; plus migrationTimeoutSeconds, hostFencing and the PVC
 * identity for the attachment rules and events) and its accessible topology.
 */
import { isFsType, formatVolumeContext, type FsType } from '../domain/volume-context';
import { pvcFromContext } from '../domain/attachment/params';
import { InvalidArgumentError } from '../domain/errors';
import { volumeNqn } from '../domain/ids';
import {
  MIGRATION_TIMEOUT_RANGE,
  PARAM,
  PVC_NAME_KEY,
  PVC_NAMESPACE_KEY,
  type VolumeParams,
} from '../domain/params';
import { TOPOLOGY_KEY } from '../domain/topology';
import type { Disk } from '../routeros/ports';
import type { PublishVolumeInfo } from './attachments-port';
import type { ControllerConfig } from './deps';

export type ContentSource =
  | { readonly type: 'snapshot'; readonly id: string }
  | { readonly type: 'volume'; readonly id: string };

export interface VolumeView {
  readonly volumeId: string;
  readonly sizeBytes: number;
  readonly context: Readonly<Record<string, string>>;
  readonly topology: Readonly<Record<string, string>>;
  readonly contentSource?: ContentSource;
}

/**
 * The volume's accessible topology: this driver's segment, or none in compatibility mode
 * (the Go driver returned none, so its PVs carry no nodeAffinity, and new ones match).
 */
export function topologyOf(config: ControllerConfig): Record<string, string> {
  return config.compat === undefined ? { [TOPOLOGY_KEY]: config.topologyValue } : {};
}

/**
 * Full context for a volume just created (or adopted) with known parameters. `extra`
 * (compatibility mode: the Go driver's keys) is merged over this driver's keys.
 */
export function createdView(
  config: ControllerConfig,
  disk: Disk,
  params: VolumeParams,
  fsType: FsType | undefined,
  contentSource: ContentSource | undefined,
  extra?: Readonly<Record<string, string>>,
): VolumeView {
  const context: Record<string, string> = {
    ...formatVolumeContext({
      nqn: disk.nqn ?? volumeNqn(disk.slot),
      traddr: config.nvmeAddress,
      trsvcid: disk.port ?? params.nvmePort,
      fsType,
    }),
    [PARAM.migrationTimeoutSeconds]: String(params.migrationTimeoutSeconds),
    [PARAM.hostFencing]: String(params.hostFencing),
  };
  if (params.pvc) {
    context[PVC_NAMESPACE_KEY] = params.pvc.namespace;
    context[PVC_NAME_KEY] = params.pvc.name;
  }
  Object.assign(context, extra);
  return {
    volumeId: disk.slot,
    sizeBytes: disk.sizeBytes,
    context,
    topology: topologyOf(config),
    ...(contentSource ? { contentSource } : {}),
  };
}

/** What can be said of a listed volume from the disk alone (no StorageClass at hand). */
export function listedView(config: ControllerConfig, disk: Disk): VolumeView {
  return {
    volumeId: disk.slot,
    sizeBytes: disk.sizeBytes,
    context: formatVolumeContext({
      nqn: disk.nqn ?? volumeNqn(disk.slot),
      traddr: config.nvmeAddress,
      trsvcid: disk.port ?? config.nvmePort,
      fsType: undefined,
    }),
    topology: topologyOf(config),
  };
}

/**
 * The attachment-relevant part of a volume_context handed back by the CO at publish time.
 * Missing keys take their defaults (volumes created before a key existed); a present but
 * malformed value is INVALID_ARGUMENT.
 */
export function publishInfo(disk: Disk, ctx: Readonly<Record<string, string>>): PublishVolumeInfo {
  const timeoutText = ctx[PARAM.migrationTimeoutSeconds];
  let migrationTimeoutSeconds: number = MIGRATION_TIMEOUT_RANGE.dflt;
  if (timeoutText !== undefined) {
    const n = Number(timeoutText);
    const r = MIGRATION_TIMEOUT_RANGE;
    if (!/^\d{1,6}$/.test(timeoutText) || n < r.min || n > r.max) {
      throw new InvalidArgumentError(`volume_context ${PARAM.migrationTimeoutSeconds} is invalid`);
    }
    migrationTimeoutSeconds = n;
  }
  const fencing = ctx[PARAM.hostFencing];
  if (fencing !== undefined && fencing !== 'true' && fencing !== 'false') {
    throw new InvalidArgumentError(`volume_context ${PARAM.hostFencing} is invalid`);
  }
  const pvc = pvcFromContext(ctx);
  return {
    volumeId: disk.slot,
    nqn: disk.nqn ?? volumeNqn(disk.slot),
    sizeBytes: disk.sizeBytes,
    migrationTimeoutSeconds,
    hostFencing: fencing === 'true',
    ...(pvc ? { pvc } : {}),
  };
}

/**
 * The filesystem recorded for a volume: the StorageClass `fsType` wins; otherwise the
 * mount capabilities' fs_type; otherwise ext4 for mount volumes; none for block-only.
 * Conflicting or unsupported names are INVALID_ARGUMENT.
 */
export function resolveFsType(
  scFsType: FsType | undefined,
  mountFsTypes: readonly string[],
  hasMount: boolean,
): FsType | undefined {
  const named = [...new Set(mountFsTypes.filter((f) => f !== ''))];
  for (const f of named) {
    if (!isFsType(f))
      throw new InvalidArgumentError(`fs_type "${f.slice(0, 32)}" is not supported (ext4, xfs)`);
  }
  if (named.length > 1)
    throw new InvalidArgumentError('volume capabilities name different filesystems');
  const cap = named[0] as FsType | undefined;
  if (scFsType !== undefined && cap !== undefined && cap !== scFsType) {
    throw new InvalidArgumentError(
      `fs_type ${cap} conflicts with the StorageClass parameter fsType=${scFsType}`,
    );
  }
  return scFsType ?? cap ?? (hasMount ? 'ext4' : undefined);
}
