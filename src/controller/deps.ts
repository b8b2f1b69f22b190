/**
 * What the controller use-cases are built from: the RouterOS ports they need, the
 * attachment manager, the driver's configuration, a clock, a logger and metric hooks.
 */
import type { Counter } from 'prom-client';
import type { Logger } from '../observability/logger';
import type { CapacityPort, FilesPort, VolumesPort } from '../routeros/ports';
import type { AttachmentManager } from './attachments-port';

export interface ControllerConfig {
  /** CSI driver name (e.g. `rds.csi.dev`), for logs. */
  readonly driverName: string;
  /** Pool base path on the RDS, normalised (no leading/trailing `/`), e.g. `storage-pool/k8s`. */
  readonly poolBasePath: string;
  /** Address nodes connect to over NVMe/TCP (the RDS data address): volume_context traddr. */
  readonly nvmeAddress: string;
  /** Default NVMe/TCP port of new exports (StorageClass `nvmePort` overrides). */
  readonly nvmePort: number;
  /** Value of the `rds-csi.dev/rds` topology segment this controller serves. */
  readonly topologyValue: string;
  /** Smallest volume created (bytes; rounded up to 1 MiB). */
  readonly minVolumeBytes: number;
  /**
   * Advertise the alpha GET_SNAPSHOT capability (default false; see
   * `controllerCapabilities` in src/csi/controller.ts for why it is opt-in).
   */
  readonly advertiseGetSnapshot?: boolean;
  /**
   * Set in compatibility mode with the Go driver (`--compat=rds-csi-go`): its StorageClass
   * keys, volume_context and publish_context keys, no volume topology, and its unmarked
   * disks and snapshots under the pool base path are adopted (src/controller/compat/).
   */
  readonly compat?: GoCompatConfig;
}

export interface GoCompatConfig {
  /** The RDS address the Go driver echoed as `rdsAddress` (its `-rds-address`). */
  readonly rdsAddress: string;
}

export interface ControllerMetricHooks {
  /** Leftover files or disks from interrupted operations that were removed. */
  readonly orphansCleaned?: Pick<Counter, 'inc'>;
}

export interface ControllerDeps {
  readonly volumes: VolumesPort;
  readonly files: FilesPort;
  readonly capacity: CapacityPort;
  readonly attachments: AttachmentManager;
  /**
   * Every node id that exists, where the driver knows them without Kubernetes: in
   * `--mode all` the node service beside this controller is the only node. Publishing to
   * any other id is NOT_FOUND. Absent: with Kubernetes the attachment manager checks the
   * Node objects; a controller-only driver without Kubernetes has no list of nodes and
   * accepts any id (see src/controller/README.md).
   */
  readonly knownNodes?: ReadonlySet<string>;
  readonly config: ControllerConfig;
  /** Wall clock in ms since the epoch (snapshot creation times). */
  readonly now: () => number;
  readonly logger: Logger;
  readonly metrics?: ControllerMetricHooks;
}

/** Per-call options passed down to every port call. */
export interface Call {
  readonly signal: AbortSignal;
  readonly log: Logger;
}
