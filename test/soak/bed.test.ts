// The soak's test bed on real kernels: boots it and uses each member once (every fault and
// its heal, every observation), printing how long each took to take effect.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { DENY_ALL_HOST_NQN } from '../../src/domain/attachment';
import { HOST_NQN_ANNOTATION } from '../../src/kube/ports';
import { codeOf } from '../helpers/csi';
import { DRIVER, pv, va } from '../integration/kube/helpers';
import { leftoverVmPids } from '../vm/runner';
import { asComment, until } from '../vm/suite-util';
import { bedSkipReason, startBed, type RunningBed } from './bed';
import type { NodeName } from './bed-types';

t.setTimeout(40 * 60_000);

const skip = bedSkipReason();
if (skip !== null) console.log(`# soak bed test skipped: ${skip}`);

const MiB = 1024 * 1024;
const MOUNT_CAP = { mount: { fs_type: 'ext4' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } };
const BLOCK_CAP = { block: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } };
const SLOW_MS = 240_000;

interface Volume {
  pvName: string;
  id: string;
  ctx: Record<string, string>;
  nqn: string;
  staging: string;
}

/** Runs `f` and reports how long it took under `what`. */
async function timed<T>(t: Test, what: string, f: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  const v = await f();
  t.comment(`timing: ${what}: ${Date.now() - t0} ms`);
  return v;
}

async function createVolume(bed: RunningBed, cap: object, fenced: boolean): Promise<Volume> {
  const pvName = `pvc-${crypto.randomUUID()}`;
  const res = await bed.controller().controller<{
    volume: { volume_id: string; volume_context: Record<string, string> };
  }>(
    'CreateVolume',
    {
      name: pvName,
      capacity_range: { required_bytes: 64 * MiB },
      volume_capabilities: [cap],
      parameters: fenced ? { hostFencing: 'true' } : {},
    },
    { deadlineMs: 120_000 },
  );
  const { volume_id: id, volume_context: ctx } = res.volume;
  bed.api.put('persistentvolumes', pv(pvName, id, { block: 'block' in cap, attrs: ctx }));
  const staging = `${bed.kubeletDir}/plugins/kubernetes.io/csi/${DRIVER}/${pvName}/globalmount`;
  return { pvName, id, ctx, nqn: ctx.nqn ?? '', staging };
}

const vaName = (v: Volume, n: NodeName) =>
  `csi-${crypto.createHash('sha256').update(`${v.pvName}${DRIVER}${n}`).digest('hex')}`;

/** The attacher's ControllerPublish and kubelet's NodeStage of a mount volume on `n`. */
async function attachAndStage(bed: RunningBed, v: Volume, n: NodeName): Promise<void> {
  const at = Date.now();
  bed.api.put('volumeattachments', va(vaName(v, n), v.pvName, n, at, false));
  const pub = await bed
    .controller()
    .controller<{ publish_context: object }>(
      'ControllerPublishVolume',
      { volume_id: v.id, node_id: n, volume_capability: MOUNT_CAP, volume_context: v.ctx },
      { deadlineMs: 120_000 },
    );
  bed.api.put('volumeattachments', va(vaName(v, n), v.pvName, n, at, true));
  await bed.exec(n, `mkdir -p '${v.staging}'`);
  await bed.node(n).node(
    'NodeStageVolume',
    {
      volume_id: v.id,
      publish_context: pub.publish_context,
      volume_capability: MOUNT_CAP,
      volume_context: v.ctx,
      staging_target_path: v.staging,
    },
    { deadlineMs: SLOW_MS },
  );
}

async function unstageAndDetach(bed: RunningBed, v: Volume, n: NodeName): Promise<void> {
  await bed
    .node(n)
    .node(
      'NodeUnstageVolume',
      { volume_id: v.id, staging_target_path: v.staging },
      { deadlineMs: 120_000 },
    );
  await bed
    .controller()
    .controller(
      'ControllerUnpublishVolume',
      { volume_id: v.id, node_id: n },
      { deadlineMs: 120_000 },
    );
  bed.api.remove('volumeattachments', vaName(v, n));
}

