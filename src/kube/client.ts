/**
 * Adapters from @kubernetes/client-node to the ports. The only module importing the
 * library; the composition root calls createKubeClients once.
 */
import * as k8s from '@kubernetes/client-node';
import { toPvInfo } from './convert';
import type { ListWatch, WatchEventType } from './informer';
import {
  KubeApiError,
  HOST_NQN_ANNOTATION,
  type EventsApi,
  type KubeEventSpec,
  type LeaseApi,
  type LeaseRecord,
  type ObjectRef,
  type PvInfo,
  type PvLookup,
} from './ports';

export type KubeConfigSource =
  | { readonly kind: 'in-cluster' }
  | { readonly kind: 'file'; readonly path: string }
  /** A kubeconfig document (YAML or JSON), e.g. for tests. */
  | { readonly kind: 'inline'; readonly text: string };

/**
 * A KubeConfig that names the driver on every request: `User-Agent: <userAgent>` on the
 * generated API clients (set after authentication, on each request context) and on
 * watches (which build their own fetch options). Without it every request says
 * `node-fetch/1.0` and audit logs cannot tell the driver from anything else.
 */
class NamedKubeConfig extends k8s.KubeConfig {
  constructor(private readonly userAgent: string) {
    super();
  }

  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setHeaderParam('User-Agent', this.userAgent);
  }

  override async applyToFetchOptions(
    opts: Parameters<k8s.KubeConfig['applyToFetchOptions']>[0],
  ): ReturnType<k8s.KubeConfig['applyToFetchOptions']> {
    const init = await super.applyToFetchOptions(opts);
    // client-node builds a WHATWG Headers here (its type says node-fetch's HeadersInit).
    const headers = init.headers as unknown;
    if (headers instanceof Headers) headers.set('User-Agent', this.userAgent);
    else init.headers = { ...(headers as Record<string, string>), 'User-Agent': this.userAgent };
    return init;
  }
}

/** `rds-csi/<version> (<mode>)`, the User-Agent of every Kubernetes request. */
export function userAgent(version: string, mode: string): string {
  return `rds-csi/${version} (${mode})`;
}

export function loadKubeConfig(src: KubeConfigSource, agent: string): k8s.KubeConfig {
  const kc = new NamedKubeConfig(agent);
  if (src.kind === 'in-cluster') kc.loadFromCluster();
  else if (src.kind === 'file') kc.loadFromFile(src.path);
  else kc.loadFromString(src.text);
  return kc;
}

export interface KubeClients {
  readonly nodes: ListWatch<k8s.V1Node>;
  readonly volumeAttachments: ListWatch<k8s.V1VolumeAttachment>;
  readonly pvs: PvLookup;
  readonly events: EventsApi;
  readonly leases: LeaseApi;
  /**
   * Publishes the node plugin's NVMe host NQN on its own Node object, so the controller can
   * put exactly the published nodes on a fenced volume's RDS allow-list. A JSON merge patch
   * of one annotation; the caller retries in the background until it lands.
   */
  annotateNode(name: string, hostnqn: string): Promise<void>;
  /** The uid of a Node (undefined when it does not exist), for events about it. */
  nodeUid(name: string): Promise<string | undefined>;
  /** One Node, listed and watched by name (the node plugin follows its own Node). */
  ownNode(name: string): ListWatch<k8s.V1Node>;
}

/** Normalise client-node failures (ApiException carries `code`) to KubeApiError. */
function apiError(err: unknown, what: string): KubeApiError {
  if (err instanceof KubeApiError) return err;
  const code = (err as { code?: unknown }).code;
  const status = typeof code === 'number' ? code : 0;
  return new KubeApiError(status, `${what} failed${status ? ` (HTTP ${status})` : ''}`, {
    cause: err,
  });
}

async function call<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw apiError(err, what);
  }
}

