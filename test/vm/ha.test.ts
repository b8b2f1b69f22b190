// Two controller replicas, one killed mid-migration, on real kernels:
//   VM a: rds-sim with the kernel NVMe target and a node plugin; VM b: a node plugin;
//   host: replica A (`rds-csi serve --mode controller --leader-election`, a child process,
//         so it can be killed with SIGKILL and cannot release its Lease) and replica B (the
//         same composition root in this process), both on the stand-in API server.
// The test plays kubelet and the external attacher. A serves: the volume is attached to a,
// moves a → b (a KubeVirt hand-off), and a migration back to a starts. A is killed. B must
// take the Lease within its takeover time (lease duration) and, from the VolumeAttachments
// alone, serve the rest correctly: refuse a third node, finish the migration (unpublish b),
// unpublish a and DeleteVolume.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { startApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { HOST_NQN_ANNOTATION } from '../../src/kube/ports';
import { generateSshKeyPair } from '../../src/sim/keys';
import { FakeKubeApiServer } from '../fakes/kube-apiserver';
import { claimUid, node, pv, pvc, va } from '../integration/kube/helpers';
import { codeOf, csiClient, status, type CsiClient } from '../helpers/csi';
import { freeTcpPort } from './accel';
import { projectRoot, which } from './host-tools';
import { shellQuote } from './protocol';
import { leftoverVmPids } from './runner';
import { asComment, sh, startNvmetSim, suiteImage, vmSuiteSkipReason } from './suite-util';
import { GUEST_PORTS, startTopology, TWO_NODES, type TopologyVm } from './topology';

t.setTimeout(15 * 60_000);

const busybox = which('busybox');
const skip =
  vmSuiteSkipReason() ??
  (busybox === null ? 'busybox is not installed (relays the API server to the VMs)' : null);
if (skip !== null) console.log(`# two-replica test skipped: ${skip}`);

const ROOT = projectRoot();
const API_IN_GUEST = { address: '10.0.2.100', port: 6443 };
const CLAIM = { namespace: 'vms', name: 'ha-disk' };
const MiB = 1024 * 1024;
const BLOCK_CAP = { block: {}, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } };
/** The driver's Lease duration: a replica that dies is replaced within this. */
const LEASE_MS = 15_000;

async function poll<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await Promise.resolve()
      .then(f)
      .catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function nodePlugin(t: Test, v: TopologyVm, kubeconfig: string): Promise<void> {
  const argv = ['node', path.join(ROOT, 'dist/src/main.js'), 'serve', '--mode=node'];
  argv.push(`--node-id=${v.name}`, `--endpoint=tcp://0.0.0.0:${GUEST_PORTS.csi}`);
  argv.push('--kubelet-dir=/tmp/kubelet', '--metrics-address=', '--kubeconfig=/tmp/kubeconfig');
  await sh(
    t,
    v.vm,
    `modprobe -a nvme-fabrics nvme-tcp; mkdir -p /tmp/kubelet
printf '%s' ${shellQuote(kubeconfig)} > /tmp/kubeconfig
${argv.map(shellQuote).join(' ')} </dev/null >/tmp/node.log 2>&1 &`,
  );
}

