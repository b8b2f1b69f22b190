// Runs inside a test VM as root (see test/vm/guest-suite.test.ts): the rds_nvme addon and
// the native Fabrics port against the real kernel, with a kernel nvmet target on
// 127.0.0.1:4420 in the same VM. Skips (with the reason) anywhere else.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import t from 'tap';
import { loadHostIdentity } from '../../../src/nvme/hostid';
import { loadNvmeAddon } from '../../../src/nvme/native';
import { createNativeFabrics } from '../../../src/nvme/fabrics';
import { buildConnectOptions } from '../../../src/nvme/options';
import { mountUsers } from '../../../src/nvme/inuse';
import { findNamespace, parseScan } from '../../../src/nvme/topology';
import { guestEnv } from './env';
import { fdCount, rejection } from './native-calls';
import { createTarget, loopDevice, removeTarget, nvmeSkipReason } from './nvmet';

const NQN = 'nqn.2000-02.com.mikrotik:addon-guest';
const FENCED = 'nqn.2000-02.com.mikrotik:addon-fenced';
const OTHER_HOST = 'nqn.2014-08.org.nvmexpress:uuid:11111111-2222-4333-8444-555555555555';
const SYS = { sysfsRoot: '/sys' };
const FABRICS = { fabricsPath: '/dev/nvme-fabrics' };

const skip = nvmeSkipReason();
if (skip !== null) console.log(`# nvme-addon guest test skipped: ${skip}`);

