/**
 * The chart with compat=rds-csi-go, rendered over a Go chart release's own values
 * (test/fixtures/go-driver/go-values.yaml): the objects `helm upgrade` patches in place
 * must keep every immutable field the Go chart (rds-csi-driver 1.0.0) gave them.
 */
import t from 'tap';
import { join } from 'node:path';
import { packageRoot } from '../../../src/paths';
import { helm, render } from './tools';
import { parseManifests, validateObject, type K8sObject } from './k8s';
import { checkDriverArgs, container, expandedArgs, find, flag, workload } from './contracts';

const OVERLAY = join(render.CHART, 'compat', 'rds-csi-go.yaml');
const GO_VALUES = join(packageRoot(), 'test/fixtures/go-driver/go-values.yaml');
const RELEASE = { name: 'rds-csi', namespace: 'rds-csi' };

function renderWith(valuesFiles: string[], set: string[] = []): K8sObject[] {
  return parseManifests(render.renderChart(h, { valuesFiles, set, release: RELEASE }));
}

const tool = helm();
const h = 'path' in tool ? tool.path : '';
if (tool.skip !== undefined) {
  t.comment(`skipped: ${tool.skip}`);
} else {
  t.setTimeout(300_000);
  const objs = renderWith([OVERLAY, GO_VALUES]);
  const defaults = renderWith([OVERLAY], ['rds.managementIP=10.42.241.3']);

  t.test('helm lint --strict passes', async (t) => {
    const args = ['lint', '--strict', render.CHART, '--values', OVERLAY, '--values', GO_VALUES];
    t.match(render.runHelm(h, args), /0 chart\(s\) failed/);
  });

  t.test('every object passes its schema', async (t) => {
    for (const o of objs) t.same(validateObject(o), [], `${o.kind} ${o.metadata.name}`);
  });

  t.test('CSIDriver: the Go spec, field for field', async (t) => {
    const [d] = find(objs, 'CSIDriver');
    t.equal(d?.metadata.name, 'rds.csi.srvlab.io');
    t.same((d as unknown as { spec: unknown }).spec, {
      attachRequired: true,
      podInfoOnMount: true,
      volumeLifecycleModes: ['Persistent'],
      fsGroupPolicy: 'File',
      requiresRepublish: false,
      storageCapacity: true,
      tokenRequests: [],
    });
  });

  t.test('StorageClasses: names and immutable fields as the Go chart renders them', async (t) => {
    const classes = (o: K8sObject[]) =>
      find(o, 'StorageClass').map((sc) => {
        const s = sc as unknown as Record<string, unknown>;
        return [
          sc.metadata.name,
          s.provisioner,
          s.parameters,
          s.reclaimPolicy,
          s.volumeBindingMode,
        ];
      });
    t.same(classes(objs), [
      [
        'rds-nvme',
        'rds.csi.srvlab.io',
        {
          'csi.storage.k8s.io/fstype': 'ext4',
          nvmeAddress: '10.10.10.2',
          nvmePort: '4420',
          volumePath: '/storage-pool/k8s-volumes',
        },
        'Delete',
        'WaitForFirstConsumer',
      ],
      [
        'rds-nvme-rwx',
        'rds.csi.srvlab.io',
        {
          'csi.storage.k8s.io/fstype': 'ext4',
          nvmeAddress: '10.10.20.2',
          nvmePort: '4421',
          volumePath: '/storage-pool/k8s-volumes/vms',
        },
        'Retain',
        'Immediate',
      ],
    ]);
    t.same(
      classes(defaults),
      [
        [
          'rds-nvme',
          'rds.csi.srvlab.io',
          {
            'csi.storage.k8s.io/fstype': 'ext4',
            nvmeAddress: '10.42.68.1',
            nvmePort: '4420',
            volumePath: '/storage-pool/metal-csi',
          },
          'Delete',
          'WaitForFirstConsumer',
        ],
      ],
      'the Go chart defaults: rds-nvme only',
    );
  });

  t.test('VolumeSnapshotClass: rds-csi-snapclass without parameters', async (t) => {
    const [v] = find(objs, 'VolumeSnapshotClass') as unknown as Record<string, unknown>[];
    t.equal((v?.metadata as { name: string }).name, 'rds-csi-snapclass');
    t.equal(v?.driver, 'rds.csi.srvlab.io');
    t.equal(v?.deletionPolicy, 'Retain');
    t.equal(v?.parameters, undefined);
  });

  t.test('workloads keep the Go names and selectors; the Secret is the Go one', async (t) => {
    const ctl = workload(objs, 'Deployment');
    const node = workload(objs, 'DaemonSet');
    t.equal(ctl.metadata.name, 'rds-csi-rds-csi-driver-controller');
    t.equal(node.metadata.name, 'rds-csi-rds-csi-driver-node');
    const sel = (w: typeof ctl) => (w.spec as { selector: unknown }).selector;
    t.same(sel(ctl), {
      matchLabels: {
        'app.kubernetes.io/name': 'rds-csi-driver',
        'app.kubernetes.io/instance': 'rds-csi',
        'app.kubernetes.io/component': 'controller',
      },
    });
    t.same(sel(node), {
      matchLabels: {
        'app.kubernetes.io/name': 'rds-csi-driver',
        'app.kubernetes.io/instance': 'rds-csi',
        'app.kubernetes.io/component': 'node',
      },
    });
    t.same(find(objs, 'Secret'), [], 'the existing rds-csi-secret is used, not replaced');
    const vol = ctl.spec.template.spec.volumes?.find((v) => v.name === 'rds-ssh') as unknown as {
      secret: { secretName: string; items: { key: string }[] };
    };
    t.equal(vol.secret.secretName, 'rds-csi-secret');
    t.same(
      vol.secret.items.map((i) => i.key),
      ['rds-private-key', 'rds-host-key'],
    );
  });

  t.test('driver flags: compat mode and the Go values, accepted by the driver', async (t) => {
    const c = container(workload(objs, 'Deployment').spec.template.spec, 'rds-csi')!;
    const args = expandedArgs(c);
    t.equal(flag(args, 'compat'), 'rds-csi-go');
    t.equal(flag(args, 'driver-name'), 'rds.csi.srvlab.io');
    t.equal(flag(args, 'rds-address'), '192.168.88.2:22');
    t.equal(flag(args, 'rds-user'), 'csi');
    t.equal(flag(args, 'rds-pool-path'), 'storage-pool/k8s-volumes');
    t.equal(flag(args, 'rds-nvme-address'), '10.10.10.2');
    t.equal(flag(args, 'rds-key-file'), '/etc/rds-csi/rds-private-key');
    t.equal(flag(args, 'rds-host-key-file'), '/etc/rds-csi/rds-host-key');
    // What every pod gets: the controller's Lease needs the in-cluster API server.
    t.same(checkDriverArgs(c, { NODE_ID: 'worker-1', KUBERNETES_SERVICE_HOST: '10.96.0.1' }), []);
    t.notMatch(c.image, /3whiskeywhiskey/, 'never the Go image');
    const n = container(workload(objs, 'DaemonSet').spec.template.spec, 'rds-csi')!;
    t.equal(flag(expandedArgs(n), 'compat'), 'rds-csi-go');
    t.equal(flag(expandedArgs(n), 'kubelet-dir'), '/var/lib/k0s/kubelet');
    t.same(
      n.env?.find((e) => e.name === 'CSI_MANAGED_NQN_PREFIX')?.value,
      'nqn.2000-02.com.mikrotik:pvc-',
    );
    t.same(checkDriverArgs(n, { NODE_ID: 'worker-1' }), []);
  });

  t.test('refused: compat without the Go values shape', async (t) => {
    const refuse = (files: string[], set: string[]) => {
      try {
        renderWith(files, set);
        return '';
      } catch (err) {
        return String((err as { stderr?: unknown }).stderr ?? err);
      }
    };
    t.match(refuse([], ['compat=rds-csi-go', 'rds.managementIP=a']), /not in the Go chart's shape/);
    t.match(refuse([OVERLAY], ['rds.managementIP=']), /managementIP is required/);
  });
}
