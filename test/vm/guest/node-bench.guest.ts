// Runs inside a test VM as root: NodeStage (ext4, 1 GiB) through the node use-cases with the
// native Fabrics port and the Linux Mounter, side by side with the same steps done by a shell
// script with nvme-cli (connect, wait for the device, mkfs.ext4, mount), the way drivers built
// on nvme-cli do it. Rounds alternate the two methods; every round starts from an empty
// device and ends disconnected. Prints medians as `@@BENCH` rows (see test/bench/vm.ts);
// asserts only that every step worked, never a time.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createLinuxMounter } from '../../../src/mount/linux';
import { createProcessRunner } from '../../../src/mount/runner';
import { resolveNode } from '../../../src/node/deps';
import { stageVolume } from '../../../src/node/stage';
import { unstageVolume } from '../../../src/node/unstage';
import { createNativeFabrics } from '../../../src/nvme/fabrics';
import { loadHostIdentity } from '../../../src/nvme/hostid';
import { loadNvmeAddon } from '../../../src/nvme/native';
import { benchLine } from '../protocol';
import { guestEnv } from './env';
import {
  controllersOf,
  createTarget,
  disconnect,
  loopDevice,
  removeTarget,
  nvmeSkipReason,
} from './nvmet';

const NQN = 'nqn.2000-02.com.mikrotik:node-bench';
const ROUNDS = Number(process.env['RDS_NODE_BENCH_ROUNDS'] ?? 7);

const skip = nvmeSkipReason();
if (skip !== null) console.log(`# node-bench guest test skipped: ${skip}`);

/**
 * The nvme-cli way, as one shell script with the same steps (including the blkid probe
 * before mkfs, as mount-utils' SafeFormatAndMount does). It runs util-linux mount(8), as a
 * node would and as the driver does: the guest's busybox sh would otherwise run its own
 * static mount applet, which starts ~50 ms faster under TCG than the dynamically linked
 * util-linux one and made the script look faster than a real node's. Stamps come from /proc/uptime (10 ms resolution,
 * fine against steps of 50-500 ms); the device is found through sysfs like the driver does.
 */
/** The util-linux mount(8) the driver's runner finds on PATH (a regular file, not an applet link). */
function utilLinuxMount(): string {
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs.filter((d) => d !== '')) {
    const p = path.join(dir, 'mount');
    if (fs.existsSync(p) && fs.lstatSync(p).isFile()) return p;
  }
  throw new Error('no util-linux mount(8) on PATH');
}

