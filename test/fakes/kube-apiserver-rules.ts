/**
 * Where the stand-in API server (test/fakes/kube-apiserver.ts) is as strict as a real
 * kube-apiserver about what clients write and read:
 * - field validation as with `fieldValidation=Strict`: a field the kind does not have is
 *   rejected (400, "strict decoding error: unknown field ..."), for the kinds the driver
 *   writes (Event, Lease; Node and PVC metadata);
 * - immutable fields: metadata.uid, metadata.name, metadata.creationTimestamp of every
 *   object, spec of a VolumeAttachment, spec.csi of a PV, involvedObject of an Event
 *   (422, "field is immutable");
 * - field selectors on events the way `kubectl describe` uses them
 *   (involvedObject.kind/namespace/name/uid, reason, type; `=`/`==` and `!=`);
 * - Lease times are MicroTime (RFC 3339 with microseconds), durations positive.
 */
import type { Obj } from './kube-apiserver-shapes';

export class ApiRejection extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

type Shape = { readonly [field: string]: Shape | true };

const META: Shape = {
  name: true,
  generateName: true,
  namespace: true,
  uid: true,
  resourceVersion: true,
  generation: true,
  creationTimestamp: true,
  deletionTimestamp: true,
  deletionGracePeriodSeconds: true,
  labels: true,
  annotations: true,
  ownerReferences: true,
  finalizers: true,
  managedFields: true,
  selfLink: true,
};

const TOP = { apiVersion: true, kind: true, metadata: META } as const;

const OBJECT_REF: Shape = {
  kind: true,
  namespace: true,
  name: true,
  uid: true,
  apiVersion: true,
  resourceVersion: true,
  fieldPath: true,
};

/** Kinds whose every field is checked (the ones the driver writes whole). */
const SHAPES: Readonly<Record<string, Shape>> = {
  events: {
    ...TOP,
    involvedObject: OBJECT_REF,
    reason: true,
    message: true,
    source: { component: true, host: true },
    firstTimestamp: true,
    lastTimestamp: true,
    count: true,
    type: true,
    eventTime: true,
    series: { count: true, lastObservedTime: true },
    action: true,
    related: OBJECT_REF,
    reportingComponent: true,
    reportingInstance: true,
  },
  leases: {
    ...TOP,
    spec: {
      holderIdentity: true,
      leaseDurationSeconds: true,
      acquireTime: true,
      renewTime: true,
      leaseTransitions: true,
      strategy: true,
      preferredHolder: true,
    },
  },
};

function unknownFields(v: unknown, shape: Shape, path: string, out: string[]): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return;
  for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
    const s = shape[k];
    const here = path === '' ? k : `${path}.${k}`;
    if (s === undefined) out.push(here);
    else if (s !== true) unknownFields(child, s, here, out);
  }
}

/** Reject unknown fields of a written object (strict field validation). */
export function checkFields(plural: string, obj: Obj): void {
  const out: string[] = [];
  const shape = SHAPES[plural];
  if (shape !== undefined) unknownFields(obj, shape, '', out);
  else unknownFields(obj.metadata, META, 'metadata', out);
  if (out.length > 0) {
    throw new ApiRejection(
      400,
      'BadRequest',
      `strict decoding error: ${out.map((f) => `unknown field "${f}"`).join(', ')}`,
    );
  }
  if (plural === 'leases') checkLease(obj);
}

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

function checkLease(obj: Obj): void {
  const spec = (obj.spec ?? {}) as Record<string, unknown>;
  for (const f of ['acquireTime', 'renewTime']) {
    const v = spec[f];
    if (v !== undefined && (typeof v !== 'string' || !MICRO_TIME.test(v))) {
      throw new ApiRejection(400, 'BadRequest', `spec.${f}: not a MicroTime: ${JSON.stringify(v)}`);
    }
  }
  const d = spec.leaseDurationSeconds;
  if (d !== undefined && (typeof d !== 'number' || !Number.isInteger(d) || d <= 0)) {
    throw new ApiRejection(422, 'Invalid', 'spec.leaseDurationSeconds: must be greater than 0');
  }
  const n = spec.leaseTransitions;
  if (n !== undefined && (typeof n !== 'number' || n < 0)) {
    throw new ApiRejection(422, 'Invalid', 'spec.leaseTransitions: must be non-negative');
  }
}

const IMMUTABLE: Readonly<Record<string, readonly string[]>> = {
  volumeattachments: ['spec'],
  persistentvolumes: ['spec.csi'],
  events: ['involvedObject'],
};

function at(o: unknown, path: string): unknown {
  let v = o;
  for (const k of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[k];
  return v;
}

/** Reject an update that changes an immutable field. */
export function checkImmutable(plural: string, before: Obj, after: Obj): void {
  const fields = [
    'metadata.uid',
    'metadata.name',
    'metadata.creationTimestamp',
    ...(IMMUTABLE[plural] ?? []),
  ];
  for (const f of fields) {
    const a = at(after, f);
    if (a === undefined && f.startsWith('metadata.')) continue; // filled in from the stored object
    if (JSON.stringify(a) !== JSON.stringify(at(before, f))) {
      throw new ApiRejection(422, 'Invalid', `${f}: Invalid value: field is immutable`);
    }
  }
}

/** A field selector (`a=b,c!=d`) as a predicate; unsupported fields are a 400 like the real one. */
export function fieldSelector(plural: string, sel: string | null): (o: Obj) => boolean {
  if (sel === null || sel === '') return () => true;
  const supported =
    plural === 'events'
      ? /^(involvedObject\.(kind|namespace|name|uid|apiVersion|resourceVersion|fieldPath)|reason|type|source|reportingComponent|metadata\.(name|namespace))$/
      : /^metadata\.(name|namespace)$/;
  const terms = sel.split(',').map((term) => {
    const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(term);
    if (m === null || !supported.test(m[1] as string)) {
      throw new ApiRejection(
        400,
        'BadRequest',
        `"${term}" is not a known field selector: only "${supported.source}"`,
      );
    }
    return { field: m[1] as string, neg: m[2] === '!=', value: m[3] as string };
  });
  return (o) =>
    terms.every((t) => {
      const v = at(o, t.field === 'source' ? 'source.component' : t.field);
      const s = typeof v === 'string' || typeof v === 'number' ? String(v) : '';
      return (s === t.value) !== t.neg;
    });
}
