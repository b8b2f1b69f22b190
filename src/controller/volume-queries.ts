/**
 * ControllerExpandVolume, ControllerGetVolume, ListVolumes and ValidateVolumeCapabilities.
 */
import { capabilityProblem, type Capability } from '../domain/capabilities';
import { InvalidArgumentError, NotFoundError, OutOfRangeError } from '../domain/errors';
import { isVolumeId } from '../domain/ids';
import { roundUp, type SizeRange } from '../domain/sizes';
import type { Disk } from '../routeros/ports';
import { parseParamsFor } from './compat/go-volumes';
import type { Call, ControllerDeps } from './deps';
import { paginate } from './paging';
import { isVolumeDisk } from './pool';
import { listedView, type VolumeView } from './volume-view';

/**
 * The volume's disk, or undefined when the id is malformed (the RDS is not asked), no disk
 * has it, or the disk is not one of this driver's volumes.
 */
export async function findVolume(
  deps: ControllerDeps,
  volumeId: string,
  call: Call,
): Promise<Disk | undefined> {
  if (!isVolumeId(volumeId)) return undefined;
  const disk = await deps.volumes.get(volumeId, { signal: call.signal });
  return disk !== undefined && isVolumeDisk(deps, disk) ? disk : undefined;
}

/** The volume's disk; NOT_FOUND for an unknown or foreign id. */
export async function requireVolume(
  deps: ControllerDeps,
  volumeId: string,
  call: Call,
): Promise<Disk> {
  const disk = await findVolume(deps, volumeId, call);
  if (disk === undefined) {
    throw new NotFoundError(`volume ${volumeId.slice(0, 128)} does not exist`, { volumeId });
  }
  return disk;
}

export interface ExpandResult {
  readonly sizeBytes: number;
  readonly nodeExpansionRequired: boolean;
}

/**
 * Grow only: a request at or below the current size returns the current size (idempotent
 * retry); a limit below the current size is OUT_OF_RANGE. A filesystem volume (or one
 * whose capability is unknown) needs NodeExpandVolume afterwards; a raw block one does not.
 */
export async function expandVolume(
  deps: ControllerDeps,
  volumeId: string,
  range: SizeRange,
  capability: Capability | undefined,
  call: Call,
): Promise<ExpandResult> {
  if (range.requiredBytes === 0 && range.limitBytes === 0) {
    throw new InvalidArgumentError('capacity_range is required');
  }
  const disk = await requireVolume(deps, volumeId, call);
  const nodeExpansionRequired = capability?.accessType !== 'block';
  if (range.limitBytes > 0 && disk.sizeBytes > range.limitBytes) {
    throw new OutOfRangeError(
      `volume ${volumeId} is already ${disk.sizeBytes} bytes, above limit_bytes; volumes never shrink`,
    );
  }
  const want = roundUp(range.requiredBytes);
  if (range.limitBytes > 0 && want > range.limitBytes) {
    throw new OutOfRangeError('no whole-MiB size lies within capacity_range');
  }
  if (want <= disk.sizeBytes) return { sizeBytes: disk.sizeBytes, nodeExpansionRequired };
  const after = await deps.volumes.resize(volumeId, want, { signal: call.signal });
  return { sizeBytes: after.sizeBytes, nodeExpansionRequired };
}

export interface VolumeStatus {
  readonly view: VolumeView;
  readonly publishedNodes: readonly string[];
  readonly abnormal: boolean;
  readonly message: string;
}

function statusOf(deps: ControllerDeps, disk: Disk): VolumeStatus {
  const exported = disk.nvmeExport;
  return {
    view: listedView(deps.config, disk),
    publishedNodes: deps.attachments.publishedNodes(disk.slot),
    abnormal: !exported,
    message: exported
      ? 'volume is healthy'
      : 'the NVMe/TCP export of the disk is disabled on the RDS',
  };
}

/**
 * A volume whose disk is missing but which is still published reports an abnormal
 * condition rather than NOT_FOUND, so the CO can see why its workload fails.
 */
export async function getVolume(
  deps: ControllerDeps,
  volumeId: string,
  call: Call,
): Promise<VolumeStatus> {
  const disk = await findVolume(deps, volumeId, call);
  await deps.attachments.ready(call.signal);
  if (disk !== undefined) return statusOf(deps, disk);
  const nodes = isVolumeId(volumeId) ? deps.attachments.publishedNodes(volumeId) : [];
  if (nodes.length === 0) {
    throw new NotFoundError(`volume ${volumeId.slice(0, 128)} does not exist`, { volumeId });
  }
  return {
    view: { volumeId, sizeBytes: 0, context: {}, topology: {} },
    publishedNodes: nodes,
    abnormal: true,
    message: 'the disk of this volume is missing on the RDS',
  };
}

export async function listVolumes(
  deps: ControllerDeps,
  maxEntries: number,
  startingToken: string,
  call: Call,
): Promise<{ entries: VolumeStatus[]; nextToken: string }> {
  const disks = (await deps.volumes.list('', { signal: call.signal })).filter((d) =>
    isVolumeDisk(deps, d),
  );
  const page = paginate(disks, (d) => d.slot, maxEntries, startingToken, isVolumeId);
  // Published nodes are reported only once the attachment state was rebuilt after a restart.
  await deps.attachments.ready(call.signal);
  return { entries: page.items.map((d) => statusOf(deps, d)), nextToken: page.nextToken };
}

/** undefined = confirmed; otherwise the reason the capabilities or parameters do not fit. */
export async function validateVolumeCapabilities(
  deps: ControllerDeps,
  volumeId: string,
  capabilities: readonly Capability[],
  parameters: Readonly<Record<string, string>>,
  call: Call,
): Promise<string | undefined> {
  await requireVolume(deps, volumeId, call);
  for (const c of capabilities) {
    const problem = capabilityProblem(c);
    if (problem !== undefined) return problem;
  }
  try {
    parseParamsFor(deps, parameters);
  } catch (err) {
    return err instanceof Error ? err.message : 'invalid parameters';
  }
  return undefined;
}
