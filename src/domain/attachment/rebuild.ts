/**
 * Rebuild attachment state from what Kubernetes says is attached (VolumeAttachment objects
 * of this driver with status.attached = true): the source of truth after a controller
 * restart or a lost watch. Pure; the caller gathers the records.
 */
import type { Attachment, VolumeState } from './types';

export interface AttachedRecord {
  readonly volumeId: string;
  readonly nodeId: string;
  readonly hostNqn?: string;
  /** Creation time of the VolumeAttachment, epoch ms. */
  readonly createdAt: number;
  readonly multiNode: boolean;
  readonly block: boolean;
  readonly migrationTimeoutMs: number;
  readonly fencing: boolean;
}

export interface RebuildResult {
  readonly states: ReadonlyMap<string, VolumeState>;
  /** Human-readable findings that break the rules (more nodes than allowed). */
  readonly drift: readonly string[];
}

/**
 * One VolumeState per volume. Two records of a multi-node block volume give a migration
 * from the older node to the newer, started at the newer record's creation time with the
 * volume's own window, so a timeout still fires after a restart. More records than the
 * rules allow keep the newest allowed ones and are reported as drift.
 */
export function rebuildState(records: readonly AttachedRecord[]): RebuildResult {
  const byVolume = new Map<string, AttachedRecord[]>();
  for (const r of records) {
    const list = byVolume.get(r.volumeId) ?? [];
    if (!list.some((x) => x.nodeId === r.nodeId)) list.push(r);
    byVolume.set(r.volumeId, list);
  }
  const states = new Map<string, VolumeState>();
  const drift: string[] = [];
  for (const [volumeId, list] of byVolume) {
    list.sort((a, b) => a.createdAt - b.createdAt || a.nodeId.localeCompare(b.nodeId));
    const newest = list[list.length - 1] as AttachedRecord;
    const allowed = newest.multiNode && newest.block ? 2 : 1;
    const kept = list.slice(-allowed);
    if (list.length > allowed) {
      drift.push(
        `volume ${volumeId} is attached to ${list.length} nodes (${list.map((r) => r.nodeId).join(', ')}); ` +
          `at most ${allowed} allowed`,
      );
    }
    const attachments: Attachment[] = kept.map((r) => ({
      nodeId: r.nodeId,
      attachedAt: r.createdAt,
      ...(r.hostNqn === undefined ? {} : { hostNqn: r.hostNqn }),
    }));
    const [source, target] = kept;
    states.set(volumeId, {
      volumeId,
      attachments,
      fencing: newest.fencing,
      ...(source !== undefined && target !== undefined
        ? {
            migration: {
              source: source.nodeId,
              target: target.nodeId,
              startedAt: target.createdAt,
              timeoutMs: target.migrationTimeoutMs,
            },
          }
        : {}),
    });
  }
  return { states, drift };
}