const stateOf = async (bed: RunningBed, n: NodeName, nqn: string) =>
  (await bed.controllers(n)).find((c) => c.subsysnqn === nqn)?.state;

async function linked(bed: RunningBed): Promise<string> {
  const r = await bed.exec('a', 'ls /sys/kernel/config/nvmet/ports/*/subsystems/');
  return r.output;
}

async function bootChecks(t: Test, bed: RunningBed): Promise<void> {
  for (const n of ['a', 'b'] as const) {
    t.match(bed.hostNqn(n), /^nqn\.2014-08\.org\.nvmexpress:uuid:/, `${n} has a host NQN`);
    t.equal(
      bed.api.get('nodes', n)?.metadata.annotations?.[HOST_NQN_ANNOTATION],
      bed.hostNqn(n),
      `node plugin ${n} annotated its Node with its host NQN`,
    );
    const info = await bed.node(n).node<{ node_id: string }>('NodeGetInfo');
    t.equal(info.node_id, n, `node plugin ${n} answers`);
  }
  const probe = await bed.controller().identity<{ ready?: { value: boolean } }>('Probe');
  t.equal(probe.ready?.value, true, 'the controller is ready');
  t.match(await bed.metrics(), /^rds_csi_/m, "the controller's metrics are scraped");
  t.ok(fs.statSync(bed.logs().controller).size > 0, 'the controller logs to its file');
  t.same(await bed.exec('b', 'echo hi; exit 3'), { exitCode: 3, output: 'hi\n' }, 'exec');
  for (const n of ['a', 'b'] as const) {
    t.same(await bed.controllers(n), [], `no NVMe controller on ${n} yet`);
    t.same(await bed.mounts(n), [], `nothing mounted under the kubelet dir on ${n} yet`);
    t.same(await bed.strayProcesses(n), [], `no stray process on ${n}`);
  }
  t.same(await bed.subsystems(), [], 'no subsystem yet');
  t.same(await bed.simInventory(), { disks: [], files: [] }, 'rds-sim holds nothing yet');
}

async function volumeChecks(t: Test, bed: RunningBed, v: Volume): Promise<void> {
  t.match(v.nqn, /^nqn\./, 'the volume has a subsystem NQN');
  t.ok((await bed.subsystems()).includes(v.nqn), 'its subsystem is in the kernel target');
  t.same(await bed.allowList(v.nqn), [DENY_ALL_HOST_NQN], 'fenced: closed at birth');
  t.equal(await bed.allowList('nqn.2000-01.example:none'), undefined, 'no such subsystem');
  const inv = await bed.simInventory();
  t.equal(inv.disks.length, 1, 'rds-sim has one disk');
  t.match(inv.files, [/^storage-pool\/.+\.img$/], 'and its image file in the pool');
  await timed(t, 'attach and stage on a (ext4)', () => attachAndStage(bed, v, 'a'));
  t.same(await bed.allowList(v.nqn), [bed.hostNqn('a')], 'published to a: only a');
  t.same(await bed.mounts('a'), [v.staging], 'the staging mount is seen');
  t.match(
    await bed.controllers('a'),
    [{ name: /^nvme\d+$/, subsysnqn: v.nqn, state: 'live' }],
    "a's kernel has a live controller for the volume",
  );
  t.same(await bed.controllers('b'), [], 'b has none');
}