t.test('rds_nvme addon on a real kernel', { skip: skip ?? false }, async (t) => {
  const env = guestEnv();
  const host = await loadHostIdentity({ nodeId: env?.name ?? 'guest' });
  t.comment(`host identity from ${host.source}: ${host.hostnqn}`);
  const loops = [loopDevice('/tmp/addon-a.img', 64), loopDevice('/tmp/addon-f.img', 16)];
  createTarget({ nqn: NQN, devicePath: loops[0]!, traddr: '127.0.0.1' });
  createTarget({
    nqn: FENCED,
    devicePath: loops[1]!,
    traddr: '127.0.0.1',
    allowedHosts: [OTHER_HOST],
  });
  t.teardown(() => {
    const topo = fs.existsSync('/sys/class/nvme') ? fs.readdirSync('/sys/class/nvme') : [];
    for (const c of topo) {
      const nqn = fs.readFileSync(`/sys/class/nvme/${c}/subsysnqn`, 'utf8').trim();
      if (nqn === NQN || nqn === FENCED) {
        try {
          fs.writeFileSync(`/sys/class/nvme/${c}/delete_controller`, '1');
        } catch {
          // already going away
        }
      }
    }
    removeTarget(FENCED);
    removeTarget(NQN);
    for (const l of loops) execFileSync('losetup', ['-d', l]);
  });
  const addon = loadNvmeAddon();
  const opts = (over: Partial<Parameters<typeof buildConnectOptions>[0]> = {}) =>
    buildConnectOptions({
      traddr: '127.0.0.1',
      trsvcid: 4420,
      nqn: NQN,
      hostnqn: host.hostnqn,
      hostid: host.hostid,
      ...over,
    });
  const fdsBefore = fdCount();

  await t.test('connect, duplicate → EALREADY, device found via sysfs, disconnect', async (t) => {
    const reply = await addon.connect(opts(), FABRICS);
    t.ok(
      reply.instance >= 0 && reply.cntlid >= 0,
      `instance=${reply.instance},cntlid=${reply.cntlid}`,
    );
    const dup = await rejection(addon.connect(opts(), FABRICS));
    t.match(dup, { code: 'EALREADY', syscall: 'write', path: '/dev/nvme-fabrics' });
    const topo = parseScan(await addon.scan(SYS));
    const ctrl = topo.controllers.find((c) => c.instance === reply.instance);
    t.match(ctrl, {
      state: 'live',
      transport: 'tcp',
      subsysnqn: NQN,
      hostnqn: host.hostnqn,
      hostid: host.hostid,
    });
    t.equal(ctrl?.ctrlLossTmoSec, -1, 'reconnect for ever');
    t.equal(ctrl?.addressFields.traddr, '127.0.0.1');
    const ns = findNamespace(topo, NQN, 1);
    t.ok(ns, 'namespace 1 found by NQN and nsid');
    t.equal(ns?.sizeBytes, 64 * 2 ** 20, 'size in bytes');
    t.comment(
      `namespace ${ns?.name} (dev ${ns?.dev}), hidden per-path: ${topo.namespaces
        .filter((n) => n.hidden)
        .map((n) => n.name)
        .join(',')}`,
    );
    await addon.setAttribute(reply.instance, 'ctrl_loss_tmo', '600', SYS);
    t.equal(
      fs.readFileSync(`/sys/class/nvme/nvme${reply.instance}/ctrl_loss_tmo`, 'utf8').trim(),
      '600',
    );
    await addon.rescan(reply.instance, SYS);
    await addon.disconnect(reply.instance, SYS);
    const after = parseScan(await addon.scan(SYS));
    t.notOk(
      after.controllers.some((c) => c.subsysnqn === NQN && c.state === 'live'),
      'controller gone',
    );
    t.match(await rejection(addon.disconnect(reply.instance, SYS)), { code: 'ENOENT' });
  });

  await t.test('kernel errnos for refused connects', async (t) => {
    t.match(
      await rejection(addon.connect(opts({ nqn: `${NQN}-missing` }), FABRICS)),
      { code: 'EIO', syscall: 'write' },
      'wrong NQN → EIO',
    );
    t.match(
      await rejection(addon.connect(opts({ trsvcid: 4421 }), FABRICS)),
      { code: 'ECONNREFUSED' },
      'closed port → ECONNREFUSED',
    );
    t.match(
      await rejection(addon.connect(opts({ nqn: FENCED }), FABRICS)),
      { code: 'EIO' },
      'host not allowed → EIO',
    );
    t.match(
      await rejection(addon.connect(`${opts()},bogus_option=1`, FABRICS)),
      { code: 'EINVAL' },
      'unknown option → EINVAL',
    );
    t.match(
      await rejection(addon.connect('transport=tcp,traddr=127.0.0.1,trsvcid=4420', FABRICS)),
      { code: 'EINVAL' },
      'missing nqn → EINVAL',
    );
  });

  await t.test('scan runs while a connect is in flight', async (t) => {
    const connecting = addon.connect(opts(), FABRICS);
    const scans = await Promise.all([addon.scan(SYS), addon.scan(SYS), addon.scan(SYS)]);
    t.equal(scans.length, 3);
    const reply = await connecting;
    const seen = scans.flatMap((s) =>
      s.controllers.filter((c) => c.subsysnqn === NQN).map((c) => c.state),
    );
    t.comment(`states seen while connecting: ${seen.join(',') || '(none yet)'}`);
    await addon.disconnect(reply.instance, SYS);
  });

  await t.test(
    'scanController: the new controller by instance, as the full scan sees it',
    async (t) => {
      const reply = await addon.connect(opts(), { ...FABRICS, ...SYS, devRoot: '/dev' });
      const looked = parseScan(reply.lookup!);
      for (const n of looked.namespaces) {
        // A node seen by the lookup exists now; per-path entries are never looked for.
        if (n.hidden) t.equal(n.devNode, undefined, `${n.name}: per-path, not looked for`);
        else if (n.devNode) t.ok(fs.existsSync(`/dev/${n.name}`), `${n.name}: node seen, exists`);
        else t.equal(n.devNode, false, `${n.name}: not there yet at the lookup`);
      }
      const st = reply.stamps!;
      t.ok(st.started <= st.replied && st.replied <= st.done, 'stamps in order');
      t.same(
        looked.controllers.map((c) => [c.name, c.state, c.subsysnqn]),
        [[`nvme${reply.instance}`, 'live', NQN]],
        "the connect's own lookup sees the new controller live",
      );
      t.comment(`namespace at the connect's lookup: ${findNamespace(looked, NQN, 1)?.name}`);
      const full = parseScan(await addon.scan(SYS));
      let one = parseScan(await addon.scanController(reply.instance, SYS));
      for (let i = 0; i < 200 && findNamespace(one, NQN, 1) === undefined; i++) {
        await new Promise((r) => setTimeout(r, 5));
        one = parseScan(await addon.scanController(reply.instance, SYS));
      }
      t.same(
        one.controllers.map((c) => [c.name, c.state, c.subsysnqn]),
        [[`nvme${reply.instance}`, 'live', NQN]],
        'only the new controller, live, of its subsystem',
      );
      t.equal(one.subsystems.length, 1, 'the one subsystem it is a member of');
      t.ok(one.subsystems[0]?.controllers.includes(reply.instance));
      t.equal(
        findNamespace(one, NQN, 1)?.name,
        findNamespace(parseScan(await addon.scan(SYS)), NQN, 1)?.name,
        'the same device as the full scan',
      );
      t.ok(full.controllers.length >= one.controllers.length);
      const gone = 999_999;
      t.same(
        await addon.scanController(gone, SYS),
        { controllers: [], subsystems: [], namespaces: [], truncated: false },
        'an instance with no controller is an empty view',
      );
      // a lookup racing the controller's removal settles with what it saw, never an error
      const racing = Promise.all([
        addon.scanController(reply.instance, SYS),
        addon.disconnect(reply.instance, SYS),
        addon.scanController(reply.instance, SYS),
      ]);
      const [before, , after] = await racing;
      t.ok(before.controllers.length <= 1 && after.controllers.length <= 1);
      t.match(await rejection(addon.scanController(0, { sysfsRoot: '/proc/self/status' })), {
        code: 'ENOTDIR',
      });
    },
  );

  await t.test('deviceUsage: mounts, partitions and openers of a real NVMe device', async (t) => {
    const reply = await addon.connect(opts(), FABRICS);
    let ns = findNamespace(parseScan(await addon.scanController(reply.instance, SYS)), NQN, 1);
    for (let i = 0; i < 200 && (ns === undefined || !fs.existsSync(`/dev/${ns.name}`)); i++) {
      await new Promise((r) => setTimeout(r, 5));
      ns = findNamespace(parseScan(await addon.scanController(reply.instance, SYS)), NQN, 1);
    }
    const dev = ns!.name;
    const roots = { sysfsRoot: '/sys', procRoot: '/proc' };
    const idle = await addon.deviceUsage([dev], roots);
    t.same(
      idle.nodes.map((n) => n.name),
      [dev],
      'no partitions yet',
    );
    t.equal(idle.nodes[0]?.dev, fs.readFileSync(`/sys/block/${dev}/dev`, 'utf8').trim());
    t.same(idle.openers, [], 'nobody holds it open');
    t.equal(idle.mountinfo, fs.readFileSync('/proc/self/mountinfo', 'utf8'));

    // one MBR partition (type 0x83 from sector 2048 to the end), then a re-read
    const mbr = Buffer.alloc(512);
    mbr.writeUInt8(0x83, 446 + 4);
    mbr.writeUInt32LE(2048, 446 + 8);
    mbr.writeUInt32LE((64 * 2 ** 20) / 512 - 2048, 446 + 12);
    mbr.writeUInt16LE(0xaa55, 510);
    const fd = fs.openSync(`/dev/${dev}`, 'r+');
    fs.writeSync(fd, mbr, 0, 512, 0);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    execFileSync('blockdev', ['--rereadpt', `/dev/${dev}`]);
    const part = `${dev}p1`;
    for (let i = 0; i < 200 && !fs.existsSync(`/dev/${part}`); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    execFileSync('mkfs.ext4', ['-q', '-F', `/dev/${part}`]);
    fs.mkdirSync('/mnt/usage', { recursive: true });
    execFileSync('mount', [`/dev/${part}`, '/mnt/usage']);
    const held = fs.openSync(`/dev/${dev}`, 'r');
    try {
      const busy = await addon.deviceUsage([dev], roots);
      t.same(
        busy.nodes.map((n) => n.name),
        [dev, part],
        'the partition is listed after its device',
      );
      const uses = mountUsers(
        busy.mountinfo,
        busy.nodes.map((n) => ({ name: n.name, dev: n.dev ?? undefined })),
      );
      t.same(
        uses.map((u) => [u.device, u.detail]),
        [[part, '/mnt/usage']],
        'the partition mount',
      );
      t.ok(
        busy.openers.some((o) => o.pid === process.pid && o.path === `/dev/${dev}`),
        'this process holds the device open',
      );
    } finally {
      fs.closeSync(held);
      execFileSync('umount', ['/mnt/usage']);
    }
    const fds = fdCount();
    await Promise.all(Array.from({ length: 16 }, () => addon.deviceUsage([dev], roots)));
    t.equal(fdCount(), fds, 'concurrent calls leak no descriptors');
    // wipe the partition table so later subtests start from a bare namespace
    const wipe = fs.openSync(`/dev/${dev}`, 'r+');
    fs.writeSync(wipe, Buffer.alloc(512), 0, 512, 0);
    fs.closeSync(wipe);
    execFileSync('blockdev', ['--rereadpt', `/dev/${dev}`]);
    await addon.disconnect(reply.instance, SYS);
  });

  await t.test(
    'readFile: proc and state files in one job; devices and directories refused',
    async (t) => {
      const fds = fdCount();
      const mountinfo = await addon.readFile('/proc/self/mountinfo', { maxBytes: 2 ** 20 });
      t.match(mountinfo, / \/ /, 'a size-0 proc file is read to its end');
      t.equal(
        (await addon.readFile('/proc/self/mounts', { maxBytes: 2 ** 20 }))?.split('\n')[0],
        fs.readFileSync('/proc/self/mounts', 'utf8').split('\n')[0],
      );
      t.match(await rejection(addon.readFile('/dev/null', { maxBytes: 16 })), { code: 'EINVAL' });
      t.match(await rejection(addon.readFile('/sys/class', { maxBytes: 16 })), { code: 'EISDIR' });
      t.equal(await addon.readFile('/nonexistent/x', { maxBytes: 16 }), null, 'missing: null');
      t.equal(fdCount(), fds, 'no descriptor leaked');
    },
  );

  await t.test(
    'Fabrics port: attach, reuse, stuck connecting, in-use refusal, detach',
    async (t) => {
      const fabrics = createNativeFabrics({ addon, stuckConnectingMs: 1500 });
      const target = {
        nqn: NQN,
        traddr: '127.0.0.1',
        trsvcid: 4420,
        hostnqn: host.hostnqn,
        hostid: host.hostid,
        tuning: { reconnectDelaySec: 1 },
      };
      const first = await fabrics.attach(target, { deadlineMs: 60_000 });
      t.match(first, { device: /^\/dev\/nvme\d+n\d+$/, reused: false });
      t.ok(fs.existsSync(first.device), `${first.device} exists`);
      t.comment(`attach timings: ${JSON.stringify(first.timings)}`);
      const again = await fabrics.attach(target);
      t.match(again, { device: first.device, controller: first.controller, reused: true });
      t.match(await fabrics.find(NQN), { device: first.device, sizeBytes: 64 * 2 ** 20 });
      t.equal(await fabrics.deviceSize(NQN), 64 * 2 ** 20);

      // target outage: unexport, reset → the controller sits in `connecting`
      const link = `/sys/kernel/config/nvmet/ports/1/subsystems/${NQN}`;
      fs.unlinkSync(link);
      try {
        fs.writeFileSync(`/sys/class/nvme/nvme${first.controller}/reset_controller`, '1');
      } catch {
        // the reset reports the failed reconnect; the state is what matters
      }
      const state = (await fabrics.find(NQN))?.controllers[0]?.state;
      t.comment(`state during outage: ${state}`);
      const stuck = await fabrics.attach(target, { deadlineMs: 60_000 }).catch((e: unknown) => e);
      t.match(stuck, {
        code: 'unavailable',
        message: /not live \(nvme\d+ (connecting|resetting)\)/,
      });
      fs.symlinkSync(`/sys/kernel/config/nvmet/subsystems/${NQN}`, link);
      // a patient caller (long stuck limit) waits through the reconnect instead
      const patient = createNativeFabrics({ addon, stuckConnectingMs: 60_000 });
      const back = await patient.attach(target, { deadlineMs: 60_000 });
      t.match(back, { device: first.device, reused: true }, 'same controller comes back live');

      const fd = fs.openSync(first.device, 'r');
      const busy = await fabrics.detach(NQN).catch((e: unknown) => e);
      t.match(busy, {
        code: 'failed-precondition',
        message: new RegExp(`open by pid ${process.pid}`),
      });
      fs.closeSync(fd);
      t.equal((await fabrics.detach(NQN)).disconnected, 1);
      t.same(await fabrics.detach(NQN), { disconnected: 0 }, 'idempotent');
      t.equal(await fabrics.find(NQN), undefined);
    },
  );

  t.equal(fdCount(), fdsBefore, 'no file descriptors leaked');
});