t.test(
  'failover between two controller replicas mid-migration',
  { skip: skip ?? false },
  async (t) => {
    const started = Date.now();
    const phase = (what: string) =>
      t.comment(`${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);
    const api = new FakeKubeApiServer();
    await api.start();
    t.teardown(() => api.stop());
    const guestKubeconfig = api
      .kubeconfig()
      .replace(api.url, `http://${API_IN_GUEST.address}:${API_IN_GUEST.port}`);
    for (const name of ['a', 'b', 'c']) api.put('nodes', node(name));

    const image = await suiteImage((l) => t.comment(l));
    const topo = await startTopology(TWO_NODES, {
      image,
      hostServices: [
        {
          guestAddress: API_IN_GUEST.address,
          guestPort: API_IN_GUEST.port,
          hostPort: Number(new URL(api.url).port),
          relay: [busybox ?? 'busybox', 'nc'],
        },
      ],
    });
    t.teardown(() => topo.stop());
    const a = topo.get('a');
    const b = topo.get('b');
    const linkA = a.linkAddress ?? '';
    phase(`booted a in ${a.vm.bootMs} ms, b in ${b.vm.bootMs} ms (${a.vm.accel})`);

    const key = generateSshKeyPair('ed25519', 'ha-test');
    const fingerprint = await startNvmetSim(t, a.vm, linkA, key.public, GUEST_PORTS.rdsSsh);
    await nodePlugin(t, a, guestKubeconfig);
    await nodePlugin(t, b, guestKubeconfig);

    // ---- two replicas, each with the driver's own leader election ----
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-ha-'));
    t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
    fs.writeFileSync(path.join(tmp, 'rds_key'), key.private, { mode: 0o600 });
    fs.writeFileSync(path.join(tmp, 'kubeconfig'), api.kubeconfig());
    const args = async () => [
      '--mode=controller',
      `--endpoint=tcp://127.0.0.1:${await freeTcpPort()}`,
      `--rds-address=127.0.0.1:${a.vm.hostPort(GUEST_PORTS.rdsSsh)}`,
      `--rds-key-file=${path.join(tmp, 'rds_key')}`,
      `--rds-host-key-fingerprint=${fingerprint}`,
      `--rds-nvme-address=${linkA}`,
      '--metrics-address=',
      `--kubeconfig=${path.join(tmp, 'kubeconfig')}`,
      `--min-volume-size=${64 * MiB}`,
      '--leader-election',
      '--leader-election-namespace=kube-system',
    ];
    const argsA = await args();
    const procA = spawn(
      process.execPath,
      [path.join(ROOT, 'dist/src/main.js'), 'serve', ...argsA],
      {
        env: { ...process.env, POD_NAME: 'ctrl-a' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const logA: string[] = [];
    procA.stdout.on('data', (d: Buffer) => logA.push(d.toString()));
    procA.stderr.on('data', (d: Buffer) => logA.push(d.toString()));
    t.teardown(() => void procA.kill('SIGKILL'));
    const holder = () =>
      (
        api.get('leases', 'rds-csi-controller', 'kube-system')?.spec as
          { holderIdentity?: string } | undefined
      )?.holderIdentity;
    await poll('replica A leads', () => (holder() === 'ctrl-a' ? true : undefined), 60_000);
    const logB: string[] = [];
    const appB = await startApp(
      loadConfig(await args(), { POD_NAME: 'ctrl-b' }),
      createLogger({ level: 'info', sink: { write: (l: string) => logB.push(l) } }),
    );
    t.teardown(() => appB.stop());
    const endpoint = (a: readonly string[]) => (a[1] ?? '').replace(/^--endpoint=tcp:\/\//, '');
    const A = csiClient(endpoint(argsA));
    const B = csiClient(appB.endpoint.replace(/^tcp:\/\//, ''));
    const nodeA = csiClient(`127.0.0.1:${a.vm.hostPort(GUEST_PORTS.csi)}`);
    const nodeB = csiClient(`127.0.0.1:${b.vm.hostPort(GUEST_PORTS.csi)}`);
    t.teardown(() => [A, B, nodeA, nodeB].forEach((c) => c.close()));
    for (const v of [a, b]) {
      await poll(
        `${v.name}'s host NQN`,
        () => api.get('nodes', v.name)?.metadata.annotations?.[HOST_NQN_ANNOTATION],
        180_000,
      );
    }
    for (const c of [A, B]) {
      await poll(
        'controller ready',
        async () =>
          (await c.identity<{ ready?: { value: boolean } }>('Probe')).ready?.value
            ? true
            : undefined,
        60_000,
      );
    }
    t.equal(holder(), 'ctrl-a', 'A holds the Lease; B stands by');
    phase('two replicas and two node plugins ready');

    // ---- the volume, served by A ----
    const pvName = `pvc-${crypto.randomUUID()}`;
    const created = await A.controller<{
      volume: { volume_id: string; volume_context: Record<string, string> };
    }>('CreateVolume', {
      name: pvName,
      capacity_range: { required_bytes: 64 * MiB },
      volume_capabilities: [BLOCK_CAP],
      parameters: {
        hostFencing: 'true',
        'csi.storage.k8s.io/pvc/name': CLAIM.name,
        'csi.storage.k8s.io/pvc/namespace': CLAIM.namespace,
      },
    });
    const volumeId = created.volume.volume_id;
    const ctx = created.volume.volume_context;
    api.put('persistentvolumeclaims', pvc(CLAIM.namespace, CLAIM.name));
    api.put(
      'persistentvolumes',
      pv(pvName, volumeId, { block: true, rwx: true, attrs: ctx, claim: CLAIM }),
    );
    const vaName = (n: string) =>
      `csi-${crypto.createHash('sha256').update(`${pvName}${n}`).digest('hex')}`;
    const attach = async (c: CsiClient, n: string) => {
      const at = Date.now();
      api.put('volumeattachments', va(vaName(n), pvName, n, at, false));
      const r = await c.controller<{ publish_context: object }>('ControllerPublishVolume', {
        volume_id: volumeId,
        node_id: n,
        volume_capability: BLOCK_CAP,
        volume_context: ctx,
      });
      api.put('volumeattachments', va(vaName(n), pvName, n, at, true));
      return r.publish_context;
    };
    const detach = async (c: CsiClient, n: string) => {
      await c.controller('ControllerUnpublishVolume', { volume_id: volumeId, node_id: n });
      api.remove('volumeattachments', vaName(n));
    };
    const staging = `/tmp/kubelet/staging/${pvName}`;
    const stage = async (v: TopologyVm, c: CsiClient, pc: object) => {
      await sh(t, v.vm, `mkdir -p ${shellQuote(staging)}`);
      await c.node(
        'NodeStageVolume',
        {
          volume_id: volumeId,
          publish_context: pc,
          volume_capability: BLOCK_CAP,
          volume_context: ctx,
          staging_target_path: staging,
        },
        { deadlineMs: 180_000 },
      );
    };
    const unstage = (c: CsiClient) =>
      c.node(
        'NodeUnstageVolume',
        { volume_id: volumeId, staging_target_path: staging },
        { deadlineMs: 120_000 },
      );
    const connected = async (v: TopologyVm) =>
      (await sh(t, v.vm, 'cat /sys/class/nvme/*/subsysnqn 2>/dev/null || true')).includes(
        ctx.nqn ?? '?',
      );

    await stage(a, nodeA, await attach(A, 'a'));
    await stage(b, nodeB, await attach(A, 'b'));
    await unstage(nodeA);
    await detach(A, 'a');
    phase('A served the move a → b');
    await stage(a, nodeA, await attach(A, 'a'));
    t.ok(await connected(a), 'migration b → a in flight: a connected');
    phase('migration b → a in flight');

    // ---- A dies without releasing its Lease ----
    const killedAt = Date.now();
    procA.kill('SIGKILL');
    await poll('B takes the Lease', () => (holder() === 'ctrl-b' ? true : undefined), 3 * LEASE_MS);
    const takeoverMs = Date.now() - killedAt;
    t.comment(
      `takeover: B holds the Lease ${takeoverMs} ms after A was killed (lease ${LEASE_MS} ms)`,
    );
    t.ok(takeoverMs <= LEASE_MS + 5_000, 'within the Lease takeover time (plus a retry period)');

    // ---- B serves from the VolumeAttachments ----
    const again = await B.controller<{ publish_context: object }>('ControllerPublishVolume', {
      volume_id: volumeId,
      node_id: 'a',
      volume_capability: BLOCK_CAP,
      volume_context: ctx,
    });
    t.ok(again.publish_context, "the attacher's re-publish of a is accepted");
    const thirdCode = await codeOf(
      B.controller('ControllerPublishVolume', {
        volume_id: volumeId,
        node_id: 'c',
        volume_capability: BLOCK_CAP,
        volume_context: ctx,
      }),
    );
    t.equal(thirdCode, status.FAILED_PRECONDITION, 'B knows both nodes: a third is refused');
    await unstage(nodeB);
    await detach(B, 'b');
    t.ok(await connected(a), 'a keeps its connection through the hand-off on B');
    await unstage(nodeA);
    await detach(B, 'a');
    await B.controller('DeleteVolume', { volume_id: volumeId });
    t.notOk(
      (await sh(t, a.vm, 'ls /sys/kernel/config/nvmet/subsystems/')).includes(ctx.nqn ?? '?'),
      'deleted',
    );
    const servedMs = Date.now() - killedAt;
    phase(`B served publish, unpublish ×2 and DeleteVolume; ${servedMs} ms after the kill`);

    const events = api.list('events', CLAIM.namespace);
    const counts: Record<string, number> = {};
    for (const e of events)
      counts[`${String(e.reason)}@${String(e.reportingInstance)}`] =
        (counts[`${String(e.reason)}@${String(e.reportingInstance)}`] ?? 0) + Number(e.count ?? 1);
    t.comment(`events on the claim (reason@replica: count): ${JSON.stringify(counts)}`);
    for (const e of events)
      t.comment(
        `${String(e.reportingInstance)} ${String(e.reason)} x${String(e.count)}: ${String(e.message)}`,
      );
    t.ok(
      events.every(
        (e) => (e.involvedObject as { uid?: string }).uid === claimUid(CLAIM.namespace, CLAIM.name),
      ),
      'every event names the claim uid',
    );
    t.ok(
      events.some((e) => e.reportingInstance === 'ctrl-b'),
      'B posted events after the takeover',
    );
    const byB = (reason: string) =>
      events.find((e) => e.reportingInstance === 'ctrl-b' && e.reason === reason);
    t.match(
      byB('MigrationCompleted')?.message,
      /migration from b to a completed/,
      'B completed the migration A started',
    );
    t.notOk(byB('MigrationFailed'), 'and did not fail it');
    if (!t.passing())
      t.comment(
        `A:\n${asComment(logA.join('').slice(-4000))}\nB:\n${asComment(logB.slice(-40).join(''))}`,
      );
    await appB.stop();
    await topo.stop();
    t.same(leftoverVmPids(), [], 'no QEMU process left behind');
  },
);
