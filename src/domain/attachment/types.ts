/**
 * Data of the attachment state machine: one VolumeState per volume, the events that drive
 * it and the effects it asks for. Everything is plain, immutable data; times are epoch
 * milliseconds passed in by the caller.
 */

/** One node the volume is published to. */
export interface Attachment {
  readonly nodeId: string;
  /** The node's NVMe host NQN when known (required when fencing is on). */
  readonly hostNqn?: string;
  readonly attachedAt: number;
}

/** A live migration: the volume is published to `source` and `target` at once. */
export interface Migration {
  readonly source: string;
  readonly target: string;
  readonly startedAt: number;
  readonly timeoutMs: number;
  /** Set when the window passed before the hand-off; both nodes may still be published. */
  readonly failedAt?: number;
}

export interface VolumeState {
  readonly volumeId: string;
  /** At most two, ordered by attach time; two only for a multi-node block volume. */
  readonly attachments: readonly Attachment[];
  readonly migration?: Migration;
  /** Whether the RDS allow-list follows the published nodes (StorageClass parameter). */
  readonly fencing: boolean;
  /** The last unpublish that left the volume on no node, for the grace period. */
  readonly lastDetach?: { readonly nodeId: string; readonly at: number };
}

export interface PublishEvent {
  readonly kind: 'publish';
  readonly volumeId: string;
  readonly nodeId: string;
  readonly hostNqn?: string;
  /** Access mode MULTI_NODE_MULTI_WRITER was requested. */
  readonly multiNode: boolean;
  /** Raw block access (multi-node is honoured only for block). */
  readonly block: boolean;
  readonly migrationTimeoutMs: number;
  readonly fencing: boolean;
  /** Grace period after the last node's unpublish during which a hand-off is counted. */
  readonly graceMs: number;
  /** Nodes known to be deleted from Kubernetes (they never block a publish). */
  readonly goneNodes: readonly string[];
}

export interface UnpublishEvent {
  readonly kind: 'unpublish';
  readonly volumeId: string;
  readonly nodeId: string;
}

/** Timer/reconcile pass: enforces migration windows and forgets idle volumes. */
export interface TickEvent {
  readonly kind: 'tick';
  readonly volumeId: string;
  readonly graceMs: number;
}

/** The reconciler found the node deleted from Kubernetes. */
export interface NodeGoneEvent {
  readonly kind: 'nodeGone';
  readonly volumeId: string;
  readonly nodeId: string;
}

export type AttachmentEvent = PublishEvent | UnpublishEvent | TickEvent | NodeGoneEvent;
export type EventKind = AttachmentEvent['kind'];

export type EventType = 'Normal' | 'Warning';
export type EventReason =
  | 'VolumeAttached'
  | 'VolumeDetached'
  | 'AttachmentConflict'
  | 'StaleAttachmentCleared'
  | 'MigrationStarted'
  | 'MigrationCompleted'
  | 'MigrationFailed';

export type MigrationResult = 'success' | 'timeout' | 'failed';
export type ReconcileAction = 'stale_cleared' | 'migration_timeout' | 'drift';

export type MetricEffect =
  | { readonly name: 'attach'; readonly status: 'success' | 'failure' }
  | { readonly name: 'detach'; readonly status: 'success' | 'failure' }
  | { readonly name: 'conflict' }
  | { readonly name: 'gracePeriodUsed' }
  | { readonly name: 'staleCleared' }
  | { readonly name: 'reconcile'; readonly action: ReconcileAction }
  | { readonly name: 'migrationStarted' }
  | {
      readonly name: 'migrationEnded';
      readonly result: MigrationResult;
      /** Only for `success`: seconds from the second attach to the hand-off. */
      readonly durationSeconds?: number;
    };

export type Effect =
  /** Set the disk's RDS allow-list to exactly these host NQNs (sorted, never empty). */
  | { readonly kind: 'allowHosts'; readonly volumeId: string; readonly hostNqns: readonly string[] }
  | {
      readonly kind: 'event';
      readonly volumeId: string;
      readonly type: EventType;
      readonly reason: EventReason;
      readonly message: string;
      /** The caller appends how long the CSI operation took (VolumeAttached). */
      readonly timed?: boolean;
    }
  | { readonly kind: 'metric'; readonly metric: MetricEffect }
  /** The new state must be stored (it differs from the old one). */
  | { readonly kind: 'persist'; readonly volumeId: string };

export type Refusal = {
  readonly ok: false;
  readonly reason: 'conflict' | 'fencing';
  readonly message: string;
  /** Nodes currently holding the volume. */
  readonly nodes: readonly string[];
};
export type Outcome = { readonly ok: true; readonly idempotent: boolean } | Refusal;

export interface TransitionResult {
  /** undefined = the machine keeps nothing for this volume. */
  readonly state: VolumeState | undefined;
  readonly effects: readonly Effect[];
  readonly outcome: Outcome;
}
