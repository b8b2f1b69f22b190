// Two kernels: a KubeVirt-style live migration of a raw block volume that the Go rds-csi
// node plugin attached on VM a is finished by our node plugin. a exports the volume over
// NVMe/TCP on the inter-VM link (as the RDS would, no host allow-list: the Go driver set
// none) and holds it the way the Go plugin did: `nvme connect … -l -1 -c 5` with no host
// NQN and an mknod'ed device node at the pod's publish target. b (our plugin, the
// migration target) stages and publishes it from the Go volume_context and reads what a
// wrote before and during the hand-off; then our plugin, now running on a too, unpublishes
// the Go device node and unstages with no state of its own, and b carries on alone.
import crypto from 'node:crypto';
import path from 'node:path';
import t, { type Test } from 'tap';
import { goNqn, goVolumeContext } from '../helpers/go-driver';
import { projectRoot } from './host-tools';
import { shellQuote } from './protocol';
import { leftoverVmPids, type Vm } from './runner';
import { guestCli, sh, suiteImage, vmSuiteSkipReason } from './suite-util';
import { startTopology, TWO_NODES } from './topology';

t.setTimeout(15 * 60_000);

const skip = vmSuiteSkipReason();
if (skip !== null) console.log(`# Go hand-off test skipped: ${skip}`);

const GUEST = path.join(projectRoot(), 'dist', 'test', 'vm', 'guest');
const ID = `pvc-${crypto.randomUUID()}`;
const NQN = goNqn(ID);
const KUBELET = '/tmp/kubelet';
const STAGING = `${KUBELET}/plugins/kubernetes.io/csi/volumeDevices/staging/${ID}`;
const target = (pod: string) =>
  `${KUBELET}/plugins/kubernetes.io/csi/volumeDevices/publish/${ID}/${pod}`;

const exec = (vm: Vm, file: string, command: string, args: object) =>
  vm.runNode(path.join(GUEST, file), [command, JSON.stringify(args)], { timeoutMs: 180_000 });
const run = (t: Test, vm: Vm, file: string, command: string, args: object) =>
  guestCli(t, vm, file, command, args, 180_000);

/** kubelet when the pod on `vm` is gone: NodeUnpublish, then NodeUnstage (our plugin). */
async function leave(t: Test, vm: Vm, pod: string): Promise<void> {
  const base = { kubelet: KUBELET, volumeId: ID };
  await run(t, vm, 'node-cli.js', 'unpublish', { ...base, targetPath: target(pod) });
  await run(t, vm, 'node-cli.js', 'unstage', { ...base, stagingPath: STAGING });
}

/** sha256 of MiB number `n` of a device node, read past the page cache. */
const readMiB = (vm: Vm, t: Test, file: string, n: number) =>
  sh(
    t,
    vm,
    `dd if=${shellQuote(file)} bs=1M skip=${n} count=1 iflag=direct 2>/dev/null | sha256sum`,
  ).then((s) => s.split(' ')[0]);
const writeMiB = (vm: Vm, t: Test, file: string, n: number) =>
  sh(
    t,
    vm,
    `dd if=/dev/urandom of=/tmp/mib bs=1M count=1 2>/dev/null
     dd if=/tmp/mib of=${shellQuote(file)} bs=1M seek=${n} count=1 oflag=direct conv=notrunc 2>/dev/null
     sha256sum /tmp/mib`,
  ).then((s) => s.split(' ')[0]);

