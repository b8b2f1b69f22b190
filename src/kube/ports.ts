/**
 * What the controller needs from Kubernetes, shaped by its callers: cached Nodes and
 * VolumeAttachments (kept by supervised informers), PV lookups, event posting and a
 * Lease for leader election. Use-cases see these, never a KubeConfig.
 */

/** A Kubernetes Node as the attachment rules see it. */
export interface NodeInfo {
  readonly name: string;
  readonly ready: boolean;
  /** Host NQN from the annotation the node plugin writes (HOST_NQN_ANNOTATION). */
  readonly hostNqn?: string;
}

/** A VolumeAttachment of any driver (callers filter on `attacher`). */
export interface VolumeAttachmentInfo {
  readonly name: string;
  readonly attacher: string;
  readonly nodeName: string;
  /** spec.source.persistentVolumeName (inline volumes have none). */
  readonly pvName?: string;
  readonly attached: boolean;
  /** metadata.creationTimestamp, epoch ms. */
  readonly createdAt: number;
  /** metadata.deletionTimestamp is set: a detach is under way. */
  readonly deleting: boolean;
}

export interface PvInfo {
  readonly name: string;
  /** spec.csi.driver and spec.csi.volumeHandle (absent for non-CSI PVs). */
  readonly driver?: string;
  readonly volumeHandle?: string;
  readonly accessModes: readonly string[];
  /** 'Block' or 'Filesystem' (the API default). */
  readonly volumeMode: string;
  readonly volumeAttributes: Readonly<Record<string, string>>;
  readonly claimRef?: { readonly namespace: string; readonly name: string; readonly uid?: string };
}

/** The object an event is about. */
export interface ObjectRef {
  readonly kind: 'PersistentVolumeClaim' | 'PersistentVolume' | 'Node';
  readonly namespace?: string;
  readonly name: string;
  readonly uid?: string;
}

export interface KubeEventSpec {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** A read-only cache kept current by a watch. */
export interface Cache<T> {
  /** True once the first list completed (before that, absence proves nothing). */
  readonly synced: boolean;
  get(name: string): T | undefined;
  list(): T[];
}

export type NodeCache = Cache<NodeInfo>;

export interface PvLookup {
  /** The PV, or undefined when it does not exist. Rejects on API errors. */
  getPv(name: string): Promise<PvInfo | undefined>;
  /** The uid of a PVC, or undefined when it does not exist. Rejects on API errors. */
  getPvcUid(namespace: string, name: string): Promise<string | undefined>;
  /**
   * The CSI PV whose volumeHandle is `volumeId` (a list of every PV: the last resort, when
   * neither the volume context nor a VolumeAttachment named the claim or the PV).
   */
  findPvByHandle(driver: string, volumeId: string): Promise<PvInfo | undefined>;
}

/** Raw API calls the event recorder makes (it adds queueing and counting). */
export interface EventsApi {
  /** Create an event with count 1; resolves to its name. */
  create(namespace: string, ref: ObjectRef, spec: KubeEventSpec, at: Date): Promise<string>;
  /**
   * Record a repeat of an event created earlier: its count and lastTimestamp. Rejects with a
   * KubeApiError of status 404 when the event is gone (expired by the API server's TTL).
   */
  repeat(namespace: string, name: string, count: number, at: Date): Promise<void>;
}

/** Best-effort, non-blocking event posting for use-cases. */
export interface EventSink {
  /** Enqueue; never throws, never waits. */
  post(ref: ObjectRef, spec: KubeEventSpec): void;
}

export interface LeaseRecord {
  readonly holder?: string;
  readonly leaseDurationSeconds?: number;
  /** epoch ms */
  readonly acquireTime?: number;
  readonly renewTime?: number;
  readonly transitions: number;
  readonly resourceVersion: string;
}

export interface LeaseApi {
  get(namespace: string, name: string): Promise<LeaseRecord | undefined>;
  /** Rejects with a KubeApiError of status 409 when it already exists. */
  create(
    namespace: string,
    name: string,
    spec: Omit<LeaseRecord, 'resourceVersion'>,
  ): Promise<LeaseRecord>;
  /** Optimistic update: 409 when `resourceVersion` is stale. */
  update(namespace: string, name: string, rec: LeaseRecord): Promise<LeaseRecord>;
}

/** An API failure with its HTTP status (0 = no response). */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KubeApiError';
  }
}

/** The annotation the node plugin writes on its Node with its NVMe host NQN. */
export const HOST_NQN_ANNOTATION = 'rds-csi.dev/host-nqn';
