/**
 * The Fabrics port: everything the node use-cases need from NVMe over Fabrics, shaped by
 * what staging, unstaging, expansion and start-up cleanup ask for. Two implementations:
 * the native one (src/nvme/fabrics.ts, the kernel through the rds_nvme addon) used in
 * production, and an nvme-cli one (src/nvme/nvmecli.ts) used only to compare in benchmarks.
 * Tests of the node use-cases use a fake of this interface.
 *
 * Every method rejects only with a DomainError from src/domain/errors.ts:
 * - InvalidArgumentError: a bad target value (NQN grammar, port, tuning out of range), or
 *   an NQN outside the managed prefix handed to detach().
 * - UnavailableError: the target refused the connection or rejected this host / NQN, or
 *   the subsystem's controller stays in `connecting`/`resetting` (message names the state).
 * - FailedPreconditionError: the node cannot do fabrics at all (module not loaded, no
 *   permission), or detach() found the device still mounted, open or held.
 * - DeadlineExceededError: the device did not appear before `deadlineMs`.
 * - CancelledError: the caller's AbortSignal fired.
 * - NotFoundError: rescan()/deviceSize() on an NQN with no controller on this node.
 * - InternalError: anything the driver itself got wrong (e.g. a malformed option string).
 */

/** Reconnect and queue tuning passed to the kernel with each connect. */
export interface FabricsTuning {
  /** I/O queues; default: the kernel's (one per CPU). 1..1024. */
  readonly nrIoQueues?: number;
  /** Keep-alive timeout in seconds; default: the kernel's (5). 1..3600. */
  readonly keepAliveTmoSec?: number;
  /** Seconds between reconnect attempts after a path is lost; default 2. 1..3600. */
  readonly reconnectDelaySec?: number;
  /**
   * Seconds after which a lost controller is removed; -1 (the default) reconnects for
   * ever, so a target outage stalls I/O instead of failing the filesystem.
   */
  readonly ctrlLossTmoSec?: number;
  /** Seconds after which queued I/O fails while reconnecting; -1 (default) = never. */
  readonly fastIoFailTmoSec?: number;
}

/** Where and as whom to connect. */
export interface AttachTarget {
  /** Subsystem NQN exported by the RDS for this volume. */
  readonly nqn: string;
  /** Target address: an IP literal, or a host name resolved by the injected resolver. */
  readonly traddr: string;
  /** Target TCP port (RDS default 4420). */
  readonly trsvcid: number;
  /** This node's host NQN (see loadHostIdentity in src/nvme/hostid.ts). */
  readonly hostnqn: string;
  /** This node's host id (UUID), always sent together with hostnqn. */
  readonly hostid: string;
  /** Namespace id inside the subsystem; default 1 (the RDS exports one per subsystem). */
  readonly nsid?: number;
  readonly tuning?: FabricsTuning;
}

export interface AttachOptions {
  /** The RPC's cancellation; aborting stops the device wait (not an in-flight connect). */
  readonly signal?: AbortSignal;
  /** Total time allowed for connect + device wait, in ms; default from the factory. */
  readonly deadlineMs?: number;
}

/** Milliseconds spent in each phase of an attach, for logs and benchmarks. */
export interface AttachTimings {
  readonly connectMs: number;
  readonly deviceReadyMs: number;
  readonly totalMs: number;
  /** Where a new connect's time went, when the implementation can tell. */
  readonly connectParts?: ConnectParts;
}

/** A connect broken down (ms); the parts add up to connectMs. */
export interface ConnectParts {
  /** From the call to the pool thread starting the job. */
  readonly queueMs: number;
  /** The kernel's part: open, the options write (the fabric connect) and the reply read. */
  readonly kernelMs: number;
  /** Looking up the new controller and its namespace in sysfs, in the same job. */
  readonly lookupMs: number;
  /** From the job's end to the caller running again. */
  readonly resumeMs: number;
}

