/** Shared builders for attachment state machine tests. */
import type { PublishEvent, VolumeState } from '../../../../src/domain/attachment';

export const V = 'pvc-1';
export const NQN = (n: string): string => `nqn.2014-08.org.nvmexpress:uuid:host-${n}`;
export const T0 = 1_700_000_000_000;
export const GRACE = 30_000;
export const WINDOW = 300_000;

export function pub(nodeId: string, over: Partial<PublishEvent> = {}): PublishEvent {
  return {
    kind: 'publish',
    volumeId: V,
    nodeId,
    hostNqn: NQN(nodeId),
    multiNode: false,
    block: false,
    migrationTimeoutMs: WINDOW,
    fencing: false,
    graceMs: GRACE,
    goneNodes: [],
    ...over,
  };
}

export const rwxBlock = { multiNode: true, block: true } as const;

export function single(nodeId: string, fencing = false): VolumeState {
  return {
    volumeId: V,
    attachments: [{ nodeId, hostNqn: NQN(nodeId), attachedAt: T0 }],
    fencing,
  };
}

export function migrating(source: string, target: string, failedAt?: number): VolumeState {
  return {
    volumeId: V,
    attachments: [
      { nodeId: source, hostNqn: NQN(source), attachedAt: T0 },
      { nodeId: target, hostNqn: NQN(target), attachedAt: T0 + 1000 },
    ],
    fencing: true,
    migration: {
      source,
      target,
      startedAt: T0 + 1000,
      timeoutMs: WINDOW,
      ...(failedAt === undefined ? {} : { failedAt }),
    },
  };
}

export function idle(lastNode: string, at: number): VolumeState {
  return { volumeId: V, attachments: [], fencing: false, lastDetach: { nodeId: lastNode, at } };
}
