// Runs inside a test VM as root: the node RPCs' use-cases (NodeStage with and without mkfs,
// NodePublish, NodeUnstage) for ext4 and xfs on a 1 GiB NVMe/TCP namespace, side by side with
// the same steps done by a shell script with nvme-cli and util-linux tools, the way drivers
// built on nvme-cli do it. A third column runs the driver with its Mounter spawning blkid(8),
// mount(8) and umount(8) with child_process instead of the addon's in-process calls and
// posix_spawn (the production Mounter), to show what those pay.
// Rounds alternate the methods; every round starts from an empty device and ends
// disconnected. Prints medians as `@@BENCH` rows (see test/bench/vm.ts); asserts only that
// every step worked, never a time.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { FsType } from '../../../src/domain/volume-context';
import { createAddonMounter, createLinuxMounter } from '../../../src/mount/linux';
import { createNativeRunner } from '../../../src/mount/native-runner';
import { createProcessRunner } from '../../../src/mount/runner';
import { type NodeContext, resolveNode } from '../../../src/node/deps';
import { publishVolume, unpublishVolume } from '../../../src/node/publish';
import { RECORD_MAX_BYTES, createFileRecordStore } from '../../../src/node/records';
import { stageVolume } from '../../../src/node/stage';
import { unstageVolume } from '../../../src/node/unstage';
import { createNativeFabrics } from '../../../src/nvme/fabrics';
import { loadHostIdentity } from '../../../src/nvme/hostid';
import { loadNvmeAddon } from '../../../src/nvme/native';
import { benchLine } from '../protocol';
import { guestEnv } from './env';
import { SCRIPT, utilLinuxMount } from './node-bench-script';
import { controllersOf, createTarget, loopDevice, nvmeSkipReason, removeTarget } from './nvmet';

const NQN = 'nqn.2000-02.com.mikrotik:node-bench';
const ROUNDS = Number(process.env['RDS_NODE_BENCH_ROUNDS'] ?? 7);
const FS_TYPES: readonly FsType[] = ['ext4', 'xfs'];

const skip = nvmeSkipReason();
if (skip !== null) console.log(`# node-bench guest test skipped: ${skip}`);

/** What one round measures, per method (ms). */
const STEPS = [
  'stage (mkfs): record read',
  'stage (mkfs): connect',
  'stage (mkfs): deviceWait',
  'stage (mkfs): attach, rest',
  'stage (mkfs): record write, mount read, probe',
  'stage (mkfs): (probe within it)',
  'stage (mkfs): mount check',
  'stage (mkfs): probe',
  'stage (mkfs): mkfs',
  'stage (mkfs): mount',
  'stage (mkfs): in stage, untimed',
  'stage (mkfs): around stage',
  'stage (mkfs)',
  'publish (bind)',
  'unstage',
  're-stage (no mkfs)',
] as const;
type Step = (typeof STEPS)[number];
type Sample = Record<Step, number>;

/** Steps whose ratio is a target (the rest is the breakdown). */
const TARGETS: readonly Step[] = [
  'stage (mkfs)',
  're-stage (no mkfs)',
  'publish (bind)',
  'unstage',
];

/**
 * A full collection before each driver round (with --expose-gc, as test/bench/vm.ts runs
 * this file): the driver starts from a collected heap, as an idle node plugin does, instead
 * of paying for the garbage this harness made (tap, the script's output, the other method).
 */
function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

interface Paths {
  readonly staging: string;
  readonly target: string;
}

