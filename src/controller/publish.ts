/**
 * ControllerPublishVolume / ControllerUnpublishVolume: validate, check that the node (where
 * the set of nodes is known) and the volume exist, then hand over to the AttachmentManager
 * (src/controller/attachments-port.ts), which owns every rule about which nodes may hold
 * the volume.
 */
import { assertSupported, type Capability } from '../domain/capabilities';
import { InvalidArgumentError, NotFoundError } from '../domain/errors';
import { goPublishContextOf } from './compat/go-volumes';
import type { Call, ControllerDeps } from './deps';
import { requireVolume } from './volume-queries';
import { publishInfo } from './volume-view';

export interface PublishInput {
  readonly volumeId: string;
  readonly nodeId: string;
  readonly capability: Capability;
  readonly readonly: boolean;
  readonly volumeContext: Readonly<Record<string, string>>;
}

export async function publishVolume(
  deps: ControllerDeps,
  input: PublishInput,
  call: Call,
): Promise<Readonly<Record<string, string>>> {
  assertSupported([input.capability]);
  if (deps.knownNodes !== undefined && !deps.knownNodes.has(input.nodeId)) {
    throw new NotFoundError(`node ${input.nodeId} does not exist`, {
      volumeId: input.volumeId,
      nodeId: input.nodeId,
    });
  }
  const disk = await requireVolume(deps, input.volumeId, call);
  const published = await deps.attachments.publish({
    volumeId: input.volumeId,
    nodeId: input.nodeId,
    accessMode: input.capability.accessMode,
    block: input.capability.accessType === 'block',
    readonly: input.readonly,
    volume: publishInfo(disk, input.volumeContext),
    signal: call.signal,
  });
  return { ...goPublishContextOf(deps, disk, input.volumeContext), ...published };
}

/** Idempotent: an unknown volume or node is success (it is certainly not published). */
export async function unpublishVolume(
  deps: ControllerDeps,
  volumeId: string,
  nodeId: string,
  call: Call,
): Promise<void> {
  if (volumeId === '') throw new InvalidArgumentError('volume_id is required');
  await deps.attachments.unpublish({
    volumeId,
    ...(nodeId === '' ? {} : { nodeId }),
    signal: call.signal,
  });
}