export interface AttachResult {
  /** The block device to use, e.g. '/dev/nvme0n1' (the multipath head when there is one). */
  readonly device: string;
  /** Kernel instance number of the controller used (the N of nvmeN). */
  readonly controller: number;
  /** True when an existing live controller was reused (idempotent re-attach). */
  readonly reused: boolean;
  readonly timings: AttachTimings;
}

export type ControllerState =
  | 'new'
  | 'live'
  | 'resetting'
  | 'connecting'
  | 'deleting'
  | 'deleting (no IO)'
  | 'dead'
  | 'unknown';

export interface ControllerInfo {
  readonly instance: number;
  readonly state: ControllerState;
  /** The kernel's address string, e.g. 'traddr=10.0.0.5,trsvcid=4420,src_addr=10.0.0.9'. */
  readonly address: string;
  readonly transport: string;
  readonly hostnqn: string;
}

/** One managed subsystem as seen from this node. */
export interface AttachedVolume {
  readonly nqn: string;
  /** '/dev/nvmeXnY' once the namespace is visible; undefined while it is not (yet). */
  readonly device: string | undefined;
  /** Namespace size in bytes, when the namespace is visible. */
  readonly sizeBytes: number | undefined;
  /** Every controller (path) to this subsystem, renumbered ones included. */
  readonly controllers: readonly ControllerInfo[];
}

export interface DetachOptions {
  readonly signal?: AbortSignal;
}

export interface DetachResult {
  /** Controllers asked to disconnect; 0 when nothing was connected (idempotent). */
  readonly disconnected: number;
  /** Where a detach that disconnected spent its time (ms), when the implementation can tell. */
  readonly timings?: {
    /** Finding the subsystem's controllers and devices. */
    readonly scanMs: number;
    /** The in-use check: mounts, holders, open descriptors. */
    readonly inUseMs: number;
    /** The delete_controller writes. */
    readonly disconnectMs: number;
  };
}

export interface FindOptions {
  /**
   * Only what finds the device and judges the controllers: the device and each
   * controller's instance and state are filled; address, transport, hostnqn and sizeBytes
   * may be empty. For callers that need only the device (publish, unstage).
   */
  readonly brief?: boolean;
}

export interface Fabrics {
  /**
   * Connects to `target` (or reuses a live controller for the same NQN, address and host
   * NQN) and waits until the namespace block device exists. Idempotent.
   */
  attach(target: AttachTarget, opts?: AttachOptions): Promise<AttachResult>;
  /**
   * Disconnects every controller of the managed subsystem `nqn`. Refuses (without
   * disconnecting anything) while the device is mounted, open or held; succeeds with
   * `disconnected: 0` when nothing is connected. Idempotent.
   */
  detach(nqn: string, opts?: DetachOptions): Promise<DetachResult>;
  /** The managed subsystem `nqn` on this node, or undefined when not connected. */
  find(nqn: string, opts?: FindOptions): Promise<AttachedVolume | undefined>;
  /** Every subsystem under the managed prefix with at least one controller. */
  listManaged(): Promise<readonly AttachedVolume[]>;
  /** Asks every live controller of `nqn` to rescan its namespaces (after a target grow). */
  rescan(nqn: string): Promise<void>;
  /** Current namespace size in bytes as the kernel sees it. */
  deviceSize(nqn: string): Promise<number>;
}

/**
 * Implementations: createNativeFabrics(options) in src/nvme/fabrics.ts (production) and
 * createNvmeCliFabrics(options) in src/nvme/nvmecli.ts (benchmarks only).
 */

/** Result of a start-up orphan sweep (see cleanupOrphans in src/nvme/orphans.ts). */
export interface OrphanReport {
  /** Managed subsystems connected on this node that no staged volume accounts for. */
  readonly orphans: readonly AttachedVolume[];
  /** NQNs disconnected (only when the sweep was allowed to disconnect). */
  readonly disconnected: readonly string[];
  /** NQNs that could not be disconnected (e.g. still mounted), with the reason. */
  readonly failed: readonly { readonly nqn: string; readonly reason: string }[];
}