/** One driver round: stage (mkfs), publish, unpublish, unstage, re-stage, and back. */
async function driverRound(t: Test, ctx: NodeContext, fsType: FsType, p: Paths): Promise<Sample> {
  const vol = {
    volumeId: 'bench',
    stagingPath: p.staging,
    access: { kind: 'mount' as const, fsType, flags: [] },
    context: { nqn: NQN, traddr: '127.0.0.1', trsvcid: 4420, fsType: undefined },
  };
  const pub = {
    volumeId: 'bench',
    stagingPath: p.staging,
    targetPath: p.target,
    access: 'mount' as const,
    readonly: false,
  };
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const s = performance.now();
    const r = await fn();
    return [r, performance.now() - s];
  };
  const [first, stageMs] = await timed(() => stageVolume(ctx, vol));
  t.ok(first.formatted, 'driver formatted the empty device');
  const [, publishMs] = await timed(() => publishVolume(ctx, pub));
  await unpublishVolume(ctx, { volumeId: 'bench', targetPath: p.target });
  const [, unstageMs] = await timed(() => unstageVolume(ctx, vol));
  t.same(controllersOf(NQN), [], 'driver disconnected');
  const [again, restageMs] = await timed(() => stageVolume(ctx, vol));
  t.notOk(again.formatted, 'driver found its filesystem');
  await unstageVolume(ctx, vol);
  const tm = first.timings;
  const phases =
    tm.recordReadMs +
    tm.attachMs +
    tm.recordWriteMs +
    tm.mountCheckMs +
    tm.probeMs +
    tm.formatMs +
    tm.mountMs +
    tm.growMs;
  return {
    'stage (mkfs): record read': tm.recordReadMs,
    'stage (mkfs): connect': tm.connectMs,
    'stage (mkfs): deviceWait': tm.deviceReadyMs,
    'stage (mkfs): attach, rest': tm.attachMs - tm.connectMs - tm.deviceReadyMs,
    'stage (mkfs): record write, mount read, probe': tm.recordWriteMs,
    'stage (mkfs): (probe within it)': tm.earlyProbeMs,
    'stage (mkfs): mount check': tm.mountCheckMs,
    'stage (mkfs): probe': tm.probeMs,
    'stage (mkfs): mkfs': tm.formatMs,
    'stage (mkfs): mount': tm.mountMs,
    'stage (mkfs): in stage, untimed': tm.totalMs - phases,
    'stage (mkfs): around stage': stageMs - tm.totalMs,
    'stage (mkfs)': stageMs,
    'publish (bind)': publishMs,
    unstage: unstageMs,
    're-stage (no mkfs)': restageMs,
  };
}

/** One script round: the same sequence in one sh, stamped with $EPOCHREALTIME (µs). */
function scriptRound(t: Test, env: NodeJS.ProcessEnv, fsType: FsType, p: Paths): Sample {
  const out = execFileSync('sh', ['-c', SCRIPT], {
    encoding: 'utf8',
    env: {
      ...env,
      FS: fsType,
      MOPTS: fsType === 'xfs' ? '-o nouuid' : '',
      DIR: p.staging,
      PUB: p.target,
    },
  });
  const s = out
    .trim()
    .split(/\s+/)
    .map((x) => Number(x) * 1000);
  t.equal(s.length, 14, 'script ran every step');
  const d = (a: number, b: number): number => s[b]! - s[a]!;
  t.same(controllersOf(NQN), [], 'script disconnected');
  // The script has only the five steps it stamps; the driver's other rows are 0 here.
  return {
    'stage (mkfs): record read': 0,
    'stage (mkfs): connect': d(0, 1),
    'stage (mkfs): deviceWait': d(1, 2),
    'stage (mkfs): attach, rest': 0,
    'stage (mkfs): record write, mount read, probe': 0,
    'stage (mkfs): (probe within it)': 0,
    'stage (mkfs): mount check': 0,
    'stage (mkfs): probe': d(2, 3),
    'stage (mkfs): mkfs': d(3, 4),
    'stage (mkfs): mount': d(4, 5),
    'stage (mkfs): in stage, untimed': 0,
    'stage (mkfs): around stage': 0,
    'stage (mkfs)': d(0, 5),
    'publish (bind)': d(6, 7),
    unstage: d(8, 9),
    're-stage (no mkfs)': d(10, 11),
  };
}

