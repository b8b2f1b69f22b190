/**
 * Strict reading and schema validation of Kubernetes YAML for the deploy tests.
 *
 * - parseManifests: every document must parse without errors or warnings (duplicate keys
 *   included) and be a mapping with apiVersion, kind and metadata.name.
 * - validateObject: OpenAPI validation with the precompiled validators of kubernetes-models
 *   (and its prometheus-operator companion), plus an unknown-field check. Those validators do
 *   not reject extra properties, so the object is wrapped in a recording Proxy: the validator
 *   reads every property its schema declares, and enumerates the keys of free-form maps; any
 *   key of a visited object that it neither read nor enumerated is unknown to the schema.
 *   Snapshot kinds (no model package) get a small hand-written schema of the fields used here.
 */
import { parseAllDocuments } from 'yaml';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Secret } from 'kubernetes-models/v1/Secret';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { CSIDriver } from 'kubernetes-models/storage.k8s.io/v1/CSIDriver';
import { StorageClass } from 'kubernetes-models/storage.k8s.io/v1/StorageClass';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';

/** A rendered Kubernetes object, as plain data. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

/** Parses a multi-document YAML stream strictly; throws with every problem found. */
export function parseManifests(text: string, source = 'manifest'): K8sObject[] {
  const problems: string[] = [];
  const out: K8sObject[] = [];
  const docs = parseAllDocuments(text, { uniqueKeys: true, strict: true, prettyErrors: true });
  if (!Array.isArray(docs)) throw new Error(`${source}: not a YAML document stream`);
  docs.forEach((doc, i) => {
    for (const e of [...doc.errors, ...doc.warnings]) problems.push(`document ${i}: ${e.message}`);
    const value: unknown = doc.toJS({ maxAliasCount: 0 });
    if (value === null || value === undefined) return;
    if (!isRecord(value)) {
      problems.push(`document ${i}: not a mapping`);
      return;
    }
    const meta = value.metadata;
    if (
      typeof value.apiVersion !== 'string' ||
      typeof value.kind !== 'string' ||
      !isRecord(meta) ||
      typeof meta.name !== 'string'
    ) {
      problems.push(`document ${i}: needs apiVersion, kind and metadata.name`);
      return;
    }
    out.push(value as K8sObject);
  });
  if (problems.length > 0) throw new Error(`${source}:\n${problems.join('\n')}`);
  return out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface ModelClass {
  new (data: object): object;
  prototype: { validate(): void };
}

const MODELS: Record<string, ModelClass> = {};
for (const m of [
  Namespace,
  ServiceAccount,
  Secret,
  ConfigMap,
  Service,
  PersistentVolumeClaim,
  Pod,
  Deployment,
  DaemonSet,
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
  CSIDriver,
  StorageClass,
  ServiceMonitor,
  PrometheusRule,
] as unknown as (ModelClass & { apiVersion: string; kind: string })[]) {
  MODELS[`${m.apiVersion}/${m.kind}`] = m;
}

/** A tiny strict schema: nested objects list their fields; `'map'` is string→string. */
type Shape = 'string' | 'boolean' | 'map' | readonly string[] | { readonly [field: string]: Shape };

const METADATA: Shape = {
  name: 'string',
  namespace: 'string',
  labels: 'map',
  annotations: 'map',
};

/** The snapshot.storage.k8s.io/v1 fields this project writes (upstream CRD field names). */
const HAND_SCHEMAS: Record<string, { shape: Shape; required: readonly string[] }> = {
  'snapshot.storage.k8s.io/v1/VolumeSnapshotClass': {
    shape: {
      apiVersion: 'string',
      kind: 'string',
      metadata: METADATA,
      driver: 'string',
      deletionPolicy: ['Delete', 'Retain'],
      parameters: 'map',
    },
    required: ['driver', 'deletionPolicy'],
  },
  'snapshot.storage.k8s.io/v1/VolumeSnapshot': {
    shape: {
      apiVersion: 'string',
      kind: 'string',
      metadata: METADATA,
      spec: {
        volumeSnapshotClassName: 'string',
        source: { persistentVolumeClaimName: 'string', volumeSnapshotContentName: 'string' },
      },
    },
    required: ['spec'],
  },
};

function checkShape(value: unknown, shape: Shape, path: string, problems: string[]): void {
  if (shape === 'string' || shape === 'boolean') {
    if (typeof value !== shape) problems.push(`${path}: must be a ${shape}`);
    return;
  }
  if (Array.isArray(shape)) {
    if (!shape.includes(value)) problems.push(`${path}: must be one of ${shape.join(', ')}`);
    return;
  }
  if (!isRecord(value)) {
    problems.push(`${path}: must be an object`);
    return;
  }
  if (shape === 'map') {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') problems.push(`${path}.${k}: must be a string`);
    }
    return;
  }
  const fields = shape as { readonly [field: string]: Shape };
  for (const [k, v] of Object.entries(value)) {
    const sub = fields[k];
    if (sub === undefined) problems.push(`${path}.${k}: unknown field`);
    else checkShape(v, sub, `${path}.${k}`, problems);
  }
}

interface Visit {
  readonly target: object;
  readonly read: Set<string>;
  enumerated: boolean;
}

/** Wraps `root` so that every property read and key enumeration is recorded, per path. */
function recording(root: object): { proxy: object; visits: Map<string, Visit> } {
  const visits = new Map<string, Visit>();
  const wrap = (target: object, path: string): object => {
    const visit: Visit = { target, read: new Set(), enumerated: false };
    visits.set(path, visit);
    const children = new Map<string, object>();
    return new Proxy(target, {
      get(t, key, receiver) {
        const v: unknown = Reflect.get(t, key, receiver);
        if (typeof key !== 'string') return v;
        visit.read.add(key);
        if (typeof v !== 'object' || v === null || !Object.hasOwn(t, key)) return v;
        let child = children.get(key);
        if (!child) {
          child = wrap(v, `${path}/${key}`);
          children.set(key, child);
        }
        return child;
      },
      has(t, key) {
        if (typeof key === 'string') visit.read.add(key);
        return Reflect.has(t, key);
      },
      ownKeys(t) {
        visit.enumerated = true;
        return Reflect.ownKeys(t);
      },
    });
  };
  return { proxy: wrap(root, ''), visits };
}

/** Fields of `obj` that its kind's schema does not know, as JSON-pointer-like paths. */
function unknownFields(visits: Map<string, Visit>): string[] {
  const out: string[] = [];
  for (const [path, v] of visits) {
    if (Array.isArray(v.target) || v.enumerated) continue;
    for (const key of Object.keys(v.target)) if (!v.read.has(key)) out.push(`${path}/${key}`);
  }
  return out.sort();
}

/** Every schema problem of one object (empty when valid). */
export function validateObject(obj: K8sObject): string[] {
  const id = `${obj.apiVersion}/${obj.kind}`;
  const hand = HAND_SCHEMAS[id];
  if (hand) {
    const problems: string[] = [];
    checkShape(obj, hand.shape, obj.kind, problems);
    for (const r of hand.required) if (!(r in obj)) problems.push(`${obj.kind}.${r}: required`);
    return problems;
  }
  const Model = MODELS[id];
  if (!Model) return [`${id}: no schema known to the tests; add its model`];
  const model = new Model(structuredClone(obj));
  const { proxy, visits } = recording(model);
  const problems: string[] = [];
  try {
    Model.prototype.validate.call(proxy);
  } catch (err) {
    problems.push((err as Error).message);
  }
  for (const f of unknownFields(visits)) problems.push(`${f}: unknown field`);
  return problems;
}
