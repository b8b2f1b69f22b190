// KubeVirt-style live-migration hand-off across two kernels, with every production part:
//   VM a: rds-sim (`rds-sim --backend nvmet`: each disk is a kernel NVMe/TCP target on the
//         inter-VM link) and a node plugin (`rds-csi serve --mode node`);
//   VM b: a node plugin;
//   host: the controller (startApp, the composition root of `rds-csi serve --mode controller`)
//         over SSH to rds-sim, and the stand-in Kubernetes API server that both node plugins
//         reach through QEMU (they publish their host NQNs on their Node objects).
// The test plays kubelet and the external attacher: it creates the VolumeAttachments and
// calls the CSI RPCs in the order a live migration makes them: a hand-off a → b, then a
// migration back to a that is aborted.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { startApp, type RunningApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { DENY_ALL_HOST_NQN } from '../../src/domain/attachment';
import { createLogger } from '../../src/observability/logger';
import { HOST_NQN_ANNOTATION } from '../../src/kube/ports';
import { generateSshKeyPair } from '../../src/sim/keys';
import { FakeKubeApiServer } from '../fakes/kube-apiserver';
import { DRIVER, node, pv, va } from '../integration/kube/helpers';
import { codeOf, csiClient, status, type CsiClient } from '../helpers/csi';
import { sample } from '../helpers/prometheus';
import { freeTcpPort } from './accel';
import { projectRoot, which } from './host-tools';
import { shellQuote } from './protocol';
import { leftoverVmPids } from './runner';
import { asComment, sh, startNvmetSim, suiteImage, until, vmSuiteSkipReason } from './suite-util';
import { GUEST_PORTS, startTopology, TWO_NODES, type TopologyVm } from './topology';

t.setTimeout(15 * 60_000);

const busybox = which('busybox');
const skip =
  vmSuiteSkipReason() ??
  (busybox === null ? 'busybox is not installed (relays the API server to the VMs)' : null);
if (skip !== null) console.log(`# hand-off test skipped: ${skip}`);

const ROOT = projectRoot();
/** Where the VMs reach the host's stand-in API server. */
const API_IN_GUEST = { address: '10.0.2.100', port: 6443 };
const PVC = { namespace: 'vms', name: 'vm-disk' };
const MiB = 1024 * 1024;
const BLOCK_CAP = { block: {}, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } };

/** Starts the node plugin in the background in `v`; its log is /tmp/node.log. */
async function startNodePlugin(t: Test, v: TopologyVm, kubeconfig: string): Promise<void> {
  const argv = [
    'node',
    path.join(ROOT, 'dist/src/main.js'),
    'serve',
    '--mode=node',
    `--node-id=${v.name}`,
    `--endpoint=tcp://0.0.0.0:${GUEST_PORTS.csi}`,
    '--kubelet-dir=/tmp/kubelet',
    '--metrics-address=',
    '--kubeconfig=/tmp/kubeconfig',
    '--log-level=debug',
  ];
  await sh(
    t,
    v.vm,
    `modprobe -a nvme-fabrics nvme-tcp
mkdir -p /tmp/kubelet
printf '%s' ${shellQuote(kubeconfig)} > /tmp/kubeconfig
${argv.map(shellQuote).join(' ')} </dev/null >/tmp/node.log 2>&1 &`,
  );
}

interface KubeEvent {
  reason: string;
  type: string;
  message: string;
}

