// Runs inside a test VM (see test/vm/README.md): the kernel NVMe target and host work end to
// end on one kernel. ext4 on an NVMe/TCP namespace survives disconnect and reconnect.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import t from 'tap';
import { guestEnv, notInGuestReason } from './env';
import {
  connectDevice,
  controllersOf,
  createTarget,
  deviceOf,
  disconnect,
  loopDevice,
  removeTarget,
} from './nvmet';

const skip = notInGuestReason();
const NQN = 'nqn.2026-01.io.rds-csi:smoke';
const MNT = '/mnt/smoke';

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

async function timed<T>(label: string, fn: () => T | Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  const value = await fn();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(`# timing ${label}: ${ms.toFixed(1)} ms`);
  return value;
}

t.test(
  'modules, nvmet target, NVMe/TCP connect, ext4 data survives reconnect',
  { skip: skip ?? false },
  async (t) => {
    const env = guestEnv();
    t.ok(env?.hostNqn, 'the node role has a host NQN');
    const loop = loopDevice('/tmp/smoke.img', 256);
    t.teardown(() => {
      try {
        execFileSync('umount', [MNT], { stdio: 'ignore' });
      } catch {
        // not mounted
      }
      for (const n of controllersOf(NQN)) {
        fs.writeFileSync(`/sys/class/nvme/nvme${n}/delete_controller`, '1');
      }
      removeTarget(NQN);
      execFileSync('losetup', ['-d', loop]);
    });
    createTarget({ nqn: NQN, devicePath: loop, traddr: '127.0.0.1' });
    t.ok(
      fs.existsSync(`/sys/kernel/config/nvmet/subsystems/${NQN}`),
      'subsystem exists in configfs',
    );

    // The guest boots like a fresh node: nothing NVMe is loaded. /dev/nvme-fabrics exists only
    // once nvme-fabrics is loaded; nvme-tcp must then be loaded by the kernel via /sbin/modprobe.
    t.notOk(
      fs.existsSync('/dev/nvme-fabrics'),
      'no /dev/nvme-fabrics before nvme-fabrics is loaded',
    );
    sh('modprobe', ['nvme-fabrics']);
    const conn = { traddr: '127.0.0.1', nqn: NQN, hostnqn: env?.hostNqn ?? '' };
    const dev = await timed('connect (raw write) until device', () => connectDevice(conn));
    t.match(dev, /^\/dev\/nvme\d+n1$/, 'namespace head device appears');
    t.match(sh('lsmod', []), /nvme_tcp/, 'nvme-tcp was loaded on demand');
    const [ctrl] = controllersOf(NQN);
    t.equal(fs.readFileSync(`/sys/class/nvme/nvme${ctrl}/state`, 'utf8').trim(), 'live');
    t.equal(fs.readFileSync(`/sys/class/nvme/nvme${ctrl}/hostnqn`, 'utf8').trim(), conn.hostnqn);

    await timed('mkfs.ext4', () => sh('mkfs.ext4', ['-q', dev]));
    fs.mkdirSync(MNT, { recursive: true });
    await timed('mount', () => sh('mount', [dev, MNT]));
    const data = crypto.randomBytes(4 * 2 ** 20);
    fs.writeFileSync(`${MNT}/data.bin`, data);
    const want = crypto.createHash('sha256').update(data).digest('hex');
    t.equal(sha256(`${MNT}/data.bin`), want, 'checksum after write');
    await timed('umount', () => sh('umount', [MNT]));
    await timed('disconnect', () => disconnect(NQN));
    t.equal(deviceOf(NQN), null, 'device gone after disconnect');

    const dev2 = await timed('reconnect until device', () => connectDevice(conn));
    sh('mount', [dev2, MNT]);
    t.equal(sha256(`${MNT}/data.bin`), want, 'checksum equal after reconnect');
    t.match(sh('blkid', ['-o', 'value', '-s', 'TYPE', dev2]), /ext4/, 'blkid sees ext4');
    sh('umount', [MNT]);
    await disconnect(NQN);
  },
);

t.test(
  'nvme-cli connects to the same target (comparison tool works)',
  { skip: skip ?? false },
  async (t) => {
    const nqn = `${NQN}-cli`;
    const loop = loopDevice('/tmp/smoke-cli.img', 64);
    t.teardown(async () => {
      await disconnect(nqn);
      removeTarget(nqn);
      execFileSync('losetup', ['-d', loop]);
    });
    createTarget({ nqn, devicePath: loop, traddr: '127.0.0.1' });
    sh('nvme', ['connect', '-t', 'tcp', '-a', '127.0.0.1', '-s', '4420', '-n', nqn]);
    t.equal(controllersOf(nqn).length, 1, 'one controller after nvme connect');
    sh('nvme', ['disconnect', '-n', nqn]);
    t.equal(controllersOf(nqn).length, 0, 'none after nvme disconnect');
  },
);
