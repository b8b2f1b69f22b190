/**
 * Composition of the full attachment manager: the AttachmentService (implements the
 * controller's AttachmentManager), the Reconciler, and, when Kubernetes is available,
 * their wiring to informers (every replica follows each VolumeAttachment change and
 * re-settles every volume on a relist; reconcile on Node delete and Ready→NotReady and on
 * becoming leader), the event recorder and the RDS reconnect hook.
 */
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import type { ExportsPort, HealthPort, VolumesPort } from '../../routeros/ports';
import type { KubeRuntime } from '../../kube';
import { PvcEventSink } from './volume-events';
import { rebuildFromKube } from './rebuild';
import { AttachmentSync } from './sync';
import { Reconciler, type Timers } from './reconciler';
import { AttachmentService } from './service';

export { AttachmentService } from './service';
export { Reconciler, type ReconcileReport, type Timers } from './reconciler';
export { PvcEventSink } from './volume-events';
export { rebuildFromKube } from './rebuild';

export interface AttachmentManagerDeps {
  /** CSI driver name: VolumeAttachments with this attacher are ours. */
  readonly driverName: string;
  readonly exports: ExportsPort;
  /** For allow-list drift checks of fenced volumes (optional). */
  readonly volumes?: Pick<VolumesPort, 'get'>;
  /** RDS reconnects trigger a reconcile pass (optional). */
  readonly health?: Pick<HealthPort, 'onReconnect'>;
  /** Absent: no Kubernetes (rules still apply; nothing survives a restart). */
  readonly kube?: KubeRuntime;
  readonly metrics?: Metrics;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Grace period after the last unpublish (default 30 s). */
  readonly graceMs?: number;
  /** How long a deleted Node must stay deleted before its attachments are cleared. */
  readonly nodeGoneGraceMs?: number;
  /** Reconcile interval (default 5 min). */
  readonly reconcileIntervalMs?: number;
  readonly timers?: Timers;
}

export interface AttachmentRuntime {
  readonly manager: AttachmentService;
  readonly reconciler: Reconciler;
  /**
   * Start Kubernetes (if any), rebuild state from VolumeAttachments, then reconcile.
   * Publishes wait for the first rebuild (they are held, not refused).
   */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createAttachmentManager(d: AttachmentManagerDeps): AttachmentRuntime {
  const now = d.now ?? Date.now;
  const log = d.logger.child({ component: 'attachments' });
  const kube = d.kube;
  // Filled in below: the sync knows which PV a VolumeAttachment names for a volume.
  const late: { reconciler?: Reconciler; sync?: AttachmentSync } = {};
  const events =
    kube === undefined
      ? undefined
      : new PvcEventSink({
          recorder: kube.recorder,
          pvs: kube.pvs,
          driverName: d.driverName,
          pvNameOf: (id) => late.sync?.pvNameOf(id),
        });
  // The service re-arms the reconciler's deadline timer; the reconciler needs the service.
  const manager = new AttachmentService({
    exports: d.exports,
    ...(kube === undefined ? {} : { nodes: kube.nodes }),
    ...(events === undefined ? {} : { events }),
    ...(d.metrics === undefined ? {} : { metrics: d.metrics }),
    now,
    logger: log,
    ...(d.graceMs === undefined ? {} : { graceMs: d.graceMs }),
    ...(d.nodeGoneGraceMs === undefined ? {} : { nodeGoneGraceMs: d.nodeGoneGraceMs }),
    onChange: () => late.reconciler?.armDeadline(),
  });
  const kubeView =
    kube === undefined
      ? undefined
      : () =>
          rebuildFromKube({
            driverName: d.driverName,
            volumeAttachments: () => kube.volumeAttachments.list(),
            pvs: kube.pvs,
            nodes: kube.nodes,
            logger: log,
          });
  const rec = new Reconciler({
    service: manager,
    ...(kube === undefined ? {} : { nodes: kube.nodes, isLeader: () => kube.isLeader() }),
    ...(kubeView === undefined ? {} : { kubeView }),
    ...(d.volumes === undefined ? {} : { volumes: d.volumes }),
    exports: d.exports,
    ...(d.metrics === undefined ? {} : { metrics: d.metrics }),
    logger: log,
    now,
    ...(d.reconcileIntervalMs === undefined ? {} : { intervalMs: d.reconcileIntervalMs }),
    ...(d.timers === undefined ? {} : { timers: d.timers }),
  });
  late.reconciler = rec;
  const sync =
    kube === undefined
      ? undefined
      : new AttachmentSync({
          driverName: d.driverName,
          volumeAttachments: () => kube.volumeAttachments.list(),
          pvs: kube.pvs,
          nodes: kube.nodes,
          service: manager,
          logger: log,
        });
  late.sync = sync;
  const rebuild = async (why: string): Promise<void> => {
    if (sync === undefined) return;
    try {
      const volumes = await sync.all();
      log.info('attachment state rebuilt from VolumeAttachments', { why, volumes });
    } catch (err) {
      log.error('rebuild from VolumeAttachments failed', { why, err });
    }
  };
  // Events are followed from before the first rebuild reads the cache: nothing between
  // the two is missed (each volume's turn reads the cache afresh).
  let following = false;
  let started = false;
  let unsubscribe: (() => void) | undefined;
  if (kube !== undefined && sync !== undefined) {
    kube.onVolumeAttachment((va) => {
      if (following) void sync.changed(va);
    });
    kube.onVolumeAttachmentsRelist(() => {
      if (started) void rebuild('relist').then(() => rec.trigger('rebuild'));
    });
    kube.onNode({
      onDelete: (n) => void rec.trigger(`node-deleted:${n.name}`),
      onUpdate: (old, n) => {
        if (old.ready && !n.ready) void rec.trigger(`node-not-ready:${n.name}`);
      },
    });
    // A new leader checks the RDS allow-lists and the drift at once, not at the next interval.
    kube.onStartedLeading(() => {
      if (started) void rec.trigger('became-leader');
    });
  }
  return {
    manager,
    reconciler: rec,
    async start() {
      const ready = (async () => {
        await kube?.start();
        following = true;
        await rebuild('start');
        started = true;
      })();
      manager.holdUntil(ready);
      await ready;
      unsubscribe = d.health?.onReconnect(() => void rec.trigger('rds-reconnect'));
      await rec.start();
    },
    async stop() {
      unsubscribe?.();
      await rec.stop();
      await kube?.stop();
    },
  };
}
