/**
 * The narrow interface ControllerPublishVolume / ControllerUnpublishVolume /
 * ListVolumes / ControllerGetVolume use to reach the attachment rules. The driver's
 * implementation is the full state machine in src/controller/attachments/ (grace periods,
 * KubeVirt two-node migrations, state rebuilt from VolumeAttachments; in memory only when
 * no Kubernetes API is configured). test/fakes/simple-attachments.ts is a simpler in-memory
 * one for controller tests.
 *
 * Before calling, the controller has already:
 * - validated volume id, node id and capability (supported access mode and type),
 * - checked that the volume exists on the RDS (NOT_FOUND otherwise),
 * - taken the per-volume lock (calls for one volume never overlap; calls for different
 *   volumes may run concurrently).
 *
 * Error contract (DomainError subclasses, mapped to gRPC in src/csi/status.ts):
 * - FailedPreconditionError: the volume is published elsewhere and the mode does not allow
 *   another node (message names the current node), or a migration window is exceeded.
 * - AlreadyExistsError: already published to this node with an incompatible capability
 *   or readonly flag.
 * - NotFoundError: the node does not exist (when the implementation can know).
 * - ResourceExhaustedError: the volume is at its maximum number of nodes.
 * - Cancelled/DeadlineExceeded: `signal` fired.
 * Anything else the RouterOS ports throw (host allow-list updates) passes through.
 */
import type { AccessMode } from '../domain/capabilities';

/** What the controller knows of the volume at publish time. */
export interface PublishVolumeInfo {
  readonly volumeId: string;
  /** Subsystem NQN of the volume's export. */
  readonly nqn: string;
  readonly sizeBytes: number;
  /**
   * Bound of a two-node (live migration) window in seconds, from the StorageClass
   * parameter `migrationTimeoutSeconds` (carried in the volume context; default 300).
   */
  readonly migrationTimeoutSeconds: number;
  /** StorageClass `hostFencing`: keep the RDS host allow-list equal to the published nodes. */
  readonly hostFencing: boolean;
  /** PVC identity for events, when the provisioner passed it (--extra-create-metadata). */
  readonly pvc?: { readonly namespace: string; readonly name: string };
}

export interface PublishRequest {
  readonly volumeId: string;
  readonly nodeId: string;
  readonly accessMode: AccessMode;
  /** True for a raw block capability, false for a filesystem mount. */
  readonly block: boolean;
  readonly readonly: boolean;
  readonly volume: PublishVolumeInfo;
  readonly signal: AbortSignal;
}

export interface UnpublishRequest {
  readonly volumeId: string;
  /** The node to detach; undefined = every node (CSI allows an empty node_id). */
  readonly nodeId?: string;
  readonly signal: AbortSignal;
}

export interface AttachmentManager {
  /**
   * Publish the volume to the node; resolves to the publish_context handed to the node
   * plugin. Idempotent: publishing again to the same node with the same capability and
   * readonly flag resolves to the same publish_context.
   */
  publish(req: PublishRequest): Promise<Readonly<Record<string, string>>>;
  /** Unpublish; idempotent (an unknown volume or node, or nothing published, is success). */
  unpublish(req: UnpublishRequest): Promise<void>;
  /**
   * Resolves once publishedNodes can be trusted (after a restart: once the state was
   * rebuilt from VolumeAttachments). CancelledError when `signal` fires first.
   */
  ready(signal: AbortSignal): Promise<void>;
  /** Nodes the volume is currently published to (no I/O; sorted; [] when none). */
  publishedNodes(volumeId: string): readonly string[];
  /**
   * Forget every attachment of a deleted volume (called after DeleteVolume succeeded).
   * No I/O against the RDS; never throws.
   */
  volumeDeleted(volumeId: string): void;
}
