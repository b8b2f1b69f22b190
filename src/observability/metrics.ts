/**
 * Every Prometheus metric the driver exports, on one injected Registry. Names and labels
 * are a contract with existing dashboards: change them only with the dashboards. Label
 * values come from closed sets (never a volume id), units are seconds and bytes.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const P = 'rds_csi_';
const FAST_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const MIGRATION_BUCKETS = [15, 30, 60, 120, 180, 300, 450, 600, 900, 1200, 1800];

export const VOLUME_OPERATIONS = ['stage', 'unstage', 'publish', 'unpublish', 'expand'] as const;
export const SUCCESS_FAILURE = ['success', 'failure'] as const;
export const MIGRATION_RESULTS = ['success', 'timeout', 'failed'] as const;

export interface Metrics {
  readonly registry: Registry;
  readonly rpcDuration: Histogram<'method' | 'code'>;
  readonly volumeOperations: Counter<'operation' | 'status'>;
  readonly volumeOperationDuration: Histogram<'operation'>;
  readonly nvmeConnects: Counter<'status'>;
  readonly nvmeConnectDuration: Histogram;
  readonly nvmeDisconnects: Counter<'status'>;
  readonly nvmeConnectionsActive: Gauge;
  readonly nvmeDeviceReadyDuration: Histogram;
  readonly mountOperations: Counter<'operation' | 'status'>;
  readonly staleMountsDetected: Counter;
  readonly staleRecoveries: Counter<'status'>;
  readonly orphansCleaned: Counter;
  readonly attachmentAttach: Counter<'status'>;
  readonly attachmentDetach: Counter<'status'>;
  readonly attachmentConflicts: Counter;
  readonly attachmentReconcile: Counter<'action'>;
  readonly attachmentOperationDuration: Histogram<'operation'>;
  readonly attachmentGracePeriodUsed: Counter;
  readonly attachmentStaleCleared: Counter;
  readonly migrationActive: Gauge;
  readonly migrations: Counter<'result'>;
  readonly migrationDuration: Histogram;
  readonly eventsPosted: Counter<'reason'>;
  readonly eventsDropped: Counter<'reason'>;
  readonly rdsConnectionState: Gauge;
  readonly rdsReconnects: Counter<'status'>;
  readonly rdsCommandDuration: Histogram<'command' | 'outcome'>;
  readonly buildInfo: Gauge<'version' | 'commit'>;
}

export function createMetrics(opts: {
  registry?: Registry;
  version: string;
  commit: string;
  processMetrics?: boolean;
}): Metrics {
  const registry = opts.registry ?? new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const r = [registry];

  const m: Metrics = {
    registry,
    rpcDuration: new Histogram({
      name: `${P}csi_rpc_duration_seconds`,
      help: 'Duration of CSI RPCs by method and gRPC status code.',
      labelNames: ['method', 'code'],
      buckets: FAST_BUCKETS,
      registers: r,
    }),
    volumeOperations: new Counter({
      name: `${P}volume_operations_total`,
      help: 'Node volume operations by operation and status.',
      labelNames: ['operation', 'status'],
      registers: r,
    }),
    volumeOperationDuration: new Histogram({
      name: `${P}volume_operation_duration_seconds`,
      help: 'Duration of node volume operations.',
      labelNames: ['operation'],
      buckets: FAST_BUCKETS,
      registers: r,
    }),
    nvmeConnects: new Counter({
      name: `${P}nvme_connects_total`,
      help: 'NVMe/TCP fabric connects by status.',
      labelNames: ['status'],
      registers: r,
    }),
    nvmeConnectDuration: new Histogram({
      name: `${P}nvme_connect_duration_seconds`,
      help: 'Duration of NVMe/TCP fabric connects (write to /dev/nvme-fabrics).',
      buckets: FAST_BUCKETS,
      registers: r,
    }),
    nvmeDisconnects: new Counter({
      name: `${P}nvme_disconnects_total`,
      help: 'NVMe/TCP controller disconnects by status.',
      labelNames: ['status'],
      registers: r,
    }),
    nvmeConnectionsActive: new Gauge({
      name: `${P}nvme_connections_active`,
      help: 'Live NVMe controllers on this node whose subsystem NQN the driver manages.',
      registers: r,
    }),
    nvmeDeviceReadyDuration: new Histogram({
      name: `${P}nvme_device_ready_duration_seconds`,
      help: 'Time from a connect until the namespace block device is usable.',
      buckets: FAST_BUCKETS,
      registers: r,
    }),
    mountOperations: new Counter({
      name: `${P}mount_operations_total`,
      help: 'Mount operations by operation and status.',
      labelNames: ['operation', 'status'],
      registers: r,
    }),
    staleMountsDetected: new Counter({
      name: `${P}stale_mounts_detected_total`,
      help: 'Mounts found on a vanished or replaced device.',
      registers: r,
    }),
    staleRecoveries: new Counter({
      name: `${P}stale_recoveries_total`,
      help: 'Recoveries of stale mounts by status.',
      labelNames: ['status'],
      registers: r,
    }),
    orphansCleaned: new Counter({
      name: `${P}orphans_cleaned_total`,
      help: 'Managed NVMe controllers with no staged volume that were disconnected.',
      registers: r,
    }),
    attachmentAttach: new Counter({
      name: `${P}attachment_attach_total`,
      help: 'ControllerPublish attachment decisions by status.',
      labelNames: ['status'],
      registers: r,
    }),
    attachmentDetach: new Counter({
      name: `${P}attachment_detach_total`,
      help: 'ControllerUnpublish detachments by status.',
      labelNames: ['status'],
      registers: r,
    }),
    attachmentConflicts: new Counter({
      name: `${P}attachment_conflicts_total`,
      help: 'Publishes refused because the volume is attached elsewhere.',
      registers: r,
    }),
    attachmentReconcile: new Counter({
      name: `${P}attachment_reconcile_total`,
      help: 'Reconciler actions by kind.',
      labelNames: ['action'],
      registers: r,
    }),
    attachmentOperationDuration: new Histogram({
      name: `${P}attachment_operation_duration_seconds`,
      help: 'Duration of attach and detach operations.',
      labelNames: ['operation'],
      buckets: FAST_BUCKETS,
      registers: r,
    }),
    attachmentGracePeriodUsed: new Counter({
      name: `${P}attachment_grace_period_used_total`,
      help: 'Publishes allowed because the previous node detached within the grace period.',
      registers: r,
    }),
    attachmentStaleCleared: new Counter({
      name: `${P}attachment_stale_cleared_total`,
      help: 'Attachments of nodes that no longer exist, cleared by the reconciler.',
      registers: r,
    }),
    migrationActive: new Gauge({
      name: `${P}migration_active_migrations`,
      help: 'Volumes currently attached to two nodes for a live migration.',
      registers: r,
    }),
    migrations: new Counter({
      name: `${P}migration_migrations_total`,
      help: 'Finished live migrations by result.',
      labelNames: ['result'],
      registers: r,
    }),
    migrationDuration: new Histogram({
      name: `${P}migration_duration_seconds`,
      help: 'Duration of live migrations from second attach to hand-off.',
      buckets: MIGRATION_BUCKETS,
      registers: r,
    }),
    eventsPosted: new Counter({
      name: `${P}events_posted_total`,
      help: 'Kubernetes events posted by reason.',
      labelNames: ['reason'],
      registers: r,
    }),
    eventsDropped: new Counter({
      name: `${P}events_dropped_total`,
      help: 'Kubernetes events dropped (queue full or API errors) by reason.',
      labelNames: ['reason'],
      registers: r,
    }),
    rdsConnectionState: new Gauge({
      name: `${P}rds_connection_state`,
      help: 'SSH connection to the RDS: 1 connected, 0 not connected.',
      registers: r,
    }),
    rdsReconnects: new Counter({
      name: `${P}rds_reconnect_total`,
      help: 'SSH reconnect attempts to the RDS by status.',
      labelNames: ['status'],
      registers: r,
    }),
    rdsCommandDuration: new Histogram({
      name: `${P}rds_command_duration_seconds`,
      help: 'RouterOS command latency by command name and outcome.',
      labelNames: ['command', 'outcome'],
      buckets: FAST_BUCKETS,
      registers: r,
    }),
    buildInfo: new Gauge({
      name: `${P}build_info`,
      help: 'Build information; the value is always 1.',
      labelNames: ['version', 'commit'],
      registers: r,
    }),
  };

  m.buildInfo.set({ version: opts.version, commit: opts.commit }, 1);
  for (const operation of VOLUME_OPERATIONS) {
    for (const status of SUCCESS_FAILURE) m.volumeOperations.inc({ operation, status }, 0);
  }
  for (const status of SUCCESS_FAILURE) {
    m.nvmeConnects.inc({ status }, 0);
    m.nvmeDisconnects.inc({ status }, 0);
    m.attachmentAttach.inc({ status }, 0);
    m.attachmentDetach.inc({ status }, 0);
    m.staleRecoveries.inc({ status }, 0);
    m.rdsReconnects.inc({ status }, 0);
  }
  for (const result of MIGRATION_RESULTS) m.migrations.inc({ result }, 0);
  m.rdsConnectionState.set(0);
  return m;
}
