/**
 * Ports the controller uses to reach the RDS. Each is narrow and shaped by its callers;
 * the SSH implementation lives behind them (src/routeros/adapters.ts) so that a REST
 * transport or a test fake can replace it.
 *
 * Error contract for every method (all are DomainError subclasses, src/domain/errors.ts):
 * - InvalidArgumentError: an identifier or value failed validation; nothing was sent.
 * - NotFoundError: the device named a missing item directly (`failure: no such item`).
 * - AlreadyExistsError: the device refused a duplicate (`already have ...`).
 * - ResourceExhaustedError: the pool is out of space (`failure: not enough space`).
 * - DeadlineExceededError: the call's timeout elapsed (the channel is closed).
 * - CancelledError: the caller's AbortSignal fired.
 * - UnavailableError: no connection, or the connection was lost mid-command.
 * - InternalError: the device rejected the command's syntax, or its output was unreadable.
 *   The message names the command (e.g. `/disk add`), never its arguments.
 */

/** Per-call options. Every call has a timeout (the session default when absent). */
export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** A file-backed disk on the RDS, as read back from the device. */
export interface Disk {
  /** The disk's unique name on the device (`[a-z0-9-]`). */
  readonly slot: string;
  /** Backing file path as the device shows it: no leading `/`, e.g. `storage-pool/k8s/x.img`. */
  readonly filePath: string;
  /** Exact size in bytes (from `size=`; `file-size=` only when `size=` is absent). */
  readonly sizeBytes: number;
  /** Whether the disk is exported over NVMe/TCP. */
  readonly nvmeExport: boolean;
  /** Subsystem NQN of the export, when exported. */
  readonly nqn?: string;
  /** NVMe/TCP port of the export, when exported. */
  readonly port?: number;
  /** Host NQNs allowed to connect; empty means any host may connect. */
  readonly allowedHosts: readonly string[];
}

export interface CreateDiskSpec {
  readonly slot: string;
  /** Must lie under the configured pool base path and end in `.img`. */
  readonly filePath: string;
  /** Requested size in bytes; sent exactly, never rounded down. */
  readonly sizeBytes: number;
  readonly nqn: string;
  readonly port: number;
  /** Host NQNs allowed to connect; absent or empty = any host. */
  readonly allowedHosts?: readonly string[];
}

export interface CopyDiskSpec {
  readonly sourceSlot: string;
  readonly slot: string;
  readonly filePath: string;
  /** Size of the copy; absent = the source's size. Must not be below the source's size. */
  readonly sizeBytes?: number;
  /**
   * Export the copy; absent = not exported (e.g. a snapshot). `allowedHosts` as for create:
   * absent or empty = any host (always sent, so a copy never inherits the source's list).
   */
  readonly export?: {
    readonly nqn: string;
    readonly port: number;
    readonly allowedHosts?: readonly string[];
  };
}

export interface VolumesPort {
  /**
   * Create a disk and its backing file. Idempotent for an identical spec: when a disk
   * with this slot already exists with the same file path and size, it is returned; if it
   * differs, AlreadyExistsError. After a lost reply the disk is read back, not re-added.
   */
  create(spec: CreateDiskSpec, o?: CallOptions): Promise<Disk>;
  /** The disk with this slot, or undefined. */
  get(slot: string, o?: CallOptions): Promise<Disk | undefined>;
  /**
   * File-backed disks whose slot starts with `slotPrefix` (`[a-z0-9-]*`; empty = all
   * file-backed disks). Order is the device's order.
   */
  list(slotPrefix: string, o?: CallOptions): Promise<Disk[]>;
  /** Grow a disk to at least `sizeBytes` (never shrinks: a smaller size is returned as is). */
  resize(slot: string, sizeBytes: number, o?: CallOptions): Promise<Disk>;
  /**
   * Remove the disk AND its backing `.img` file. Idempotent: a missing disk or file is
   * success. `filePath` is needed because the disk may already be gone while its file
   * remains (the device keeps the file when a disk is removed).
   */
  delete(slot: string, filePath: string, o?: CallOptions): Promise<void>;
  /**
   * Copy a disk (snapshot, restore, clone). Verifies that the new disk exists with the
   * expected size afterwards (InternalError otherwise). NotFoundError if the source is
   * missing. Idempotent like create.
   */
  copy(spec: CopyDiskSpec, o?: CallOptions): Promise<Disk>;
}

export interface FileEntry {
  /** Path as the device shows it: no leading `/`. */
  readonly path: string;
  readonly sizeBytes: number;
  readonly lastModified?: Date;
}

export interface FilesPort {
  /** Files directly or indirectly under `dirPath` (which must lie under the pool base path). */
  list(dirPath: string, o?: CallOptions): Promise<FileEntry[]>;
  /** Remove a file under the pool base path. Idempotent: a missing file is success. */
  remove(path: string, o?: CallOptions): Promise<void>;
}

export interface PoolCapacity {
  readonly totalBytes: number;
  readonly freeBytes: number;
}

export interface CapacityPort {
  /** Size and free space of the storage pool (the disk mounted at the pool's mount point). */
  pool(o?: CallOptions): Promise<PoolCapacity>;
}

export interface ExportsPort {
  /**
   * Set the host NQNs allowed to connect to the disk's export (empty = any host).
   * NotFoundError if the disk does not exist.
   */
  setAllowedHosts(slot: string, hostNqns: readonly string[], o?: CallOptions): Promise<void>;
}

export interface DeviceInfo {
  readonly version: string;
  readonly identity: string;
}

export interface HealthPort {
  /** RouterOS version and system identity (read through the live connection). */
  info(o?: CallOptions): Promise<DeviceInfo>;
  /** A cheap round trip; rejects with UnavailableError/DeadlineExceededError when down. */
  ping(o?: CallOptions): Promise<void>;
  /** Whether the SSH connection is currently up (no I/O). */
  readonly connected: boolean;
  /** Called after every successful reconnect (not the first connect). Returns an unsubscribe. */
  onReconnect(cb: () => void): () => void;
}

/** Everything the SSH adapter provides, plus its lifecycle. */
export interface RouterOsPorts {
  readonly volumes: VolumesPort;
  readonly files: FilesPort;
  readonly capacity: CapacityPort;
  readonly exports: ExportsPort;
  readonly health: HealthPort;
  /** Close the connection; pending and later calls fail with UnavailableError. */
  close(): Promise<void>;
}
