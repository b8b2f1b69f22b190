/**
 * The flags of `rds-csi serve` (and `doctor`): name, environment variable, default and
 * help text. config.ts turns them into a validated Config.
 */
import { DEFAULT_MIN_VOLUME_BYTES } from './domain/sizes';
import { LOG_LEVELS } from './observability/logger';

export type Kind = 'string' | 'boolean';
export interface FlagSpec {
  readonly name: string;
  readonly env: string;
  readonly kind: Kind;
  readonly help: string;
  readonly default?: string;
}

export const DEFAULT_DRIVER_NAME = 'rds-csi.dev';

/** Every flag of `serve`, each also read from its environment variable. */
export const SERVE_FLAGS: readonly FlagSpec[] = [
  {
    name: 'mode',
    env: 'RDS_CSI_MODE',
    kind: 'string',
    default: 'all',
    help: 'controller | node | all',
  },
  {
    name: 'endpoint',
    env: 'CSI_ENDPOINT',
    kind: 'string',
    default: 'unix:///csi/csi.sock',
    help: 'CSI gRPC endpoint: unix:///path.sock or tcp://host:port',
  },
  {
    name: 'node-id',
    env: 'RDS_CSI_NODE_ID',
    kind: 'string',
    help: "this node's name (required in node mode; defaults to the hostname)",
  },
  {
    name: 'compat',
    env: 'RDS_CSI_COMPAT',
    kind: 'string',
    default: 'none',
    help: 'none | rds-csi-go: take over an installation of the Go rds-csi driver in place (its driver name, topology key, StorageClass keys, contexts and unmarked disks; docs/migration-from-go-driver.md)',
  },
  {
    name: 'driver-name',
    env: 'RDS_CSI_DRIVER_NAME',
    kind: 'string',
    default: DEFAULT_DRIVER_NAME,
    help: "CSI driver name (the CSIDriver object's name; rds.csi.srvlab.io with --compat=rds-csi-go)",
  },
  {
    name: 'rds-address',
    env: 'RDS_CSI_RDS_ADDRESS',
    kind: 'string',
    help: 'RDS SSH address host[:port] (port 22 by default)',
  },
  {
    name: 'rds-user',
    env: 'RDS_CSI_RDS_USER',
    kind: 'string',
    default: 'admin',
    help: 'RouterOS user for SSH',
  },
  {
    name: 'rds-key-file',
    env: 'RDS_CSI_RDS_KEY_FILE',
    kind: 'string',
    help: 'SSH private key (ed25519 or RSA) for the RouterOS user',
  },
  {
    name: 'rds-host-key-fingerprint',
    env: 'RDS_CSI_RDS_HOST_KEY_FINGERPRINT',
    kind: 'string',
    help: 'pinned RDS host key, SHA256:<base64> as printed by ssh-keygen -lf',
  },
  {
    name: 'rds-host-key-file',
    env: 'RDS_CSI_RDS_HOST_KEY_FILE',
    kind: 'string',
    help: 'pinned RDS host key from a file: an authorized_keys/known_hosts line or the raw key blob (the Go driver Secret key rds-host-key)',
  },
  {
    name: 'rds-insecure-skip-host-key',
    env: 'RDS_CSI_RDS_INSECURE_SKIP_HOST_KEY',
    kind: 'boolean',
    help: 'accept any RDS host key (unsafe; logged loudly)',
  },
  {
    name: 'rds-pool-path',
    env: 'RDS_CSI_RDS_POOL_PATH',
    kind: 'string',
    default: 'storage-pool/k8s',
    help: 'directory on the RDS for volume image files (storage-pool/metal-csi with --compat=rds-csi-go)',
  },
  {
    name: 'rds-nvme-address',
    env: 'RDS_CSI_RDS_NVME_ADDRESS',
    kind: 'string',
    help: 'address nodes use for NVMe/TCP (default: the SSH host)',
  },
  {
    name: 'rds-nvme-port',
    env: 'RDS_CSI_RDS_NVME_PORT',
    kind: 'string',
    default: '4420',
    help: 'NVMe/TCP port of new volumes',
  },
  {
    name: 'rds-command-timeout',
    env: 'RDS_CSI_RDS_COMMAND_TIMEOUT',
    kind: 'string',
    default: '30s',
    help: 'timeout of one RouterOS command',
  },
  {
    name: 'kubelet-dir',
    env: 'RDS_CSI_KUBELET_DIR',
    kind: 'string',
    default: '/var/lib/kubelet',
    help: 'kubelet root; staging and target paths must be under it',
  },
  {
    name: 'max-volumes-per-node',
    env: 'RDS_CSI_MAX_VOLUMES_PER_NODE',
    kind: 'string',
    default: '0',
    help: 'volumes per node reported to the scheduler (0 = no limit)',
  },
  {
    name: 'metrics-address',
    env: 'RDS_CSI_METRICS_ADDRESS',
    kind: 'string',
    default: ':9809',
    help: '/metrics, /healthz, /readyz listen address; empty disables',
  },
  {
    name: 'log-level',
    env: 'RDS_CSI_LOG_LEVEL',
    kind: 'string',
    default: 'info',
    help: LOG_LEVELS.join(' | '),
  },
  {
    name: 'sim',
    env: 'RDS_CSI_SIM',
    kind: 'boolean',
    help: 'run an embedded rds-sim with generated keys and use it as the RDS',
  },
  {
    name: 'topology-value',
    env: 'RDS_CSI_TOPOLOGY_VALUE',
    kind: 'string',
    default: 'default',
    help: 'value of the rds-csi.dev/rds topology segment (the same on controller and nodes of one RDS)',
  },
  {
    name: 'min-volume-size',
    env: 'RDS_CSI_MIN_VOLUME_SIZE',
    kind: 'string',
    default: String(DEFAULT_MIN_VOLUME_BYTES),
    help: 'smallest volume created, in bytes',
  },
  {
    name: 'advertise-get-snapshot',
    env: 'RDS_CSI_ADVERTISE_GET_SNAPSHOT',
    kind: 'boolean',
    help: 'advertise the alpha GET_SNAPSHOT controller capability (off: csi-sanity up to v5.4.0 and sidecars on csi-lib-utils v0.20.0 fail on it; GetSnapshot answers either way)',
  },
  {
    name: 'cleanup-orphans',
    env: 'RDS_CSI_CLEANUP_ORPHANS',
    kind: 'boolean',
    help: 'at node start, disconnect managed NVMe controllers no staged volume accounts for (otherwise only report them)',
  },
  {
    name: 'managed-nqn-prefix',
    env: 'CSI_MANAGED_NQN_PREFIX',
    kind: 'string',
    help: "node: NVMe subsystems under this NQN prefix are managed (the Go driver's variable; narrowed to nqn.2000-02.com.mikrotik:pvc-); default nqn.2000-02.com.mikrotik:",
  },
  {
    name: 'kubeconfig',
    env: 'KUBECONFIG',
    kind: 'string',
    help: 'kubeconfig file; default: in-cluster when KUBERNETES_SERVICE_HOST is set, else no Kubernetes (attachments are then kept in memory only)',
  },
  {
    name: 'attach-grace-period',
    env: 'RDS_CSI_ATTACH_GRACE_PERIOD',
    kind: 'string',
    default: '30s',
    help: 'a single-writer volume may move to a new node this soon after leaving the last one',
  },
  {
    name: 'node-gone-grace',
    env: 'RDS_CSI_NODE_GONE_GRACE',
    kind: 'string',
    default: '2m',
    help: 'a deleted Node keeps its attachments this long (kubelet re-registers a deleted Node within seconds)',
  },
  {
    name: 'reconcile-interval',
    env: 'RDS_CSI_RECONCILE_INTERVAL',
    kind: 'string',
    default: '5m',
    help: 'how often attachments are reconciled with Kubernetes and the RDS',
  },
  {
    name: 'leader-election',
    env: 'RDS_CSI_LEADER_ELECTION',
    kind: 'boolean',
    help: 'elect a leader (Lease) among controller replicas for reconcile repairs',
  },
  {
    name: 'leader-election-namespace',
    env: 'POD_NAMESPACE',
    kind: 'string',
    help: "namespace of the leader election Lease (the pod's namespace)",
  },
  {
    name: 'sim-state',
    env: 'RDS_CSI_SIM_STATE',
    kind: 'string',
    help: 'state directory of the embedded rds-sim (default: <tmp>/rds-csi/sim)',
  },
];

export function serveHelp(): string {
  const lines = SERVE_FLAGS.map((f) => {
    const flag = `--${f.name}${f.kind === 'string' ? ' <value>' : ''}`;
    const def = f.default !== undefined ? ` (default "${f.default}")` : '';
    return `  ${flag.padEnd(36)} ${f.help}${def}\n  ${''.padEnd(36)} env ${f.env}`;
  });
  return lines.join('\n');
}
