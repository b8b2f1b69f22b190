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
    let params;
    try {
      params = parseAttachmentParams(pv.volumeAttributes);
    } catch (err) {
      s.logger.warn('PV has invalid attachment parameters; using defaults', { pv: pv.name, err });
      params = parseAttachmentParams(undefined);
    }
    const hostNqn = s.nodes?.get(va.nodeName)?.hostNqn;
    records.push({
      volumeId: pv.volumeHandle,
      nodeId: va.nodeName,
      ...(hostNqn === undefined ? {} : { hostNqn }),
      createdAt: va.createdAt,
      multiNode: pv.accessModes.includes('ReadWriteMany'),
      block: pv.volumeMode === 'Block',
      migrationTimeoutMs: params.migrationTimeoutMs,
      fencing: params.fencing,
    });
  }
  const r = rebuildState(records);
  return { states: r.states, drift: [...drift, ...r.drift], pending };
}