t.test('node RPCs: driver vs nvme-cli script', { skip: skip ?? false }, async (t) => {
  t.setTimeout(30 * 60_000);
  const file = path.join(os.tmpdir(), 'node-bench.img');
  const loop = loopDevice(file, 1024);
  createTarget({ nqn: NQN, devicePath: loop, traddr: '127.0.0.1' });
  const kubelet = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-'));
  const paths: Paths = {
    staging: path.join(kubelet, 'plugins/x/globalmount'),
    target: path.join(kubelet, 'pods/p/volumes/x/mount'),
  };
  const scriptPaths: Paths = {
    staging: path.join(kubelet, 'script/staging'),
    target: path.join(kubelet, 'script/target'),
  };
  for (const d of Object.values(scriptPaths)) fs.mkdirSync(d, { recursive: true });
  t.teardown(async () => {
    for (const d of [paths.target, paths.staging, scriptPaths.target, scriptPaths.staging]) {
      try {
        execFileSync('umount', [d], { stdio: 'ignore' });
      } catch {
        // not mounted
      }
    }
    for (const n of controllersOf(NQN)) {
      fs.writeFileSync(`/sys/class/nvme/nvme${n}/delete_controller`, '1');
    }
    removeTarget(NQN);
    execFileSync('losetup', ['-d', loop]);
    fs.rmSync(file, { force: true });
    fs.rmSync(kubelet, { recursive: true, force: true });
  });
  const host = await loadHostIdentity({ nodeId: guestEnv()?.name ?? 'guest' });
  const addon = loadNvmeAddon();
  // The production wiring (src/app.ts): records read through the addon; the tools column
  // keeps fs.promises.readFile, as it keeps child_process.
  const context = (native: boolean): NodeContext =>
    resolveNode({
      nodeId: 'guest',
      kubeletDir: kubelet,
      maxVolumesPerNode: 0,
      fabrics: createNativeFabrics({ addon }),
      mounter: native
        ? createAddonMounter(addon)
        : createLinuxMounter({ run: createProcessRunner() }),
      host,
      ...(native
        ? {
            records: createFileRecordStore(path.join(kubelet, 'state', 'native'), {
              readFile: (f) => addon.readFile(f, { maxBytes: RECORD_MAX_BYTES }),
            }),
          }
        : {}),
    });
  const methods = {
    driver: context(true),
    'driver, spawned tools': context(false),
  };
  const scriptEnv = {
    ...process.env,
    NQN,
    HOSTNQN: host.hostnqn,
    HOSTID: host.hostid,
    MOUNT: utilLinuxMount(),
  };
  const wipe = (): void => {
    const fd = fs.openSync(loop, 'r+');
    fs.writeSync(fd, Buffer.alloc(4 * 2 ** 20), 0, 4 * 2 ** 20, 0);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  };
  const names = [...Object.keys(methods), 'nvme-cli script'];

  for (const fsType of FS_TYPES) {
    const samples = new Map<string, Sample[]>(names.map((n) => [n, []]));
    for (let round = 0; round < ROUNDS + 1; round++) {
      const keep = (name: string, s: Sample): void => {
        if (round > 0) samples.get(name)!.push(s); // round 0 warms caches up
        if (process.env['RDS_BENCH_VERBOSE']) {
          console.log(`# --- ${fsType} round ${round} ${name} done`);
          const row = STEPS.map((k) => `${k.replace('stage (mkfs): ', '')}=${s[k].toFixed(1)}`);
          t.comment(`${fsType} round ${round} ${name}: ${row.join(' ')}`);
        }
      };
      for (const [name, ctx] of Object.entries(methods)) {
        wipe();
        collect();
        // The kernel finishes with the wipe's 4 MiB behind the loop device before the round
        // starts; the script's first stamp comes after sh has started, which hides the same.
        await new Promise((r) => setTimeout(r, 50));
        keep(name, await driverRound(t, ctx, fsType, paths));
      }
      wipe();
      keep('nvme-cli script', scriptRound(t, scriptEnv, fsType, scriptPaths));
    }
    const med = (name: string, step: Step): number =>
      median(samples.get(name)!.map((s) => s[step]));
    const table: string[] = [];
    for (const step of STEPS) {
      const [ours, tools, script] = names.map((n) => med(n, step)) as [number, number, number];
      table.push(
        `${`${fsType} ${step}`.padEnd(32)} driver ${ours.toFixed(1).padStart(7)}  tools ${tools.toFixed(1).padStart(7)}  script ${script.toFixed(1).padStart(7)}  ratio ${(ours / script).toFixed(2)}`,
      );
      for (const [name, v] of [
        ['driver', ours],
        ['driver, spawned tools', tools],
        ['nvme-cli script', script],
      ] as const) {
        console.log(
          benchLine({
            name: `Node ${fsType} 1GiB ${step}: ${name}`,
            value: round1(v),
            unit: 'ms',
            note: `median of ${ROUNDS}`,
          }),
        );
      }
      if (TARGETS.includes(step)) {
        console.log(
          benchLine({
            name: `Node ${fsType} 1GiB ${step}: driver / script`,
            value: Math.round((ours / script) * 100) / 100,
            unit: 'x',
            note: 'target <= 0.70; ratio of the medians',
          }),
        );
        // Each driver round against the script round that ran right after it: the VM's speed
        // drifts between rounds under TCG, and a pair shares its moment.
        const drv = samples.get('driver')!;
        const scr = samples.get('nvme-cli script')!;
        const paired = median(drv.map((d, i) => d[step] / scr[i]![step]));
        console.log(
          benchLine({
            name: `Node ${fsType} 1GiB ${step}: driver / script, paired`,
            value: Math.round(paired * 100) / 100,
            unit: 'x',
            note: 'target <= 0.70; median of per-round ratios',
          }),
        );
      }
    }
    t.comment(`Node RPCs, ${fsType} 1 GiB, medians of ${ROUNDS} rounds (ms):\n${table.join('\n')}`);
  }

  // A staging record read both ways (present and missing), alternating.
  const recFile = path.join(kubelet, 'record.json');
  fs.writeFileSync(
    recFile,
    JSON.stringify({ version: 1, volumeId: 'x'.repeat(40), pad: 'y'.repeat(600) }),
  );
  const missing = path.join(kubelet, 'no-record.json');
  const readers = [
    (f: string) => fs.promises.readFile(f, 'utf8').catch(() => null),
    (f: string) => addon.readFile(f, { maxBytes: RECORD_MAX_BYTES }),
  ] as const;
  const readTimes: [number[], number[]] = [[], []];
  for (let i = 0; i < 3 * ROUNDS; i++) {
    for (const k of [0, 1] as const) {
      const s0 = performance.now();
      await readers[k](i % 2 === 0 ? recFile : missing);
      readTimes[k].push(performance.now() - s0);
    }
  }
  for (const [k, label] of [
    [0, 'fs.promises.readFile'],
    [1, 'addon readFile'],
  ] as const) {
    console.log(
      benchLine({
        name: `read a staging record: ${label}`,
        value: round1(median(readTimes[k])),
        unit: 'ms',
        note: `median of ${3 * ROUNDS}, present and missing alternating`,
      }),
    );
  }

  // Where a spawned tool's cost comes from: starting a process from this (large) process vs from sh.
  // Alternating, so both starters see the same load.
  const starters = [createProcessRunner(), createNativeRunner(addon)] as const;
  const spawnTimes: [number[], number[]] = [[], []];
  for (let i = 0; i < 3 * ROUNDS; i++) {
    for (const k of [0, 1] as const) {
      const s0 = performance.now();
      await starters[k](['true'], { timeoutMs: 60_000 });
      spawnTimes[k].push(performance.now() - s0);
    }
  }
  const fromNode = median(spawnTimes[0]);
  const fromAddon = median(spawnTimes[1]);
  const shLoop = execFileSync(
    'sh',
    [
      '-c',
      `a=$EPOCHREALTIME; for i in $(seq ${ROUNDS}); do /bin/true; done; echo "$a $EPOCHREALTIME"`,
    ],
    { encoding: 'utf8' },
  );
  const [la, lb] = shLoop.trim().split(/\s+/).map(Number);
  console.log(
    benchLine({
      name: 'spawn a tool: from node (child_process)',
      value: round1(fromNode),
      unit: 'ms',
      note: `median of ${3 * ROUNDS}, alternating`,
    }),
  );
  console.log(
    benchLine({
      name: 'spawn a tool: from node (addon posix_spawn)',
      value: round1(fromAddon),
      unit: 'ms',
      note: `median of ${3 * ROUNDS}, alternating`,
    }),
  );
  console.log(
    benchLine({
      name: 'spawn a tool: from sh',
      value: round1((((lb ?? 0) - (la ?? 0)) * 1000) / ROUNDS),
      unit: 'ms',
      note: `mean of ${ROUNDS}`,
    }),
  );
});