const SCRIPT = `
set -e
stamp() { cut -d' ' -f1 /proc/uptime; }
t0=$(stamp)
nvme connect -t tcp -a 127.0.0.1 -s 4420 -n "$NQN" -q "$HOSTNQN" -I "$HOSTID" >/dev/null
t1=$(stamp)
dev=""
while [ -z "$dev" ]; do
  for s in /sys/class/nvme-subsystem/nvme-subsys*; do
    if [ "$(cat "$s/subsysnqn")" = "$NQN" ]; then
      for n in "$s"/nvme*n*; do [ -e "$n" ] && dev=/dev/$(basename "$n"); done
    fi
  done
  if [ -n "$dev" ] && [ -b "$dev" ]; then break; fi
  dev=""; sleep 0.01
done
t2=$(stamp)
# The safety probe every careful nvme-cli based driver runs before mkfs (exit 2 = empty).
rc=0; blkid -p -o export "$dev" >/dev/null || rc=$?
[ "$rc" = 2 ] || { echo "device not empty (blkid $rc)" >&2; exit 1; }
t3=$(stamp)
mkfs.ext4 -F -q -m0 "$dev"
t4=$(stamp)
"$MOUNT" -t ext4 "$dev" "$DIR"
t5=$(stamp)
echo "$t0 $t1 $t2 $t3 $t4 $t5"
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
}

t.test('NodeStage ext4 1 GiB: driver vs nvme-cli script', { skip: skip ?? false }, async (t) => {
  t.setTimeout(15 * 60_000);
  const file = path.join(os.tmpdir(), 'node-bench.img');
  const loop = loopDevice(file, 1024);
  createTarget({ nqn: NQN, devicePath: loop, traddr: '127.0.0.1' });
  const kubelet = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-'));
  const staging = path.join(kubelet, 'plugins/x/globalmount');
  const scriptDir = path.join(kubelet, 'script');
  fs.mkdirSync(scriptDir, { recursive: true });
  t.teardown(async () => {
    for (const d of [staging, scriptDir]) {
      try {
        execFileSync('umount', [d], { stdio: 'ignore' });
      } catch {
        // not mounted
      }
    }
    await disconnect(NQN);
    removeTarget(NQN);
    execFileSync('losetup', ['-d', loop]);
    fs.rmSync(file, { force: true });
    fs.rmSync(kubelet, { recursive: true, force: true });
  });
  const host = await loadHostIdentity({ nodeId: guestEnv()?.name ?? 'guest' });
  const ctx = resolveNode({
    nodeId: 'guest',
    kubeletDir: kubelet,
    maxVolumesPerNode: 0,
    fabrics: createNativeFabrics({ addon: loadNvmeAddon() }),
    mounter: createLinuxMounter({ run: createProcessRunner() }),
    host,
  });
  const wipe = (): void => {
    const fd = fs.openSync(loop, 'r+');
    fs.writeSync(fd, Buffer.alloc(4 * 2 ** 20), 0, 4 * 2 ** 20, 0);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  };
  const mountTool = utilLinuxMount();
  const PARTS = ['connect', 'deviceWait', 'probe', 'mkfs', 'mount', 'total'] as const;
  const series = (): Record<string, number[]> =>
    Object.fromEntries(PARTS.map((p) => [p, [] as number[]]));
  const ours = series();
  const cli = series();

  for (let round = 0; round < ROUNDS + 1; round++) {
    const warm = round === 0;
    wipe();
    const t0 = performance.now();
    const r = await stageVolume(ctx, {
      volumeId: 'bench',
      stagingPath: staging,
      access: { kind: 'mount', fsType: 'ext4', flags: [] },
      context: { nqn: NQN, traddr: '127.0.0.1', trsvcid: 4420, fsType: undefined },
    });
    const total = performance.now() - t0;
    t.ok(r.formatted, `round ${round}: driver formatted`);
    await unstageVolume(ctx, { volumeId: 'bench', stagingPath: staging });
    t.same(controllersOf(NQN), [], 'driver disconnected');
    if (!warm) {
      ours.connect!.push(r.timings.connectMs);
      ours.deviceWait!.push(r.timings.deviceReadyMs);
      ours.probe!.push(r.timings.probeMs);
      ours.mkfs!.push(r.timings.formatMs);
      ours.mount!.push(r.timings.mountMs);
      ours.total!.push(total);
    }

    wipe();
    const s0 = performance.now();
    const out = execFileSync('sh', ['-c', SCRIPT], {
      encoding: 'utf8',
      env: {
        ...process.env,
        NQN,
        HOSTNQN: host.hostnqn,
        HOSTID: host.hostid,
        DIR: scriptDir,
        MOUNT: mountTool,
      },
    });
    const sTotal = performance.now() - s0;
    const st = out.trim().split(/\s+/).map(Number);
    t.equal(st.length, 6, `round ${round}: script ran every step`);
    execFileSync('umount', [scriptDir]);
    execFileSync('nvme', ['disconnect', '-n', NQN], { stdio: 'ignore' });
    if (!warm) {
      cli.connect!.push((st[1]! - st[0]!) * 1000);
      cli.deviceWait!.push((st[2]! - st[1]!) * 1000);
      cli.probe!.push((st[3]! - st[2]!) * 1000);
      cli.mkfs!.push((st[4]! - st[3]!) * 1000);
      cli.mount!.push((st[5]! - st[4]!) * 1000);
      cli.total!.push(sTotal);
    }
  }

  // Where the difference comes from: starting a tool from this (large) process vs from sh.
  const run = createProcessRunner();
  const fromNode: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const s0 = performance.now();
    await run(['true'], { timeoutMs: 60_000 });
    fromNode.push(performance.now() - s0);
  }
  const shLoop = execFileSync(
    'sh',
    [
      '-c',
      `a=$(cut -d' ' -f1 /proc/uptime); for i in $(seq ${ROUNDS}); do true; /bin/true; done; b=$(cut -d' ' -f1 /proc/uptime); echo "$a $b"`,
    ],
    { encoding: 'utf8' },
  );
  const [la, lb] = shLoop.trim().split(/\s+/).map(Number);
  const fromSh = (((lb ?? 0) - (la ?? 0)) * 1000) / ROUNDS;
  console.log(
    benchLine({
      name: 'spawn a tool: from node (runner)',
      value: round1(median(fromNode)),
      unit: 'ms',
      note: `median of ${ROUNDS}`,
    }),
  );
  console.log(
    benchLine({
      name: 'spawn a tool: from sh',
      value: round1(fromSh),
      unit: 'ms',
      note: `mean of ${ROUNDS}`,
    }),
  );

  const rows: string[] = [];
  for (const part of PARTS) {
    const a = median(ours[part]!);
    const b = median(cli[part]!);
    rows.push(
      `${part.padEnd(10)} driver ${a.toFixed(1).padStart(8)} ms   nvme-cli script ${b.toFixed(1).padStart(8)} ms`,
    );
    console.log(
      benchLine({
        name: `NodeStage ext4 1GiB ${part}: driver`,
        value: round1(a),
        unit: 'ms',
        note: `median of ${ROUNDS}`,
      }),
    );
    console.log(
      benchLine({
        name: `NodeStage ext4 1GiB ${part}: nvme-cli script`,
        value: round1(b),
        unit: 'ms',
        note: `median of ${ROUNDS}; /proc/uptime stamps (10 ms)`,
      }),
    );
  }
  console.log(
    benchLine({
      name: 'NodeStage ext4 1GiB total: script / driver',
      value: round1(median(cli.total!) / median(ours.total!)),
      unit: 'x',
    }),
  );
  t.comment(`NodeStage ext4 1 GiB, medians of ${ROUNDS} rounds:\n${rows.join('\n')}`);
});

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
