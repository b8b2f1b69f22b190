/**
 * The Kubernetes runtime of the controller: informers for Nodes and VolumeAttachments,
 * PV lookups, the one event recorder and (optionally) leader election. Built once by the
 * composition root with createKube(); use-cases get the narrow pieces.
 */
import type { Metrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import { createKubeClients, loadKubeConfig, type KubeConfigSource } from './client';
import { toNodeInfo, toVolumeAttachmentInfo } from './convert';
import { EventRecorder } from './events';
import { SupervisedInformer } from './informer';
import { LeaderElector } from './leader';
import type { NodeInfo, PvLookup, VolumeAttachmentInfo } from './ports';
import type * as k8s from '@kubernetes/client-node';

export interface LeaderElectionOptions {
  readonly namespace: string;
  /** This replica's identity: the pod name. */
  readonly identity: string;
  readonly retryPeriodMs?: number;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
}

export interface KubeOptions {
  /** Where to find the API server (in-cluster service account, or a kubeconfig). */
  readonly source: KubeConfigSource;
  readonly logger: Logger;
  readonly metrics?: Pick<Metrics, 'eventsPosted' | 'eventsDropped'>;
  /** `source.component` and reportingComponent of posted events (default `rds-csi-controller`). */
  readonly component?: string;
  /** reportingInstance of posted events: this replica's pod name (default: the Lease identity). */
  readonly instance?: string;
  /** User-Agent of every request (see userAgent() in ./client). */
  readonly userAgent: string;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** Absent = no election: this replica always acts as leader. */
  readonly leaderElection?: LeaderElectionOptions;
}

export interface NodeListener {
  onDelete?(n: NodeInfo): void;
  onUpdate?(old: NodeInfo, n: NodeInfo): void;
}

export interface KubeRuntime {
  readonly nodes: SupervisedInformer<k8s.V1Node, NodeInfo>;
  readonly volumeAttachments: SupervisedInformer<k8s.V1VolumeAttachment, VolumeAttachmentInfo>;
  readonly pvs: PvLookup;
  readonly recorder: EventRecorder;
  readonly leader: LeaderElector | undefined;
  isLeader(): boolean;
  /** Node delete/update notifications (registered before start()). */
  onNode(l: NodeListener): void;
  /** Called after every full VolumeAttachment list (start, 410 Gone, resync). */
  onVolumeAttachmentsRelist(cb: () => void): void;
  /** Every VolumeAttachment add, update and delete (the object as it is now, or was). */
  onVolumeAttachment(cb: (va: VolumeAttachmentInfo) => void): void;
  /** Called when this replica becomes leader (never without leader election). */
  onStartedLeading(cb: () => void): void;
  /** Start informers (Nodes first, synced, then VolumeAttachments) and the elector. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createKube(o: KubeOptions): KubeRuntime {
  const component = o.component ?? 'rds-csi-controller';
  const instance = o.instance ?? o.leaderElection?.identity ?? component;
  const clients = createKubeClients(loadKubeConfig(o.source, o.userAgent), {
    component,
    instance,
  });
  const nodeListeners: NodeListener[] = [];
  const relistListeners: Array<() => void> = [];
  const vaListeners: Array<(va: VolumeAttachmentInfo) => void> = [];
  const leadListeners: Array<() => void> = [];
  const vaChanged = (va: VolumeAttachmentInfo): void => vaListeners.forEach((cb) => cb(va));
  const common = {
    logger: o.logger,
    ...(o.backoffInitialMs === undefined ? {} : { backoffInitialMs: o.backoffInitialMs }),
    ...(o.backoffMaxMs === undefined ? {} : { backoffMaxMs: o.backoffMaxMs }),
  };
  const nodes = new SupervisedInformer<k8s.V1Node, NodeInfo>({
    ...common,
    name: 'nodes',
    listWatch: clients.nodes,
    convert: toNodeInfo,
    key: (n) => n.name,
    onDelete: (n) => nodeListeners.forEach((l) => l.onDelete?.(n)),
    onUpdate: (old, n) => nodeListeners.forEach((l) => l.onUpdate?.(old, n)),
  });
  const volumeAttachments = new SupervisedInformer<k8s.V1VolumeAttachment, VolumeAttachmentInfo>({
    ...common,
    name: 'volumeattachments',
    listWatch: clients.volumeAttachments,
    convert: toVolumeAttachmentInfo,
    key: (v) => v.name,
    onAdd: vaChanged,
    onUpdate: (_old, va) => vaChanged(va),
    onDelete: vaChanged,
    onRelist: () => relistListeners.forEach((cb) => cb()),
  });
  const recorder = new EventRecorder({
    api: clients.events,
    logger: o.logger,
    ...(o.metrics === undefined ? {} : { metrics: o.metrics }),
    // Events about cluster-scoped objects (Nodes, VolumeAttachments) go here.
    defaultNamespace: 'default',
  });
  const le = o.leaderElection;
  const leader =
    le === undefined
      ? undefined
      : new LeaderElector({
          leases: clients.leases,
          namespace: le.namespace,
          name: 'rds-csi-controller',
          identity: le.identity,
          logger: o.logger,
          ...(le.retryPeriodMs === undefined ? {} : { retryPeriodMs: le.retryPeriodMs }),
          ...(le.leaseDurationMs === undefined ? {} : { leaseDurationMs: le.leaseDurationMs }),
          ...(le.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: le.renewDeadlineMs }),
          onStartedLeading: () => leadListeners.forEach((cb) => cb()),
        });
  return {
    nodes,
    volumeAttachments,
    pvs: clients.pvs,
    recorder,
    leader,
    isLeader: () => leader?.isLeader ?? true,
    onNode: (l) => void nodeListeners.push(l),
    onVolumeAttachmentsRelist: (cb) => void relistListeners.push(cb),
    onVolumeAttachment: (cb) => void vaListeners.push(cb),
    onStartedLeading: (cb) => void leadListeners.push(cb),
    async start() {
      leader?.start();
      nodes.start();
      await nodes.waitForSync();
      volumeAttachments.start();
      await volumeAttachments.waitForSync();
    },
    async stop() {
      await Promise.all([nodes.stop(), volumeAttachments.stop()]);
      await leader?.stop();
      await recorder.stop();
    },
  };
}
