/**
 * What the node use-cases are built from: the two ports, this node's identity, a record
 * store, narrow metric and event hooks, and tunables. resolveNode() fills the defaults
 * once; every use-case takes the resolved NodeContext.
 */
import type { Metrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import { nullLogger } from '../observability/logger';
import type { Fabrics, FabricsTuning } from '../nvme/ports';
import type { Mounter } from '../mount/ports';
import { type RecordStore, createFileRecordStore } from './records';
import { TOPOLOGY_KEY } from '../domain/topology';

/** Node-side Kubernetes events; posting is someone else's job, this is the narrow hook. */
export interface NodeEvents {
  staleMountDetected(e: { volumeId: string; path: string; reason: string }): void;
  mountFailure(e: { volumeId: string; reason: string }): void;
  /** The volume was attached again after its controller had gone away. */
  connectionRecovered(e: { volumeId: string; nqn: string; device: string }): void;
}

export const noopNodeEvents: NodeEvents = Object.freeze({
  staleMountDetected: () => undefined,
  mountFailure: () => undefined,
  connectionRecovered: () => undefined,
});

export type NodeMetrics = Pick<
  Metrics,
  | 'volumeOperations'
  | 'volumeOperationDuration'
  | 'mountOperations'
  | 'staleMountsDetected'
  | 'staleRecoveries'
>;

export interface NodeTiming {
  /** Connect + device wait allowed per attach. */
  readonly attachDeadlineMs: number;
  /** blkid attempts before an ambiguous probe fails the stage (never formats). */
  readonly probeAttempts: number;
  readonly probeDelayMs: number;
  /** umount attempts while the mount is busy. */
  readonly unmountAttempts: number;
  readonly unmountDelayMs: number;
  /** How long expansion waits for the kernel to report the new size. */
  readonly expandWaitMs: number;
  readonly pollMs: number;
}

export const DEFAULT_TIMING: NodeTiming = Object.freeze({
  attachDeadlineMs: 30_000,
  probeAttempts: 4,
  probeDelayMs: 250,
  unmountAttempts: 5,
  unmountDelayMs: 200,
  expandWaitMs: 15_000,
  pollMs: 50,
});

export interface NodeDeps {
  readonly nodeId: string;
  /** Staging and target paths must lie under this directory (config.node.kubeletDir). */
  readonly kubeletDir: string;
  /** Where staging records live; default <kubeletDir>/plugins/rds-csi.dev/node. */
  readonly stateDir?: string;
  /** 0 = no limit (config.node.maxVolumesPerNode). */
  readonly maxVolumesPerNode: number;
  /** Key of the topology segment; default TOPOLOGY_KEY (another in compatibility mode). */
  readonly topologyKey?: string;
  /** Value of the topology segment (TOPOLOGY_KEY); default DEFAULT_TOPOLOGY_VALUE. */
  readonly topologyValue?: string;
  readonly fabrics: Fabrics;
  readonly mounter: Mounter;
  /** This node's host NQN and host id (loadHostIdentity in src/nvme/hostid.ts). */
  readonly host: { readonly hostnqn: string; readonly hostid: string };
  readonly tuning?: FabricsTuning;
  /** Run fsck (preen) before mounting an existing filesystem. Default false. */
  readonly fsckOnStage?: boolean;
  readonly metrics?: NodeMetrics;
  readonly events?: NodeEvents;
  readonly logger?: Logger;
  readonly timing?: Partial<NodeTiming>;
  readonly records?: RecordStore;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly now?: () => number;
}

export interface NodeContext {
  readonly nodeId: string;
  readonly kubeletDir: string;
  readonly maxVolumesPerNode: number;
  readonly topologyKey: string;
  readonly topologyValue: string;
  readonly fabrics: Fabrics;
  readonly mounter: Mounter;
  readonly host: { readonly hostnqn: string; readonly hostid: string };
  readonly tuning: FabricsTuning | undefined;
  readonly fsckOnStage: boolean;
  readonly metrics: NodeMetrics | undefined;
  readonly events: NodeEvents;
  readonly logger: Logger;
  readonly timing: NodeTiming;
  readonly records: RecordStore;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly now: () => number;
  /** Stale mounts already counted, so periodic stats calls do not inflate the metric. */
  readonly staleSeen: Set<string>;
}

export function resolveNode(deps: NodeDeps): NodeContext {
  const stateDir = deps.stateDir ?? `${deps.kubeletDir}/plugins/rds-csi.dev/node`;
  return {
    nodeId: deps.nodeId,
    kubeletDir: deps.kubeletDir,
    maxVolumesPerNode: deps.maxVolumesPerNode,
    topologyKey: deps.topologyKey ?? TOPOLOGY_KEY,
    topologyValue: deps.topologyValue ?? 'default',
    fabrics: deps.fabrics,
    mounter: deps.mounter,
    host: deps.host,
    tuning: deps.tuning,
    fsckOnStage: deps.fsckOnStage ?? false,
    metrics: deps.metrics,
    events: deps.events ?? noopNodeEvents,
    logger: deps.logger ?? nullLogger(),
    timing: { ...DEFAULT_TIMING, ...deps.timing },
    records: deps.records ?? createFileRecordStore(stateDir),
    sleep: deps.sleep ?? sleep,
    now: deps.now ?? (() => performance.now()),
    staleSeen: new Set(),
  };
}

/** A timer that rejects with the signal's reason when aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
