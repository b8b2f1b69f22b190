/**
 * The Kubernetes runtime of the controller: informers for Nodes and VolumeAttachments,
 * PV lookups, the one event recorder and (optionally) leader election. Built once by the
 * composition root with createKube(); use-cases get the narrow pieces.
 */
import type { Metrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import {
  createKubeClients,
  loadKubeConfig,
  type KubeClients,
  type KubeConfigSource,
} from './client';
import { toNodeInfo, toVolumeAttachmentInfo } from './convert';
import { EventRecorder } from './events';
import { SupervisedInformer } from './informer';
import { LeaderElector } from './leader';
import type { NodeInfo, PvLookup, VolumeAttachmentInfo } from './ports';
import type * as k8s from '@kubernetes/client-node';

export type * from './ports';
export { KubeApiError, HOST_NQN_ANNOTATION } from './ports';
export type { KubeConfigSource } from './client';
export { EventRecorder } from './events';
export { LeaderElector } from './leader';
export { SupervisedInformer } from './informer';

export interface LeaderElectionOptions {
  readonly namespace: string;
  /** Lease name (default `rds-csi-controller`). */
  readonly name?: string;
  /** This replica's identity: the pod name. */
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
}

export interface KubeOptions {
  /** Where to find the API server (in-cluster service account, or a kubeconfig). */
  readonly source: KubeConfigSource;
  readonly logger: Logger;
  readonly metrics?: Pick<Metrics, 'eventsPosted' | 'eventsDropped'>;
  /** `source.component` of posted events (default `rds-csi-controller`). */
  readonly component?: string;
  /** Namespace for events about cluster-scoped objects (default `default`). */
  readonly eventNamespace?: string;
  readonly eventQueueCapacity?: number;
  readonly informerResyncMs?: number;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** Absent = no election: this replica always acts as leader. */
  readonly leaderElection?: LeaderElectionOptions;
  /** Injected for tests: clients built elsewhere. */
  readonly clients?: KubeClients;
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
  /** Start informers (Nodes first, synced, then VolumeAttachments) and the elector. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createKube(o: KubeOptions): KubeRuntime {
  const component = o.component ?? 'rds-csi-controller';
  const identity = o.leaderElection?.identity ?? component;
  const clients =
    o.clients ?? createKubeClients(loadKubeConfig(o.source), { component, instance: identity });
  const nodeListeners: NodeListener[] = [];
  const relistListeners: Array<() => void> = [];
  const common = {
    logger: o.logger,
    ...(o.informerResyncMs === undefined ? {} : { resyncMs: o.informerResyncMs }),
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
    onRelist: () => relistListeners.forEach((cb) => cb()),
  });
  const recorder = new EventRecorder({
    api: clients.events,
    logger: o.logger,
    ...(o.metrics === undefined ? {} : { metrics: o.metrics }),
    ...(o.eventQueueCapacity === undefined ? {} : { capacity: o.eventQueueCapacity }),
    defaultNamespace: o.eventNamespace ?? 'default',
  });
  const le = o.leaderElection;
  const leader =
    le === undefined
      ? undefined
      : new LeaderElector({
          leases: clients.leases,
          namespace: le.namespace,
          name: le.name ?? 'rds-csi-controller',
          identity: le.identity,
          logger: o.logger,
          ...(le.leaseDurationMs === undefined ? {} : { leaseDurationMs: le.leaseDurationMs }),
          ...(le.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: le.renewDeadlineMs }),
          ...(le.retryPeriodMs === undefined ? {} : { retryPeriodMs: le.retryPeriodMs }),
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