async function orUndefined<T>(what: string, f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call(what, f);
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

function listWatch<T extends { metadata?: { resourceVersion?: string } }>(
  kc: k8s.KubeConfig,
  path: string,
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
  fieldSelector?: string,
): ListWatch<T> {
  const watcher = new k8s.Watch(kc);
  return {
    async list() {
      const r = await call(`list ${path}`, list);
      return { items: r.items, resourceVersion: r.metadata?.resourceVersion ?? '' };
    },
    async watch(resourceVersion, onEvent, onDone) {
      const query: Record<string, string | boolean> = { allowWatchBookmarks: true };
      if (fieldSelector !== undefined) query.fieldSelector = fieldSelector;
      if (resourceVersion !== '') query.resourceVersion = resourceVersion;
      const ctl = await watcher.watch(
        path,
        query,
        (type: string, obj: T) => onEvent(type as WatchEventType, obj),
        (err: unknown) => onDone(err),
      );
      return () => ctl.abort();
    },
  };
}

function leaseRecord(l: k8s.V1Lease): LeaseRecord {
  const s = l.spec ?? {};
  const ms = (d: Date | undefined): number | undefined =>
    d === undefined ? undefined : new Date(d).getTime();
  return {
    ...(s.holderIdentity === undefined ? {} : { holder: s.holderIdentity }),
    ...(s.leaseDurationSeconds === undefined
      ? {}
      : { leaseDurationSeconds: s.leaseDurationSeconds }),
    ...(s.acquireTime === undefined ? {} : { acquireTime: ms(s.acquireTime) }),
    ...(s.renewTime === undefined ? {} : { renewTime: ms(s.renewTime) }),
    transitions: s.leaseTransitions ?? 0,
    resourceVersion: l.metadata?.resourceVersion ?? '',
  };
}

function leaseSpec(r: Omit<LeaseRecord, 'resourceVersion'>): k8s.V1LeaseSpec {
  const micro = (ms: number | undefined): k8s.V1MicroTime | undefined =>
    ms === undefined ? undefined : new k8s.V1MicroTime(ms);
  return {
    ...(r.holder === undefined ? {} : { holderIdentity: r.holder }),
    ...(r.leaseDurationSeconds === undefined
      ? {}
      : { leaseDurationSeconds: r.leaseDurationSeconds }),
    ...(r.acquireTime === undefined ? {} : { acquireTime: micro(r.acquireTime) }),
    ...(r.renewTime === undefined ? {} : { renewTime: micro(r.renewTime) }),
    leaseTransitions: r.transitions,
  };
}

export function createKubeClients(
  kc: k8s.KubeConfig,
  opts: { readonly component: string; readonly instance: string },
): KubeClients {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const storage = kc.makeApiClient(k8s.StorageV1Api);
  const coordination = kc.makeApiClient(k8s.CoordinationV1Api);

  const pvs: PvLookup = {
    async getPv(name: string): Promise<PvInfo | undefined> {
      const pv = await orUndefined('get persistentvolume', () =>
        core.readPersistentVolume({ name }),
      );
      return pv === undefined ? undefined : toPvInfo(pv);
    },
    async getPvcUid(namespace: string, name: string): Promise<string | undefined> {
      const pvc = await orUndefined('get persistentvolumeclaim', () =>
        core.readNamespacedPersistentVolumeClaim({ namespace, name }),
      );
      return pvc?.metadata?.uid;
    },
    async findPvByHandle(driver: string, volumeId: string): Promise<PvInfo | undefined> {
      const list = await call('list persistentvolumes', () => core.listPersistentVolume());
      const pv = list.items.find(
        (p) => p.spec?.csi?.driver === driver && p.spec.csi.volumeHandle === volumeId,
      );
      return pv === undefined ? undefined : toPvInfo(pv);
    },
  };

  let seq = 0;
  const events: EventsApi = {
    async create(
      namespace: string,
      ref: ObjectRef,
      spec: KubeEventSpec,
      at: Date,
    ): Promise<string> {
      seq = (seq + 1) % 0x100000;
      const name = `${ref.name}.${at.getTime().toString(16)}${seq.toString(16).padStart(5, '0')}`;
      await call('create event', () =>
        core.createNamespacedEvent({
          namespace,
          body: {
            metadata: { name, namespace },
            involvedObject: {
              kind: ref.kind,
              apiVersion: 'v1',
              name: ref.name,
              ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
              ...(ref.uid === undefined ? {} : { uid: ref.uid }),
            },
            type: spec.type,
            reason: spec.reason,
            message: spec.message,
            source: { component: opts.component },
            reportingComponent: opts.component,
            reportingInstance: opts.instance,
            firstTimestamp: at,
            lastTimestamp: at,
            count: 1,
          },
        }),
      );
      return name;
    },
    async repeat(namespace: string, name: string, count: number, at: Date): Promise<void> {
      await call('patch event', () =>
        core.patchNamespacedEvent(
          { namespace, name, body: { count, lastTimestamp: at } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        ),
      );
    },
  };

  const leases: LeaseApi = {
    async get(namespace, name) {
      const l = await orUndefined('get lease', () =>
        coordination.readNamespacedLease({ namespace, name }),
      );
      return l === undefined ? undefined : leaseRecord(l);
    },
    async create(namespace, name, spec) {
      const l = await call('create lease', () =>
        coordination.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: leaseSpec(spec) },
        }),
      );
      return leaseRecord(l);
    },
    async update(namespace, name, rec) {
      const l = await call('update lease', () =>
        coordination.replaceNamespacedLease({
          namespace,
          name,
          body: {
            metadata: { name, namespace, resourceVersion: rec.resourceVersion },
            spec: leaseSpec(rec),
          },
        }),
      );
      return leaseRecord(l);
    },
  };

  return {
    nodes: listWatch(kc, '/api/v1/nodes', () => core.listNode()),
    volumeAttachments: listWatch(kc, '/apis/storage.k8s.io/v1/volumeattachments', () =>
      storage.listVolumeAttachment(),
    ),
    pvs,
    events,
    leases,
    async nodeUid(name) {
      const n = await orUndefined('get node', () => core.readNode({ name }));
      return n?.metadata?.uid;
    },
    ownNode(name) {
      const fieldSelector = `metadata.name=${name}`;
      return listWatch(kc, '/api/v1/nodes', () => core.listNode({ fieldSelector }), fieldSelector);
    },
    async annotateNode(name, hostnqn) {
      await call('patch node', () =>
        core.patchNode(
          { name, body: { metadata: { annotations: { [HOST_NQN_ANNOTATION]: hostnqn } } } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        ),
      );
    },
  };
}
