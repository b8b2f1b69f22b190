/**
 * deploy/examples/: the files the operator guide shows. Each is strict YAML and schema-valid;
 * the StorageClasses and VolumeSnapshotClass are the chart's own (compared with the committed
 * plain manifests, which another test keeps equal to a fresh render); parameters pass the
 * driver's own parser; the claims fit the driver's access rules; and the guide names exactly
 * these files.
 */
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/paths';
import { parseVolumeParams } from '../../../src/domain/params';
import { parseManifests, validateObject } from './k8s';
import type { K8sObject } from './k8s';

const root = packageRoot();
const dir = join(root, 'deploy/examples');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const examples = new Map<string, K8sObject>(
  files.map((f) => {
    const objs = parseManifests(readFileSync(join(dir, f), 'utf8'), f);
    if (objs.length !== 1) throw new Error(`${f}: one object per example file`);
    return [f, objs[0]!];
  }),
);
const rendered = parseManifests(readFileSync(join(root, 'deploy/manifests/rds-csi.yaml'), 'utf8'));
const all = [...examples.values()];
const byKind = (kind: string) => all.filter((o) => o.kind === kind);

function withoutLabels(o: K8sObject): K8sObject {
  const { labels: _labels, ...metadata } = o.metadata;
  return { ...o, metadata };
}

interface Claim {
  metadata: { name: string };
  spec: {
    storageClassName: string;
    volumeMode?: string;
    accessModes: string[];
    dataSource?: { kind: string; name: string };
  };
}

t.test('every example is schema-valid', async (t) => {
  t.ok(files.length >= 8, `${files.length} examples`);
  for (const [f, o] of examples) t.same(validateObject(o), [], f);
});

t.test('the example classes are the chart classes', async (t) => {
  for (const kind of ['StorageClass', 'VolumeSnapshotClass']) {
    const ex = byKind(kind);
    t.ok(ex.length > 0, `${kind} examples exist`);
    for (const o of ex) {
      const chart = rendered.find((r) => r.kind === kind && r.metadata.name === o.metadata.name);
      t.ok(chart, `the chart renders ${kind} ${o.metadata.name}`);
      if (chart) t.same(withoutLabels(chart), o, `${kind} ${o.metadata.name} is identical`);
    }
  }
  t.equal(
    byKind('StorageClass').length,
    rendered.filter((r) => r.kind === 'StorageClass').length,
    'every chart StorageClass has an example',
  );
});

t.test('StorageClass parameters pass the driver parameter parser', async (t) => {
  for (const sc of byKind('StorageClass')) {
    const params = sc.parameters as Record<string, string>;
    t.doesNotThrow(
      () => parseVolumeParams(params, { poolBasePath: 'storage-pool/k8s', nvmePort: 4420 }),
      sc.metadata.name,
    );
  }
  t.throws(() =>
    parseVolumeParams({ migrationTimeoutSecond: '300' }, { poolBasePath: 'p', nvmePort: 1 }),
  );
});

t.test('claims follow the access rules and name existing objects', async (t) => {
  const classes = new Map(byKind('StorageClass').map((c) => [c.metadata.name, c]));
  const claims = byKind('PersistentVolumeClaim') as unknown as Claim[];
  const names = new Set(claims.map((c) => c.metadata.name));
  for (const c of claims) {
    const sc = classes.get(c.spec.storageClassName);
    t.ok(sc, `${c.metadata.name}: StorageClass ${c.spec.storageClassName} is an example`);
    if (c.spec.accessModes.includes('ReadWriteMany')) {
      t.equal(c.spec.volumeMode, 'Block', `${c.metadata.name}: ReadWriteMany only for raw block`);
      t.ok(
        (sc?.parameters as Record<string, string>).migrationTimeoutSeconds,
        'migration window set',
      );
    }
    const src = c.spec.dataSource;
    if (src?.kind === 'PersistentVolumeClaim')
      t.ok(names.has(src.name), `${c.metadata.name}: clone source`);
    if (src?.kind === 'VolumeSnapshot') {
      t.ok(
        byKind('VolumeSnapshot').some((s) => s.metadata.name === src.name),
        `${c.metadata.name}: snapshot`,
      );
    }
  }
  for (const s of byKind('VolumeSnapshot')) {
    const spec = s.spec as {
      volumeSnapshotClassName: string;
      source: { persistentVolumeClaimName: string };
    };
    t.ok(
      byKind('VolumeSnapshotClass').some((c) => c.metadata.name === spec.volumeSnapshotClassName),
    );
    t.ok(names.has(spec.source.persistentVolumeClaimName), 'snapshot of an example claim');
  }
});

t.test('the operator guide shows exactly these files', async (t) => {
  const guide = readFileSync(join(root, 'docs/operator-guide.md'), 'utf8');
  const named = new Set(
    [...guide.matchAll(/deploy\/examples\/([\w.-]+\.yaml)/g)].map((m) => m[1]!),
  );
  t.same([...named].sort(), files, 'every example is referenced, and nothing else');
  for (const m of guide.matchAll(/\]\((\.\.\/[^)#\s]+)/g)) {
    const target = join(root, 'docs', m[1]!);
    t.ok(existsSync(target), `link ${m[1]} resolves`);
  }
  t.notMatch(guide, /```ya?ml/, 'no inline YAML: examples live in files the tests validate');
});
