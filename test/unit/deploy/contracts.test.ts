/**
 * The deploy checks catch what they claim to: each is run on the committed plain manifests
 * (which must pass) and on a copy broken in one place (which must fail). No helm needed.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/paths';
import { parseManifests, validateObject } from './k8s';
import type { K8sObject } from './k8s';
import {
  checkDriverArgs,
  checkLivenessProbe,
  checkNodePlugin,
  checkSocketWiring,
  container,
  missingGrants,
  unpinnedImages,
  workload,
} from './contracts';
import type { Expect, PodSpec } from './contracts';

const root = packageRoot();
const text = readFileSync(join(root, 'deploy/manifests/rds-csi.yaml'), 'utf8');
const want: Expect = {
  driverName: 'rds-csi.dev',
  kubeletDir: '/var/lib/kubelet',
  namespace: 'rds-csi',
};
const ENV = {
  RDS_CSI_RDS_HOST_KEY_FINGERPRINT: 'SHA256:' + 'A'.repeat(43),
  NODE_ID: 'w1',
  // What every pod gets: the controller's Lease needs the in-cluster API server.
  KUBERNETES_SERVICE_HOST: '10.96.0.1',
};

const fresh = () => parseManifests(text, 'rds-csi.yaml');
const pod = (objs: K8sObject[], kind: 'Deployment' | 'DaemonSet'): PodSpec =>
  workload(objs, kind).spec.template.spec;

t.test('strict YAML parsing rejects duplicate keys, bad syntax and non-objects', async (t) => {
  t.throws(
    () => parseManifests('apiVersion: v1\nkind: A\nkind: B\nmetadata: {name: x}\n'),
    /unique|Map keys/i,
  );
  t.throws(() => parseManifests('apiVersion: v1\nkind: [\n'), /document 0/);
  t.throws(() => parseManifests('- a\n- b\n'), /not a mapping/);
  t.throws(() => parseManifests('apiVersion: v1\nkind: A\n'), /metadata\.name/);
  t.equal(parseManifests('---\n---\napiVersion: v1\nkind: A\nmetadata: {name: x}\n').length, 1);
});

t.test('schema validation catches wrong types, unknown fields and unknown kinds', async (t) => {
  const objs = fresh();
  for (const o of objs)
    t.same(validateObject(o), [], `${o.kind} ${o.metadata.name} passes as committed`);
  const ds = workload(objs, 'DaemonSet');
  const c = ds.spec.template.spec.containers[0] as unknown as Record<string, unknown>;
  c.imagePullPolcy = 'Always';
  (ds.spec.template.spec as unknown as Record<string, unknown>).hostNetwrok = true;
  t.same(validateObject(ds), [
    '/spec/template/spec/containers/0/imagePullPolcy: unknown field',
    '/spec/template/spec/hostNetwrok: unknown field',
  ]);
  const dep = workload(fresh(), 'Deployment') as unknown as { spec: { replicas: unknown } };
  dep.spec.replicas = 'two';
  t.match(validateObject(dep as unknown as K8sObject).join('\n'), /replicas must be integer/);
  const vsc = fresh().find((o) => o.kind === 'VolumeSnapshotClass')!;
  t.same(validateObject(vsc), []);
  t.same(validateObject({ ...vsc, deletionPolicy: 'Keep', extra: 1 }), [
    'VolumeSnapshotClass.deletionPolicy: must be one of Delete, Retain',
    'VolumeSnapshotClass.extra: unknown field',
  ]);
  t.match(validateObject({ apiVersion: 'x/v1', kind: 'Y', metadata: { name: 'z' } }), [
    /no schema/,
  ]);
  // Free-form maps (labels) accept any key; the validator enumerates them.
  const labelled = fresh()[0]!;
  (labelled.metadata.labels as Record<string, string>)['example.org/anything'] = 'x';
  t.same(validateObject(labelled), []);
});

t.test('socket wiring: a sidecar on another path or volume is caught', async (t) => {
  const objs = fresh();
  const cpod = pod(objs, 'Deployment');
  const sidecars = [
    'csi-provisioner',
    'csi-attacher',
    'csi-resizer',
    'csi-snapshotter',
    'liveness-probe',
  ];
  t.same(checkSocketWiring(cpod, 'rds-csi', sidecars), []);
  container(cpod, 'csi-attacher')!.env![0]!.value = '/csi/other.sock';
  t.match(checkSocketWiring(cpod, 'rds-csi', sidecars), [
    /csi-attacher: --csi-address \/csi\/other.sock/,
  ]);
  const cpod2 = pod(fresh(), 'Deployment');
  container(cpod2, 'csi-resizer')!.volumeMounts![0]!.name = 'rds-ssh';
  t.match(
    checkSocketWiring(cpod2, 'rds-csi', sidecars).join('\n'),
    /csi-resizer: socket not on the driver's volume/,
  );
  t.match(checkSocketWiring(cpod2, 'rds-csi', ['nope']), ['no nope container']);
});

t.test(
  'node plugin: registration path, plugin dir, mounts and privileges are checked',
  async (t) => {
    t.same(checkNodePlugin(pod(fresh(), 'DaemonSet'), want), []);
    const p1 = pod(fresh(), 'DaemonSet');
    container(p1, 'node-driver-registrar')!.env![1]!.value =
      '/var/lib/kubelet/plugins/other/csi.sock';
    t.match(checkNodePlugin(p1, want), [/--kubelet-registration-path/]);
    t.match(
      checkNodePlugin(pod(fresh(), 'DaemonSet'), { ...want, driverName: 'x.dev' }).join('\n'),
      /x\.dev/,
    );
    const p2 = pod(fresh(), 'DaemonSet');
    const pods = container(p2, 'rds-csi')!.volumeMounts!.find((m) =>
      m.mountPath.endsWith('/pods'),
    )!;
    delete pods.mountPropagation;
    t.match(checkNodePlugin(p2, want), [/pods not Bidirectional/]);
    const p3 = pod(fresh(), 'DaemonSet');
    container(p3, 'rds-csi')!.securityContext!.privileged = false;
    t.match(checkNodePlugin(p3, want).join('\n'), /not privileged/);
    const p4 = pod(fresh(), 'DaemonSet');
    container(p4, 'rds-csi')!.env![0]!.valueFrom!.fieldRef!.fieldPath = 'metadata.name';
    t.match(checkNodePlugin(p4, want), [/spec\.nodeName/]);
    const p5 = pod(fresh(), 'DaemonSet');
    p5.volumes!.find((v) => v.name === 'registration-dir')!.hostPath!.path =
      '/var/lib/kubelet/plugins';
    t.match(checkNodePlugin(p5, want), [/plugins_registry/]);
  },
);

t.test('driver arguments go through the driver own parser', async (t) => {
  const d = container(pod(fresh(), 'Deployment'), 'rds-csi')!;
  t.same(checkDriverArgs(d, ENV), []);
  t.match(checkDriverArgs(d, {}).join('\n'), /rds-host-key-fingerprint/, 'no fingerprint: refused');
  const bad = { ...d, args: [...d.args!, '--rds-adress=x'] };
  t.match(checkDriverArgs(bad, ENV).join('\n'), /unknown driver flag --rds-adress/);
  const badMode = {
    ...d,
    args: d.args!.map((a) => (a === '--mode=controller' ? '--mode=both' : a)),
  };
  t.match(checkDriverArgs(badMode, ENV).join('\n'), /rejects its arguments.*mode/s);
  const noServe = { ...d, args: d.args!.slice(1) };
  t.match(checkDriverArgs(noServe, ENV), [/first argument must be serve/]);
  const n = container(pod(fresh(), 'DaemonSet'), 'rds-csi')!;
  t.same(checkDriverArgs(n, ENV), []);
});

t.test('liveness probe must hit a declared port', async (t) => {
  const p = pod(fresh(), 'DaemonSet');
  t.same(checkLivenessProbe(p, 'rds-csi'), []);
  container(p, 'liveness-probe')!.ports![0]!.containerPort = 1234;
  t.match(checkLivenessProbe(p, 'rds-csi'), [/listens on/]);
  container(p, 'liveness-probe')!.ports = [];
  t.match(checkLivenessProbe(p, 'rds-csi'), [/declared by no container/]);
});

t.test('RBAC and image checks', async (t) => {
  const rules = [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }];
  t.same(missingGrants(rules, ['core nodes get', 'core nodes patch']), ['core nodes patch']);
  const p = pod(fresh(), 'Deployment');
  t.same(unpinnedImages(p), []);
  container(p, 'csi-attacher')!.image = 'registry.k8s.io/sig-storage/csi-attacher:latest';
  container(p, 'csi-resizer')!.image = 'registry.k8s.io/sig-storage/csi-resizer';
  t.same(unpinnedImages(p), [
    'registry.k8s.io/sig-storage/csi-attacher:latest',
    'registry.k8s.io/sig-storage/csi-resizer',
  ]);
});
