/** Resource table and object helpers of the stand-in API server (test/fakes/kube-apiserver.ts). */
export type Obj = { metadata: Meta; [k: string]: unknown };
export interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  generateName?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  [k: string]: unknown;
}

export interface ResourceDef {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export const RESOURCES: Readonly<Record<string, ResourceDef>> = {
  nodes: { group: '', version: 'v1', kind: 'Node', namespaced: false },
  persistentvolumes: { group: '', version: 'v1', kind: 'PersistentVolume', namespaced: false },
  persistentvolumeclaims: {
    group: '',
    version: 'v1',
    kind: 'PersistentVolumeClaim',
    namespaced: true,
  },
  events: { group: '', version: 'v1', kind: 'Event', namespaced: true },
  volumeattachments: {
    group: 'storage.k8s.io',
    version: 'v1',
    kind: 'VolumeAttachment',
    namespaced: false,
  },
  leases: { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', namespaced: true },
};
export type Plural =
  | 'nodes'
  | 'persistentvolumes'
  | 'persistentvolumeclaims'
  | 'events'
  | 'volumeattachments'
  | 'leases';

export function apiVersionOf(d: ResourceDef): string {
  return d.group === '' ? d.version : `${d.group}/${d.version}`;
}

export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete base[k];
    else base[k] = mergePatch(base[k], v);
  }
  return base;
}