async function targetChecks(t: Test, bed: RunningBed, v: Volume): Promise<void> {
  await timed(t, 'targetDown', () => bed.targetDown());
  t.notOk((await linked(bed)).includes(v.nqn), 'the subsystem is no longer on the port');
  await timed(t, "targetDown → a's controller leaves live", () =>
    until(
      'a not live',
      async () => ((await stateOf(bed, 'a', v.nqn)) !== 'live' ? true : undefined),
      SLOW_MS,
    ),
  );
  await bed.targetDown();
  // rds-sim links a subsystem it creates during the outage; targetUp must take it as it is.
  const during = await timed(t, 'CreateVolume during the outage', () =>
    createVolume(bed, BLOCK_CAP, false),
  );
  t.ok((await linked(bed)).includes(during.nqn), 'rds-sim linked the new subsystem');
  await timed(t, 'targetUp', () => bed.targetUp());
  const after = await linked(bed);
  t.ok(after.includes(v.nqn) && after.includes(during.nqn), 'both subsystems are on the port');
  await timed(t, "targetUp → a's controller live again", () =>
    until(
      'a live',
      async () => ((await stateOf(bed, 'a', v.nqn)) === 'live' ? true : undefined),
      SLOW_MS,
    ),
  );
  const write = await bed.exec('a', `echo soak > '${v.staging}/f' && sync && cat '${v.staging}/f'`);
  t.same(write, { exitCode: 0, output: 'soak\n' }, 'the filesystem works after the outage');
  await bed.targetUp();
  await bed.controller().controller('DeleteVolume', { volume_id: during.id });
}

async function simFaultChecks(t: Test, bed: RunningBed): Promise<void> {
  await bed.simFaults({ rules: [{ match: /\/disk add/, fail: 'injected by the bed test' }] });
  const refused = bed.controller().controller('CreateVolume', {
    name: 'pvc-refused',
    capacity_range: { required_bytes: 64 * MiB },
    volume_capabilities: [BLOCK_CAP],
  });
  t.not(await codeOf(refused), 'OK', 'CreateVolume fails while /disk add fails');
  await bed.simFaults({});
  const v = await timed(t, 'CreateVolume after simFaults({})', () =>
    createVolume(bed, BLOCK_CAP, false),
  );
  t.ok((await bed.subsystems()).includes(v.nqn), 'the fault is cleared');
  await bed.controller().controller('DeleteVolume', { volume_id: v.id });
}

async function controllerChecks(t: Test, bed: RunningBed): Promise<void> {
  await timed(t, 'killController', () => bed.killController());
  t.not(await codeOf(bed.controller().identity('Probe')), 'OK', 'the controller is gone');
  await t.rejects(bed.metrics(), 'no metrics while it is down');
  await bed.killController();
  await timed(t, 'startController (until Probe ready)', () => bed.startController());
  t.match(await bed.metrics(), /^rds_csi_/m, 'metrics again after the restart');
  const starts = fs.readFileSync(bed.logs().controller, 'utf8').match(/controller starting/g);
  t.equal(starts?.length, 2, 'the log file keeps both runs');
}

async function nodePluginChecks(t: Test, bed: RunningBed): Promise<void> {
  await timed(t, 'killNodePlugin b', () => bed.killNodePlugin('b'));
  t.not(await codeOf(bed.node('b').node('NodeGetInfo')), 'OK', 'b does not answer');
  t.same(await bed.strayProcesses('b'), [], 'nothing left behind by the plugin');
  // A process named like a driver program (its argv[0]) stands in for an orphaned mkfs.
  const fake = await bed.exec(
    'b',
    `node -e "process.title='mkfs.ext4'; setTimeout(() => {}, 600000)" </dev/null >/dev/null 2>&1 &
echo $!`,
  );
  const pid = fake.output.trim();
  const stray = await until(
    'the stand-in mkfs is seen',
    async () => ((await bed.strayProcesses('b')).length > 0 ? bed.strayProcesses('b') : undefined),
    60_000,
  );
  t.match(stray, [new RegExp(`^${pid} mkfs\\.ext4`)], 'strayProcesses names it');
  // Reaped before the command ends (see KILL_NODE_PLUGIN_SCRIPT for why).
  await bed.exec('b', `kill -9 ${pid}; while [ -e /proc/${pid} ]; do sleep 0.1; done`);
  await timed(t, 'startNodePlugin b (until NodeGetInfo)', () => bed.startNodePlugin('b'));
  t.same(await bed.strayProcesses('b'), [], 'the running plugin itself is not a stray');
  await bed.startNodePlugin('b');
  t.same(await bed.strayProcesses('b'), [], 'starting it again does not start a second one');
}

