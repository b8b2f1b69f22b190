// Two kernels: VM A exports a namespace over NVMe/TCP on the inter-VM link, VM B connects to
// it and reads back the data A wrote underneath. Orchestrated from the host, step by step.
import t, { type Test } from 'tap';
import { shellQuote } from './protocol';
import { leftoverVmPids, type Vm } from './runner';
import { guestCli, sh, suiteImage, vmSuiteSkipReason } from './suite-util';
import { startTopology, TWO_NODES } from './topology';

t.setTimeout(15 * 60_000);

const skip = vmSuiteSkipReason();
if (skip !== null) console.log(`# two-VM test skipped: ${skip}`);

const NQN = 'nqn.2026-01.io.rds-csi:two-vm';

/** Runs a guest cli.js command and returns its JSON result (asserting exit 0). */
const cli = (t: Test, vm: Vm, command: string, args: object) =>
  guestCli(t, vm, 'cli.js', command, args);

t.test(
  'VM B reads over NVMe/TCP what VM A wrote to its exported device',
  { skip: skip ?? false },
  async (t) => {
    const started = Date.now();
    const image = await suiteImage((l) => t.comment(l));
    const topo = await startTopology(TWO_NODES, { image });
    t.teardown(() => topo.stop());
    const a = topo.get('a');
    const b = topo.get('b');
    t.comment(`boot: a ${a.vm.bootMs} ms, b ${b.vm.bootMs} ms (${a.vm.accel}, booted in parallel)`);
    t.equal(a.linkAddress, '10.77.0.1');
    t.equal(b.linkAddress, '10.77.0.2');
    t.not(a.hostNqn, b.hostNqn, 'each node role has its own host NQN');

    const { device } = await cli(t, a.vm, 'loop', { file: '/tmp/two-vm.img', sizeMiB: 64 });
    t.match(device, /^\/dev\/loop\d+$/);
    // 1 MiB of random data at offset 1 MiB, written on A below the target.
    const wrote = await sh(
      t,
      a.vm,
      `dd if=/dev/urandom of=${shellQuote(device ?? '')} bs=1M seek=1 count=1 conv=fsync 2>/dev/null
     dd if=${shellQuote(device ?? '')} bs=1M skip=1 count=1 2>/dev/null | sha256sum`,
    );
    await cli(t, a.vm, 'target', {
      nqn: NQN,
      devicePath: device,
      traddr: a.linkAddress,
      allowedHosts: [b.hostNqn],
    });
    await sh(t, b.vm, `ping -c 1 -W 10 ${a.linkAddress ?? ''} >/dev/null`);

    const remote = await cli(t, b.vm, 'connect', {
      traddr: a.linkAddress,
      nqn: NQN,
      hostnqn: b.hostNqn,
    });
    t.match(remote.device, /^\/dev\/nvme\d+n1$/, 'B sees the namespace');
    const read = await sh(
      t,
      b.vm,
      `dd if=${shellQuote(remote.device ?? '')} bs=1M skip=1 count=1 iflag=direct 2>/dev/null | sha256sum`,
    );
    t.equal(read.split(' ')[0], wrote.split(' ')[0], 'B reads the bytes A wrote');
    t.match(read, /^[0-9a-f]{64}/);

    await cli(t, b.vm, 'disconnect', { nqn: NQN });
    await cli(t, a.vm, 'remove-target', { nqn: NQN });
    await topo.stop();
    t.same(leftoverVmPids(), [], 'no QEMU process left behind');
    t.comment(`two-VM test: ${Date.now() - started} ms`);
  },
);
