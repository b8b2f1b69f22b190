/**
 * How the attachment use-case records metric effects and posts event effects. The
 * Prometheus objects come from src/observability/metrics.ts; label values are closed sets.
 */
import type { Metrics } from '../../observability/metrics';
import type { MetricEffect } from '../../domain/attachment';
import type { KubeEventSpec } from '../../kube/ports';

export type AttachmentMetrics = Pick<
  Metrics,
  | 'attachmentAttach'
  | 'attachmentDetach'
  | 'attachmentConflicts'
  | 'attachmentReconcile'
  | 'attachmentOperationDuration'
  | 'attachmentGracePeriodUsed'
  | 'attachmentStaleCleared'
  | 'migrationActive'
  | 'migrations'
  | 'migrationDuration'
>;

/** Where events about a volume go (the PVC is resolved by the implementation). */
export interface VolumeEventSink {
  post(volumeId: string, spec: KubeEventSpec): void;
  /** The PVC of a volume, when the volume context named it (--extra-create-metadata). */
  rememberPvc?(volumeId: string, pvc: { namespace: string; name: string } | undefined): void;
}

/** Apply one metric effect. `migrationStarted` needs nothing: the gauge is set from state. */
export function recordMetric(m: AttachmentMetrics | undefined, e: MetricEffect): void {
  if (m === undefined) return;
  switch (e.name) {
    case 'attach':
      return m.attachmentAttach.inc({ status: e.status });
    case 'detach':
      return m.attachmentDetach.inc({ status: e.status });
    case 'conflict':
      return m.attachmentConflicts.inc();
    case 'gracePeriodUsed':
      return m.attachmentGracePeriodUsed.inc();
    case 'staleCleared':
      return m.attachmentStaleCleared.inc();
    case 'reconcile':
      return m.attachmentReconcile.inc({ action: e.action });
    case 'migrationStarted':
      return;
    case 'migrationEnded':
      m.migrations.inc({ result: e.result });
      if (e.durationSeconds !== undefined) m.migrationDuration.observe(e.durationSeconds);
      return;
  }
}