t.test(
  'a live migration started under the Go node plugin ends under ours',
  { skip: skip ?? false },
  async (t) => {
    const started = Date.now();
    const image = await suiteImage((l) => t.comment(l));
    const topo = await startTopology(TWO_NODES, { image });
    t.teardown(() => topo.stop());
    const a = topo.get('a');
    const b = topo.get('b');
    const context = goVolumeContext(ID, a.linkAddress ?? '');

    // Fresh nodes load no NVMe module (a node plugin or nvme-cli's host would have).
    for (const vm of [a.vm, b.vm]) await sh(t, vm, 'modprobe -a nvme-fabrics nvme-tcp');
    // The RDS side of the volume, on a.
    const { device: loop } = await run(t, a.vm, 'cli.js', 'loop', {
      file: '/tmp/go-handoff.img',
      sizeMiB: 64,
    });
    await run(t, a.vm, 'cli.js', 'target', { nqn: NQN, devicePath: loop, traddr: a.linkAddress });
    await sh(t, b.vm, `ping -c 1 -W 10 ${a.linkAddress ?? ''} >/dev/null`);

    // The Go node plugin's stage and publish on a (its container saw no /etc/nvme).
    const goDev = await sh(
      t,
      a.vm,
      `mount -t tmpfs tmpfs /etc/nvme
     nvme connect -t tcp -a ${a.linkAddress ?? ''} -s 4420 -n ${NQN} -l -1 -c 5 >/dev/null; rc=$?
     umount /etc/nvme
     [ $rc = 0 ] || exit $rc
     for i in $(seq 200); do
       for s in /sys/class/nvme-subsystem/*; do
         [ "$(cat $s/subsysnqn)" = ${NQN} ] && for n in $s/nvme*n*; do [ -e "$n" ] && basename "$n" && exit 0; done
       done
       sleep 0.05
     done
     exit 1`,
    );
    const aDevice = `/dev/${goDev.trim()}`;
    await sh(
      t,
      a.vm,
      `mkdir -p ${STAGING} $(dirname ${target('vm-a')})
     while [ ! -b ${aDevice} ]; do sleep 0.05; done
     mknod -m 0660 ${target('vm-a')} b $(tr ':' ' ' < /sys/class/block/${goDev.trim()}/dev)`,
    );
    const before = await writeMiB(a.vm, t, target('vm-a'), 0);

    // The migration target b runs our plugin: stage and publish from the Go volume_context.
    await run(t, b.vm, 'node-cli.js', 'stage', {
      kubelet: KUBELET,
      volumeId: ID,
      stagingPath: STAGING,
      block: true,
      context,
    });
    await run(t, b.vm, 'node-cli.js', 'publish', {
      kubelet: KUBELET,
      volumeId: ID,
      stagingPath: STAGING,
      targetPath: target('vm-b'),
      block: true,
      context,
    });
    const bCtrl = await sh(
      t,
      b.vm,
      `for c in /sys/class/nvme/nvme*; do [ "$(cat $c/subsysnqn)" = ${NQN} ] && cat $c/reconnect_delay $c/ctrl_loss_tmo; done`,
    );
    t.same(bCtrl.trim().split('\n'), ['5', 'off'], 'b connected with the tuning of the Go context');
    t.equal(
      await readMiB(b.vm, t, target('vm-b'), 0),
      before,
      'b reads what a wrote before the migration',
    );
    const during = await writeMiB(a.vm, t, target('vm-a'), 1);
    t.equal(await readMiB(b.vm, t, target('vm-b'), 1), during, 'and what a wrote during it');

    // The source side ends under our plugin on a: no record of ours exists there.
    const refused = await exec(a.vm, 'node-cli.js', 'unstage', {
      kubelet: KUBELET,
      volumeId: ID,
      stagingPath: STAGING,
    });
    t.not(refused.exitCode, 0, 'unstage on a is refused while the Go device node is published');
    t.match(refused.output, /still in use.*device node/, 'and says why');
    await leave(t, a.vm, 'vm-a');
    const aLeft = await sh(
      t,
      a.vm,
      `[ -e ${target('vm-a')} ] && echo node-left
     for c in /sys/class/nvme/nvme*; do [ -e $c/subsysnqn ] && [ "$(cat $c/subsysnqn)" = ${NQN} ] && echo ctrl-left; done; true`,
    );
    t.equal(aLeft.trim(), '', 'a: the device node is unlinked and the Go controller disconnected');

    const after = await writeMiB(b.vm, t, target('vm-b'), 2);
    t.equal(await readMiB(b.vm, t, target('vm-b'), 2), after, 'b writes and reads on its own');
    t.equal(await readMiB(b.vm, t, target('vm-b'), 0), before, 'the data from before is intact');
    await leave(t, b.vm, 'vm-b');
    await run(t, a.vm, 'cli.js', 'remove-target', { nqn: NQN });
    await topo.stop();
    t.same(leftoverVmPids(), [], 'no QEMU process left behind');
    t.comment(`Go hand-off test: ${Date.now() - started} ms`);
  },
);
