/**
 * Pure: a volume's condition from what the node sees — the kernel's controllers for the
 * NQN, the mount at the volume path and how the path answers stat(). Each abnormal message
 * says what is wrong and what the node does (or what to do) about it.
 */
import type { AttachedVolume } from '../nvme/ports';
import type { MountEntry, PathState } from '../mount/ports';
import { mountIsOn } from './mounts';
import type { StagingRecord } from './records';

export interface Condition {
  readonly abnormal: boolean;
  readonly message: string;
  /** True when the mount at the path sits on a device that is no longer the volume's. */
  readonly stale: boolean;
}

export interface ConditionInput {
  readonly record: StagingRecord;
  readonly volumePath: string;
  readonly attached: AttachedVolume | undefined;
  /** 'major:minor' of attached.device, when it exists. */
  readonly deviceNumber: string | undefined;
  /** The top-most mount at volumePath. */
  readonly mount: MountEntry | undefined;
  /** 'major:minor' of a device node AT volumePath (an mknod'ed block publish), if any. */
  readonly nodeNumber?: string | undefined;
  readonly pathState: PathState;
}

const healthy: Condition = { abnormal: false, message: 'volume is healthy', stale: false };

function abnormal(message: string, stale = false): Condition {
  return { abnormal: true, message, stale };
}

export function assessCondition(i: ConditionInput): Condition {
  const { attached, volumePath } = i;
  if (!attached) {
    return abnormal(
      'no NVMe controller for this volume on the node: the connection was lost and the kernel ' +
        'stopped reconnecting, so I/O fails; the node reconnects on the next stage or publish ' +
        '(restart the pod)',
    );
  }
  const live = attached.controllers.filter((c) => c.state === 'live');
  if (live.length === 0) {
    const c = attached.controllers[0];
    return abnormal(
      `NVMe controller nvme${c?.instance ?? '?'} is ${c?.state ?? 'unknown'}: the target is ` +
        'unreachable; the kernel keeps reconnecting and I/O waits until the path returns',
    );
  }
  if (attached.device === undefined) {
    return abnormal(
      'the NVMe namespace device is missing although the controller is live; the node attaches ' +
        'it again on the next stage or publish',
    );
  }
  if (i.pathState === 'stale') {
    return abnormal(
      `${volumePath} returns a stale handle (ESTALE/EIO); the node replaces the mount on the ` +
        'next publish (restart the pod)',
      true,
    );
  }
  if (!i.mount && i.nodeNumber !== undefined && i.nodeNumber === i.deviceNumber) return healthy;
  if (i.nodeNumber !== undefined && !i.mount) {
    return abnormal(
      `${volumePath} is a device node of ${i.nodeNumber}, which is no longer this volume's ` +
        `device (${attached.device}); unpublish and publish it again (restart the pod)`,
      true,
    );
  }
  if (!i.mount) {
    return abnormal(
      `nothing is mounted at ${volumePath}; the node mounts it again on the next publish`,
    );
  }
  if (!mountIsOn(i.mount, { majorMinor: i.deviceNumber, path: attached.device })) {
    return abnormal(
      `${volumePath} is mounted from ${i.mount.source}, which is no longer this volume's device ` +
        `(${attached.device}; stale after a reconnect); the node replaces the mount on the next ` +
        'stage or publish (restart the pod)',
      true,
    );
  }
  if (
    i.record.access === 'mount' &&
    i.mount.superOptions.includes('ro') &&
    !(i.record.mountFlags ?? []).includes('ro')
  ) {
    return abnormal(
      'the filesystem was remounted read-only after I/O errors, so writes fail; unpublish and ' +
        'unstage the volume (stop the pod) so the node can check and mount it again',
    );
  }
  return healthy;
}