t.test(
  'live-migration hand-off of an RWX block volume between two kernels',
  { skip: skip ?? false },
  async (t) => {
    const started = Date.now();
    const phase = (what: string) =>
      t.comment(`${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);

    // ---- Kubernetes: the stand-in API server with the objects a cluster would have ----
    const api = new FakeKubeApiServer();
    await api.start();
    t.teardown(() => api.stop());
    const apiPort = Number(new URL(api.url).port);
    const guestKubeconfig = api
      .kubeconfig()
      .replace(api.url, `http://${API_IN_GUEST.address}:${API_IN_GUEST.port}`);
    for (const name of ['a', 'b', 'c']) api.put('nodes', node(name));

    // ---- the two VMs ----
    const image = await suiteImage((l) => t.comment(l));
    const topo = await startTopology(TWO_NODES, {
      image,
      hostServices: [
        {
          guestAddress: API_IN_GUEST.address,
          guestPort: API_IN_GUEST.port,
          hostPort: apiPort,
          relay: [busybox ?? 'busybox', 'nc'],
        },
      ],
    });
    const a = topo.get('a');
    const b = topo.get('b');
    const linkA = a.linkAddress ?? '';
    const logs: string[] = [];
    t.teardown(async () => {
      if (!t.passing()) {
        for (const [v, file] of [
          [a, '/tmp/rds-sim.log'],
          [a, '/tmp/node.log'],
          [b, '/tmp/node.log'],
        ] as const) {
          const out = await v.vm
            .exec(`tail -n 60 ${file}`, { timeoutMs: 20_000 })
            .catch((e: unknown) => ({ output: String(e) }));
          t.comment(`${v.name}:${file}\n${asComment(out.output)}`);
        }
        t.comment(`controller log (last 60 lines)\n${asComment(logs.slice(-60).join(''))}`);
      }
      await topo.stop();
    });
    phase(`booted a in ${a.vm.bootMs} ms, b in ${b.vm.bootMs} ms (${a.vm.accel})`);

    // ---- VM a: rds-sim with the kernel NVMe target, reachable from the host over SSH ----
    const clientKey = generateSshKeyPair('ed25519', 'handoff-test');
    const fingerprint = await startNvmetSim(t, a.vm, linkA, clientKey.public, GUEST_PORTS.rdsSsh);
    phase('rds-sim up in VM a');

    // ---- node plugins, one per kernel ----
    await startNodePlugin(t, a, guestKubeconfig);
    await startNodePlugin(t, b, guestKubeconfig);

    // ---- the controller on the host (the production composition root) ----
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-handoff-'));
    t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
    fs.writeFileSync(path.join(tmp, 'rds_key'), clientKey.private, { mode: 0o600 });
    fs.writeFileSync(path.join(tmp, 'kubeconfig'), api.kubeconfig());
    const config = loadConfig(
      [
        '--mode=controller',
        `--endpoint=tcp://127.0.0.1:${await freeTcpPort()}`,
        `--rds-address=127.0.0.1:${a.vm.hostPort(GUEST_PORTS.rdsSsh)}`,
        `--rds-key-file=${path.join(tmp, 'rds_key')}`,
        `--rds-host-key-fingerprint=${fingerprint}`,
        `--rds-nvme-address=${linkA}`,
        '--metrics-address=127.0.0.1:0',
        `--kubeconfig=${path.join(tmp, 'kubeconfig')}`,
        `--min-volume-size=${64 * MiB}`,
        '--log-level=debug',
      ],
      {},
    );
    const logger = createLogger({
      level: 'debug',
      sink: { write: (line: string) => logs.push(line) },
    });
    let app: RunningApp = await startApp(config, logger);
    let appStopped: Promise<void> | undefined;
    const stopApp = () => (appStopped ??= app.stop());
    t.teardown(() => stopApp());
    let controller = csiClient(app.endpoint.replace(/^tcp:\/\//, ''));
    const nodeA = csiClient(`127.0.0.1:${a.vm.hostPort(GUEST_PORTS.csi)}`);
    const nodeB = csiClient(`127.0.0.1:${b.vm.hostPort(GUEST_PORTS.csi)}`);
    t.teardown(() => [controller, nodeA, nodeB].forEach((c) => c.close()));
    const controllerReady = () =>
      until(
        'controller ready',
        async () => {
          const r = await controller.identity<{ ready?: { value: boolean } }>('Probe');
          return r.ready?.value === true ? true : undefined;
        },
        60_000,
      );
    const scrape = async (): Promise<string> =>
      (await fetch(`${app.metricsUrl ?? ''}/metrics`)).text();

    // Each node plugin announces its kernel's host NQN on its Node object.
    for (const v of [a, b]) {
      const nqn = await until(
        `node ${v.name}'s host NQN annotation`,
        () => api.get('nodes', v.name)?.metadata.annotations?.[HOST_NQN_ANNOTATION],
        180_000,
      );
      t.equal(nqn, v.hostNqn, `node plugin ${v.name} published its host NQN`);
    }
    api.put('nodes', node('c', { hostNqn: 'nqn.2014-08.org.nvmexpress:uuid:third-node' }));
    for (const [name, client] of [
      ['a', nodeA],
      ['b', nodeB],
    ] as const) {
      const info = await client.node<{ node_id: string }>('NodeGetInfo');
      t.equal(info.node_id, name, `node plugin ${name} answers over gRPC`);
    }
    await controllerReady();
    phase('controller and both node plugins ready');

    // ---- the volume: RWX block, fenced, PVC metadata from --extra-create-metadata ----
    const pvName = `pvc-${crypto.randomUUID()}`;
    const created = await controller.controller<{
      volume: { volume_id: string; volume_context: Record<string, string> };
    }>('CreateVolume', {
      name: pvName,
      capacity_range: { required_bytes: 64 * MiB },
      volume_capabilities: [BLOCK_CAP],
      parameters: {
        hostFencing: 'true',
        migrationTimeoutSeconds: '600',
        'csi.storage.k8s.io/pvc/name': PVC.name,
        'csi.storage.k8s.io/pvc/namespace': PVC.namespace,
        'csi.storage.k8s.io/pv/name': pvName,
      },
    });
    const volumeId = created.volume.volume_id;
    const ctx = created.volume.volume_context;
    const nqn = ctx.nqn ?? '';
    t.match(nqn, /^nqn\./, 'the volume has an NVMe subsystem');
    api.put(
      'persistentvolumes',
      pv(pvName, volumeId, { block: true, rwx: true, attrs: ctx, claim: PVC }),
    );
    api.put('persistentvolumeclaims', {
      metadata: { ...PVC },
      spec: { accessModes: ['ReadWriteMany'], volumeMode: 'Block', volumeName: pvName },
    });
    /** The kernel target's allow-list; "any" when it lets every host in. */
    const allowList = async (): Promise<string[] | 'any'> => {
      const dir = `/sys/kernel/config/nvmet/subsystems/${shellQuote(nqn)}`;
      const out = await sh(t, a.vm, `cat ${dir}/attr_allow_any_host; ls ${dir}/allowed_hosts/`);
      const [any, ...hosts] = out.split(/\s+/).filter((s) => s !== '');
      return any === '1' ? 'any' : hosts.sort();
    };
    t.same(await allowList(), [DENY_ALL_HOST_NQN], 'fenced from birth: no host may connect');

    // The external attacher: a VolumeAttachment, ControllerPublish, then attached = true.
    const vaName = (nodeId: string) =>
      `csi-${crypto.createHash('sha256').update(`${pvName}${DRIVER}${nodeId}`).digest('hex')}`;
    const attach = async (nodeId: string) => {
      const createdAt = Date.now();
      api.put('volumeattachments', va(vaName(nodeId), pvName, nodeId, createdAt, false));
      const res = await controller.controller<{ publish_context: Record<string, string> }>(
        'ControllerPublishVolume',
        { volume_id: volumeId, node_id: nodeId, volume_capability: BLOCK_CAP, volume_context: ctx },
      );
      api.put('volumeattachments', va(vaName(nodeId), pvName, nodeId, createdAt, true));
      return res.publish_context;
    };
    const detach = async (node: string) => {
      await controller.controller('ControllerUnpublishVolume', {
        volume_id: volumeId,
        node_id: node,
      });
      api.remove('volumeattachments', vaName(node));
    };
    // kubelet: stage, then publish the device to a file under the pod's directory.
    const paths = (node: string) => ({
      staging: `/tmp/kubelet/plugins/kubernetes.io/csi/volumeDevices/staging/${pvName}`,
      target: `/tmp/kubelet/plugins/kubernetes.io/csi/volumeDevices/publish/${pvName}/pod-${node}`,
    });
    const mount = async (v: TopologyVm, client: CsiClient, publishContext: object) => {
      const p = paths(v.name);
      await sh(t, v.vm, `mkdir -p ${shellQuote(p.staging)} ${shellQuote(path.dirname(p.target))}`);
      const common = {
        volume_id: volumeId,
        publish_context: publishContext,
        volume_capability: BLOCK_CAP,
        volume_context: ctx,
      };
      await client.node(
        'NodeStageVolume',
        { ...common, staging_target_path: p.staging },
        { deadlineMs: 180_000 },
      );
      await client.node(
        'NodePublishVolume',
        { ...common, staging_target_path: p.staging, target_path: p.target },
        { deadlineMs: 120_000 },
      );
      return p.target;
    };
    const unmount = async (client: CsiClient, node: string) => {
      const p = paths(node);
      await client.node(
        'NodeUnpublishVolume',
        { volume_id: volumeId, target_path: p.target },
        { deadlineMs: 120_000 },
      );
      await client.node(
        'NodeUnstageVolume',
        { volume_id: volumeId, staging_target_path: p.staging },
        { deadlineMs: 120_000 },
      );
    };
    const writeBlock = async (v: TopologyVm, device: string, mib: number) => {
      const out = await sh(
        t,
        v.vm,
        `dd if=/dev/urandom of=/tmp/block-${mib} bs=1M count=1 2>/dev/null
dd if=/tmp/block-${mib} of=${shellQuote(device)} bs=1M seek=${mib} count=1 oflag=direct conv=notrunc,fsync 2>/dev/null
sha256sum /tmp/block-${mib}`,
      );
      return out.split(' ')[0] ?? '';
    };
    const readBlock = async (v: TopologyVm, device: string, mib: number) => {
      const out = await sh(
        t,
        v.vm,
        `dd if=${shellQuote(device)} bs=1M skip=${mib} count=1 iflag=direct 2>/dev/null | sha256sum`,
      );
      return out.split(' ')[0] ?? '';
    };

    // ---- 1. the VM runs on node a ----
    const ctxA = await attach('a');
    t.same(await allowList(), [a.hostNqn], 'published to a: only a may connect');
    const devA = await mount(a, nodeA, ctxA);
    const first = await writeBlock(a, devA, 1);
    phase('running on a: volume staged and published, 1 MiB written');

    // ---- 2. live migration: the target pod on node b attaches the same volume ----
    const ctxB = await attach('b');
    t.same(ctxB, ctxA, 'both nodes get the same publish context');
    t.same(
      await allowList(),
      [a.hostNqn, b.hostNqn].sort(),
      'during the migration a and b may connect',
    );
    let metrics = await scrape();
    t.equal(sample(metrics, 'rds_csi_migration_active_migrations'), 1, 'one migration active');
    const third = controller.controller('ControllerPublishVolume', {
      volume_id: volumeId,
      node_id: 'c',
      volume_capability: BLOCK_CAP,
      volume_context: ctx,
    });
    t.equal(await codeOf(third), status.FAILED_PRECONDITION, 'a third node is refused');
    await third.catch((err: Error) =>
      t.match(err.message, /published to nodes a and b .*a third node is not allowed/),
    );
    const devB = await mount(b, nodeB, ctxB);
    t.equal(await readBlock(b, devB, 1), first, 'b already sees what a wrote before the migration');
    // The source keeps running during the copy phase and writes until the hand-off.
    const second = await writeBlock(a, devA, 2);
    await sh(t, a.vm, `blockdev --flushbufs ${shellQuote(devA)}`);
    phase('b attached during the migration; a wrote again and flushed');
    t.equal(
      sample(await scrape(), 'rds_csi_attachment_conflicts_total'),
      1,
      'the third node is counted',
    );

    // ---- the controller restarts mid-migration: its state comes back from Kubernetes ----
    await stopApp();
    controller.close();
    app = await startApp(config, logger);
    appStopped = undefined;
    controller = csiClient(app.endpoint.replace(/^tcp:\/\//, ''));
    await controllerReady();
    await until(
      'the migration rebuilt from the VolumeAttachments',
      async () =>
        sample(await scrape(), 'rds_csi_migration_active_migrations') === 1 ? true : undefined,
      60_000,
    );
    t.pass('after a restart the controller knows the migration a → b (active migrations 1)');
    t.equal(
      await codeOf(
        controller.controller('ControllerPublishVolume', {
          volume_id: volumeId,
          node_id: 'c',
          volume_capability: BLOCK_CAP,
          volume_context: ctx,
        }),
      ),
      status.FAILED_PRECONDITION,
      'still refuses a third node after the restart',
    );
    phase('controller restarted mid-migration');

    // ---- 3. hand-off: the source unpublishes, the target keeps the volume ----
    await unmount(nodeA, 'a');
    const leftOnA = await sh(t, a.vm, 'cat /sys/class/nvme/*/subsysnqn 2>/dev/null || true');
    t.notOk(leftOnA.includes(nqn), 'a disconnected the volume after NodeUnstage');
    await detach('a');
    t.same(await allowList(), [b.hostNqn], 'after the hand-off only b may connect');
    t.equal(await readBlock(b, devB, 1), first, 'b reads the data written before the migration');
    t.equal(await readBlock(b, devB, 2), second, 'b reads the data a wrote during the migration');
    const refused = await a.vm.runNode(path.join(ROOT, 'dist/test/vm/guest/cli.js'), [
      'connect',
      JSON.stringify({ traddr: linkA, nqn, hostnqn: a.hostNqn }),
    ]);
    t.not(refused.exitCode, 0, 'a can no longer connect to the volume (fenced)');
    t.match(refused.output, /EIO/, 'the kernel target refused a (host not allowed → EIO)');
    phase('hand-off done');

    metrics = await scrape();
    t.equal(sample(metrics, 'rds_csi_migration_active_migrations'), 0, 'no migration active');
    t.equal(
      sample(metrics, 'rds_csi_migration_migrations_total{result="success"}'),
      1,
      'one migration succeeded',
    );
    t.equal(sample(metrics, 'rds_csi_migration_migrations_total{result="failed"}'), 0);
    t.equal(sample(metrics, 'rds_csi_migration_migrations_total{result="timeout"}'), 0);
    t.equal(sample(metrics, 'rds_csi_migration_duration_seconds_count'), 1);
    t.ok(
      (sample(metrics, 'rds_csi_migration_duration_seconds_sum') ?? 0) > 0,
      'the migration took measurable time',
    );

    // Events land on the PVC (asynchronously: the CSI calls never wait for them).
    const pvcEvents = (): KubeEvent[] =>
      api
        .list('events', PVC.namespace)
        .filter((e) => (e.involvedObject as { name?: string } | undefined)?.name === PVC.name)
        .map((e) => e as unknown as KubeEvent);
    const events = await until(
      'the migration events on the PVC',
      () => {
        const list = pvcEvents();
        return list.some((e) => e.reason === 'MigrationCompleted') &&
          list.some((e) => e.reason === 'VolumeDetached')
          ? list
          : undefined;
      },
      30_000,
    );
    const reasons = events.map((e) => e.reason);
    t.same(
      [...new Set(reasons)].sort(),
      [
        'AttachmentConflict',
        'MigrationCompleted',
        'MigrationStarted',
        'VolumeAttached',
        'VolumeDetached',
      ],
      'the PVC tells the migration story',
    );
    const msg = (reason: string) => events.find((e) => e.reason === reason)?.message ?? '';
    t.match(msg('MigrationStarted'), /from a to b started \(timeout 600s\)/);
    t.match(msg('MigrationCompleted'), /from a to b completed in \d+s/);
    t.equal(events.find((e) => e.reason === 'AttachmentConflict')?.type, 'Warning');
    t.match(msg('VolumeDetached'), /unpublished from node a/);
    t.equal(reasons.filter((r) => r === 'VolumeAttached').length, 2, 'attached to a, then b');

    // ---- 4. a migration back to a is aborted: b keeps running, undisturbed ----
    const ctxA2 = await attach('a');
    t.same(await allowList(), [a.hostNqn, b.hostNqn].sort(), 'second migration: a and b again');
    const devA2 = await mount(a, nodeA, ctxA2);
    t.equal(await readBlock(a, devA2, 2), second, 'the new target sees the data');
    await unmount(nodeA, 'a');
    await detach('a');
    t.same(await allowList(), [b.hostNqn], 'aborted: only b may connect again');
    const third3 = await writeBlock(b, devB, 3);
    t.equal(await readBlock(b, devB, 3), third3, 'b still reads and writes after the abort');
    const state = await sh(t, b.vm, 'cat /sys/class/nvme/*/state');
    t.equal(state.trim(), 'live', "b's controller stayed live through both allow-list changes");
    metrics = await scrape();
    t.equal(sample(metrics, 'rds_csi_migration_active_migrations'), 0);
    t.equal(
      sample(metrics, 'rds_csi_migration_migrations_total{result="failed"}'),
      1,
      'the aborted migration is counted as failed',
    );
    t.equal(sample(metrics, 'rds_csi_migration_migrations_total{result="success"}'), 1);
    const failed = await until(
      'the MigrationFailed event',
      () => pvcEvents().find((e) => e.reason === 'MigrationFailed'),
      30_000,
    );
    t.equal(failed.type, 'Warning');
    t.match(
      failed.message,
      /from b to a failed after \d+s: target a was unpublished before the hand-off/,
    );
    phase('aborted migration b → a: b unaffected');

    // ---- 5. the VM stops on b; the volume is deleted; nothing is left anywhere ----
    await unmount(nodeB, 'b');
    await detach('b');
    await controller.controller('DeleteVolume', { volume_id: volumeId });
    const subsystems = await sh(t, a.vm, 'ls /sys/kernel/config/nvmet/subsystems/');
    t.notOk(subsystems.includes(nqn), 'the kernel target is gone');
    for (const v of [a, b]) {
      const controllers = await sh(t, v.vm, 'ls /sys/class/nvme/ 2>/dev/null || true');
      t.equal(controllers.trim(), '', `no NVMe controller left on ${v.name}`);
      const mounts = await sh(t, v.vm, 'grep /tmp/kubelet /proc/mounts || true');
      t.equal(mounts.trim(), '', `no kubelet mount left on ${v.name}`);
    }
    t.equal(sample(await scrape(), 'rds_csi_migration_active_migrations'), 0);

    await stopApp();
    await topo.stop();
    t.same(leftoverVmPids(), [], 'no QEMU process left behind');
    phase('hand-off test done');
  },
);