async function nodeObjectChecks(t: Test, bed: RunningBed): Promise<void> {
  const annotation = () => bed.api.get('nodes', 'b')?.metadata.annotations?.[HOST_NQN_ANNOTATION];
  await bed.removeNode('b');
  t.equal(bed.api.get('nodes', 'b'), undefined, 'Node b is deleted');
  await bed.restoreNode('b');
  const restored = bed.api.get('nodes', 'b');
  t.match(restored?.status, { conditions: [{ type: 'Ready', status: 'True' }] }, 'kubelet is back');
  t.equal(annotation(), undefined, 'kubelet registers it without the host NQN');
  await timed(t, 'restoreNode → the running plugin annotates again', () =>
    until('the annotation', () => (annotation() === bed.hostNqn('b') ? true : undefined), SLOW_MS),
  );
  t.pass('the node plugin keeps its host NQN on a re-created Node');
}

async function apiChecks(t: Test, bed: RunningBed): Promise<void> {
  await until('the controller watches', () => (bed.api.openWatches > 0 ? true : undefined), 60_000);
  await timed(t, 'apiDown', () => bed.apiDown());
  t.equal(bed.api.openWatches, 0, 'the watches are cut');
  t.equal((await fetch(`${bed.api.url}/api/v1/nodes`)).status, 503, 'requests get 503');
  await timed(t, 'apiUp', () => bed.apiUp());
  t.equal((await fetch(`${bed.api.url}/api/v1/nodes`)).status, 200, 'served again');
  await timed(t, 'apiUp → the controller watches again', () =>
    until('watches back', () => (bed.api.openWatches > 0 ? true : undefined), SLOW_MS),
  );
}

t.test('the soak bed on two kernels', { skip: skip ?? false }, async (t) => {
  const bed = await timed(t, 'startBed', () => startBed({ log: (l) => t.comment(l) }));
  let stopped = false;
  t.teardown(async () => {
    if (!t.passing() && !stopped) t.comment(asComment(await bed.logTails()));
    await bed.stop();
  });
  await t.test('boot', (t) => bootChecks(t, bed));
  const v = await createVolume(bed, MOUNT_CAP, true);
  await t.test('a fenced ext4 volume staged on a', (t) => volumeChecks(t, bed, v));
  await t.test('target outage and back', (t) => targetChecks(t, bed, v));
  await t.test('rds-sim faults', (t) => simFaultChecks(t, bed));
  await t.test('controller kill and start', (t) => controllerChecks(t, bed));
  await t.test('node plugin kill and start', (t) => nodePluginChecks(t, bed));
  await t.test('Node removed and restored', (t) => nodeObjectChecks(t, bed));
  await t.test('API server outage', (t) => apiChecks(t, bed));

  await unstageAndDetach(bed, v, 'a');
  await bed.controller().controller('DeleteVolume', { volume_id: v.id });
  for (const n of ['a', 'b'] as const) {
    t.same(await bed.controllers(n), [], `no controller left on ${n}`);
    t.same(await bed.mounts(n), [], `no mount left on ${n}`);
  }
  t.same(await bed.subsystems(), [], 'no subsystem left');
  t.same(await bed.simInventory(), { disks: [], files: [] }, 'rds-sim holds nothing');

  const log = bed.logs().controller;
  await timed(t, 'stop', () => bed.stop());
  stopped = true;
  await bed.stop();
  t.same(leftoverVmPids(), [], 'no QEMU left');
  t.notOk(fs.existsSync(path.dirname(log)), "the bed's temp dir is gone");
  t.not(await codeOf(bed.controller().identity('Probe')), 'OK', 'no controller left');
  bed.controller().close();
});
