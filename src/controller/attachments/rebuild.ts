/**
 * Gather what Kubernetes says is attached and turn it into attachment state: the
 * VolumeAttachments of this driver with status.attached = true, each joined with its PV
 * (volume handle, access mode, volume mode, and the migration window and fencing flag
 * from the PV's volume attributes) and its Node's host NQN.
 */
import {
  parseAttachmentParams,
  rebuildState,
  type AttachedRecord,
  type RebuildResult,
} from '../../domain/attachment';
import type { NodeCache, PvInfo, PvLookup, VolumeAttachmentInfo } from '../../kube/ports';
import type { Logger } from '../../observability/logger';

export interface RebuildSources {
  readonly driverName: string;
  readonly volumeAttachments: () => readonly VolumeAttachmentInfo[];
  readonly pvs: PvLookup;
  readonly nodes?: NodeCache;
  readonly logger: Logger;
}

export interface KubeRebuild extends RebuildResult {
  /** Volumes with a VolumeAttachment of this driver that is not attached yet and not being deleted. */
  readonly pending: ReadonlySet<string>;
}

/**
 * One VolumeAttachment joined with its PV (access mode, volume mode, migration window and
 * fencing flag from the volume attributes) and its Node's host NQN.
 */
export function attachedRecord(
  va: VolumeAttachmentInfo,
  volumeId: string,
  pv: PvInfo,
  nodes: NodeCache | undefined,
  logger: Logger,
): AttachedRecord {
  let params;
  try {
    params = parseAttachmentParams(pv.volumeAttributes);
  } catch (err) {
    logger.warn('PV has invalid attachment parameters; using defaults', { pv: pv.name, err });
    params = parseAttachmentParams(undefined);
  }
  const hostNqn = nodes?.get(va.nodeName)?.hostNqn;
  return {
    volumeId,
    nodeId: va.nodeName,
    ...(hostNqn === undefined ? {} : { hostNqn }),
    createdAt: va.createdAt,
    multiNode: pv.accessModes.includes('ReadWriteMany'),
    block: pv.volumeMode === 'Block',
    migrationTimeoutMs: params.migrationTimeoutMs,
    fencing: params.fencing,
  };
}

export async function rebuildFromKube(s: RebuildSources): Promise<KubeRebuild> {
  const ours = s
    .volumeAttachments()
    .filter((va) => va.attacher === s.driverName && va.pvName !== undefined);
  const pvCache = new Map<string, PvInfo | undefined>();
  const records: AttachedRecord[] = [];
  const pending = new Set<string>();
  const drift: string[] = [];
  for (const va of ours) {
    const pvName = va.pvName as string;
    if (!pvCache.has(pvName)) pvCache.set(pvName, await s.pvs.getPv(pvName));
    const pv = pvCache.get(pvName);
    if (pv?.volumeHandle === undefined) {
      drift.push(
        `VolumeAttachment ${va.name} names PV ${pvName}, which is missing or not a CSI volume`,
      );
      continue;
    }
    if (!va.attached) {
      if (!va.deleting) pending.add(pv.volumeHandle);
      continue;
    }
    records.push(attachedRecord(va, pv.volumeHandle, pv, s.nodes, s.logger));
  }
  const r = rebuildState(records);
  return { states: r.states, drift: [...drift, ...r.drift], pending };
}
