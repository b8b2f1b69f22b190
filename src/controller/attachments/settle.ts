/**
 * What one replica holds for one volume, given that volume's VolumeAttachments now and what
 * the replica holds already. Pure. Every replica applies it on every VolumeAttachment watch
 * event and relist, so whichever replica the external-attacher calls next answers from the
 * cluster's record, not from what it last did itself.
 *
 * A VolumeAttachment (of this driver) is in one of three phases:
 * - attached (status.attached, not being deleted): the volume is on that node. Always held.
 * - attaching (not attached, not being deleted): ControllerPublish is under way or was just
 *   answered and the attacher has not recorded it yet. Held only if this replica holds it
 *   (it published it itself); another replica's attach in flight is not claimed here.
 * - detaching (attached, being deleted): ControllerUnpublish has not been confirmed. Held
 *   unless this replica already let it go (it holds the volume but not that node); a
 *   replica with no record of the volume (fresh start) holds it, being conservative.
 * A VolumeAttachment that is neither attached nor live (deleting, attached = false) holds
 * nothing: the detach is done, only the finalizer remains.
 */
import {
  nodesOf,
  rebuildState,
  type AttachedRecord,
  type VolumeState,
} from '../../domain/attachment';

export type VaPhase = 'attached' | 'attaching' | 'detaching';

export interface VaRecord extends AttachedRecord {
  readonly phase: VaPhase;
}

export function vaPhase(va: { attached: boolean; deleting: boolean }): VaPhase | undefined {
  if (va.attached) return va.deleting ? 'detaching' : 'attached';
  return va.deleting ? undefined : 'attaching';
}

/**
 * The state to hold for `volumeId`. Unchanged (the same object) when the nodes, their order
 * and the migration direction are the same, so attach times, an unfinished migration's exact start and a failure mark survive;
 * undefined when no node holds it any more (an idle state with only a last detach is kept,
 * for the grace-period metric).
 */
export function settleVolume(
  volumeId: string,
  current: VolumeState | undefined,
  records: readonly VaRecord[],
): VolumeState | undefined {
  const held = new Set(nodesOf(current));
  const taken = records.filter(
    (r) =>
      r.volumeId === volumeId &&
      (r.phase === 'attached' ||
        (r.phase === 'attaching' && held.has(r.nodeId)) ||
        (r.phase === 'detaching' && (current === undefined || held.has(r.nodeId)))),
  );
  if (taken.length === 0) return held.size === 0 ? current : undefined;
  const next = rebuildState(taken).states.get(volumeId) as VolumeState;
  const cur = current;
  // Same nodes in the same order and the same migration direction: nothing to learn. (A
  // node detached and attached again between two looks gives the same nodes in another
  // order, or the other direction: that is a new state.)
  const sameShape =
    cur !== undefined &&
    nodesOf(next).join() === nodesOf(cur).join() &&
    next.migration?.source === cur.migration?.source &&
    next.migration?.target === cur.migration?.target;
  if (sameShape) return cur.fencing === next.fencing ? cur : { ...cur, fencing: next.fencing };
  const m = cur?.migration;
  const sameMigration =
    m !== undefined && next.migration?.source === m.source && next.migration.target === m.target;
  return sameMigration ? { ...next, migration: m } : next;
}
