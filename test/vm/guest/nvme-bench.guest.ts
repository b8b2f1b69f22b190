// Runs inside a test VM as root: NVMe/TCP attach (connect → device ready) and detach
// latency, side by side in one run, for the driver's native path (rds_nvme addon behind the
// Fabrics port), nvme-cli (spawned, as other drivers do), and a minimal C program doing the
// raw write (the floor; build it on the host first: node dist/test/bench/native/build-raw-connect.js).
// Methods alternate within each round, and each round starts with the next method, so
// load changes and what the previous method left behind hit all of them alike. Prints a table
// and ratios; asserts only that every operation worked, never a time.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { loadHostIdentity } from '../../../src/nvme/hostid';
import { loadNvmeAddon } from '../../../src/nvme/native';
import { createNativeFabrics } from '../../../src/nvme/fabrics';
import { createNvmeCliFabrics } from '../../../src/nvme/nvmecli';
import { type Logger, createLogger } from '../../../src/observability/logger';
import { buildConnectOptions } from '../../../src/nvme/options';
import type { AttachTarget, Fabrics } from '../../../src/nvme/ports';
import { benchLine } from '../protocol';
import { guestEnv } from './env';
import { createTarget, loopDevice, removeTarget, nvmeSkipReason } from './nvmet';

const NQN = 'nqn.2000-02.com.mikrotik:bench';
const WARMUP = 3;
const RUNS = 30;

const skip = nvmeSkipReason();
if (skip !== null) console.log(`# nvme-bench guest test skipped: ${skip}`);

/**
 * Milliseconds: the whole attach, its connect part (the write, or the spawn), and where
 * the method can tell, finer parts (printed as breakdown rows).
 */
interface AttachSample {
  readonly total: number;
  readonly connect: number;
  readonly parts?: Readonly<Record<string, number>>;
}

interface DetachSample {
  readonly total: number;
  readonly parts?: Readonly<Record<string, number>>;
}

interface Method {
  readonly name: string;
  attach(): Promise<AttachSample>;
  detach(): Promise<DetachSample>;
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The node plugin's logger (info level), writing nowhere: what logging costs an attach. */
function productionLogger(): Logger {
  return createLogger({ level: 'info', sink: { write: () => true } });
}

function fabricsMethod(name: string, fabrics: Fabrics, target: AttachTarget): Method {
  return {
    name,
    async attach() {
      const t0 = process.hrtime.bigint();
      const res = await fabrics.attach(target, { deadlineMs: 120_000 });
      const total = ms(t0);
      if (res.reused)
        throw new Error(`${name}: attach reused a controller (previous detach failed)`);
      const { connectMs, deviceReadyMs, connectParts } = res.timings;
      const cp = connectParts;
      return {
        total,
        connect: connectMs,
        parts: {
          ...(cp
            ? {
                'connect: queue': cp.queueMs,
                'connect: kernel': cp.kernelMs,
                'connect: lookup': cp.lookupMs,
                'connect: resume': cp.resumeMs,
              }
            : {}),
          'device wait': deviceReadyMs,
          other: total - connectMs - deviceReadyMs,
        },
      };
    },
    async detach() {
      const t0 = process.hrtime.bigint();
      const res = await fabrics.detach(NQN);
      const total = ms(t0);
      if (res.disconnected !== 1)
        throw new Error(`${name}: detach disconnected ${res.disconnected}`);
      const parts = res.timings;
      if (parts === undefined) return { total };
      const known = Object.values(parts).reduce((a, b) => a + b, 0);
      return { total, parts: { ...parts, other: total - known } };
    },
  };
}

/** The node plugin's shape for the raw method: memory touched (MiB) and idle threads. */
const NODE_SHAPE = { mib: 64, threads: 10 } as const;

function rawMethod(binary: string, options: string, shaped = false): Method {
  let instance = -1;
  const shape = shaped ? [String(NODE_SHAPE.mib), String(NODE_SHAPE.threads)] : [];
  return {
    name: shaped ? 'raw C, node-shaped' : 'raw C write (floor)',
    attach() {
      const out = JSON.parse(
        execFileSync(binary, ['connect', options, NQN, ...shape], { encoding: 'utf8' }),
      ) as {
        instance: number;
        connectMs: number;
        readyMs: number;
      };
      instance = out.instance;
      return Promise.resolve({
        total: out.readyMs,
        connect: out.connectMs,
        parts: { 'device wait': out.readyMs - out.connectMs },
      });
    },
    detach() {
      const out = JSON.parse(
        execFileSync(binary, ['disconnect', String(instance)], { encoding: 'utf8' }),
      ) as {
        disconnectMs: number;
      };
      return Promise.resolve({ total: out.disconnectMs });
    },
  };
}

function stats(samples: number[]): { p50: number; p90: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
  return { p50: at(0.5), p90: at(0.9) };
}

t.test(
  'attach/detach latency: addon vs nvme-cli vs raw write',
  { skip: skip ?? false },
  async (t) => {
    const env = guestEnv();
    const host = await loadHostIdentity({ nodeId: env?.name ?? 'guest' });
    const loop = loopDevice('/tmp/bench.img', 32);
    createTarget({ nqn: NQN, devicePath: loop, traddr: '127.0.0.1' });
    t.teardown(() => {
      for (const c of fs.existsSync('/sys/class/nvme') ? fs.readdirSync('/sys/class/nvme') : []) {
        if (fs.readFileSync(`/sys/class/nvme/${c}/subsysnqn`, 'utf8').trim() === NQN) {
          fs.writeFileSync(`/sys/class/nvme/${c}/delete_controller`, '1');
        }
      }
      removeTarget(NQN);
      execFileSync('losetup', ['-d', loop]);
    });
    const target: AttachTarget = {
      nqn: NQN,
      traddr: '127.0.0.1',
      trsvcid: 4420,
      hostnqn: host.hostnqn,
      hostid: host.hostid,
    };
    const addon = loadNvmeAddon();
    const methods: Method[] = [
      fabricsMethod(
        'addon (Fabrics port)',
        createNativeFabrics({ addon, logger: productionLogger() }),
        target,
      ),
      fabricsMethod('nvme-cli (spawned)', createNvmeCliFabrics({ addon }), target),
    ];
    const raw = path.resolve(__dirname, '../../../../build/bench/raw-connect');
    if (fs.existsSync(raw)) {
      const options = buildConnectOptions({ ...target, traddr: '127.0.0.1' });
      methods.push(rawMethod(raw, options));
      // The floor again from a process of the plugin's shape (64 MiB touched, 10 idle
      // threads, the write on another thread): what the shape costs the kernel's connect.
      methods.push(rawMethod(raw, options, true));
    } else {
      console.log(
        `# raw C method skipped: ${raw} not built (node dist/test/bench/native/build-raw-connect.js on the host)`,
      );
    }

    const samples = new Map(
      methods.map((m) => [
        m.name,
        {
          attach: [] as number[],
          connect: [] as number[],
          detach: [] as number[],
          parts: new Map<string, number[]>(),
        },
      ]),
    );
    const addParts = (
      into: Map<string, number[]>,
      what: string,
      parts?: Record<string, number>,
    ) => {
      for (const [k, v] of Object.entries(parts ?? {})) {
        const key = `${what} ${k}`;
        into.set(key, [...(into.get(key) ?? []), v]);
      }
    };
    for (let round = 0; round < WARMUP + RUNS; round++) {
      // Each round starts with the next method: an attach right after another method's
      // detach meets the kernel's deferred teardown of that controller, and a spawned
      // method starts later than an in-process one, so a fixed order favours some methods.
      const order = methods.map((_, i) => methods[(i + round) % methods.length]!);
      for (const m of order) {
        const a = await m.attach();
        const d = await m.detach();
        const s = samples.get(m.name);
        if (round >= WARMUP && s !== undefined) {
          s.attach.push(a.total);
          s.connect.push(a.connect);
          s.detach.push(d.total);
          addParts(s.parts, 'attach', { connect: a.connect, ...a.parts });
          addParts(s.parts, 'detach', d.parts);
        }
      }
    }

    const rows = methods.map((m) => {
      const s = samples.get(m.name)!;
      return {
        name: m.name,
        attach: stats(s.attach),
        connect: stats(s.connect),
        detach: stats(s.detach),
        parts: [...s.parts].map(([k, v]) => [k, stats(v).p50] as const),
        n: s.attach.length,
      };
    });
    const lines = [
      `NVMe/TCP attach (connect → /dev node) and detach, ms, ${RUNS} runs after ${WARMUP} warm-up rounds`,
      `${'method'.padEnd(24)} ${'attach p50'.padStart(11)} ${'attach p90'.padStart(11)} ${'(connect p50)'.padStart(14)} ${'detach p50'.padStart(11)} ${'detach p90'.padStart(11)}`,
      ...rows.map(
        (r) =>
          `${r.name.padEnd(24)} ${r.attach.p50.toFixed(1).padStart(11)} ${r.attach.p90.toFixed(1).padStart(11)} ${r.connect.p50.toFixed(1).padStart(14)} ${r.detach.p50.toFixed(1).padStart(11)} ${r.detach.p90.toFixed(1).padStart(11)}`,
      ),
    ];
    const [native, cli, floor, shaped] = rows;
    const ratio = (a: number | undefined, b: number | undefined) =>
      a !== undefined && b !== undefined ? (a / b).toFixed(2) : 'n/a';
    lines.push(
      `ratio addon/nvme-cli: attach ${ratio(native?.attach.p50, cli?.attach.p50)}x, detach ${ratio(native?.detach.p50, cli?.detach.p50)}x (p50)`,
    );
    if (floor !== undefined) {
      lines.push(
        `ratio addon/raw floor: attach ${ratio(native?.attach.p50, floor.attach.p50)}x, detach ${ratio(native?.detach.p50, floor.detach.p50)}x (p50)`,
      );
    }
    lines.push('breakdown, p50 of each part (ms):');
    for (const r of rows) {
      lines.push(`  ${r.name}: ${r.parts.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    }
    for (const l of lines) console.log(`# ${l}`);
    // rows for `npm run bench` (test/bench/vm.ts collects @@BENCH lines)
    for (const r of rows) {
      for (const [what, st] of [
        ['attach', r.attach],
        ['detach', r.detach],
      ] as const) {
        console.log(benchLine({ name: `nvme ${what} p50: ${r.name}`, value: st.p50, unit: 'ms' }));
        console.log(benchLine({ name: `nvme ${what} p90: ${r.name}`, value: st.p90, unit: 'ms' }));
      }
      for (const [part, p50] of r.parts) {
        console.log(benchLine({ name: `nvme ${part} p50: ${r.name}`, value: p50, unit: 'ms' }));
      }
    }
    const rowRatio = (name: string, a: number | undefined, b: number | undefined) => {
      if (a !== undefined && b !== undefined)
        console.log(benchLine({ name, value: a / b, unit: 'x' }));
    };
    rowRatio('nvme attach p50 addon/nvme-cli', native?.attach.p50, cli?.attach.p50);
    rowRatio('nvme detach p50 addon/nvme-cli', native?.detach.p50, cli?.detach.p50);
    rowRatio('nvme attach p50 addon/raw', native?.attach.p50, floor?.attach.p50);
    rowRatio('nvme detach p50 addon/raw', native?.detach.p50, floor?.detach.p50);
    rowRatio('nvme attach p50 addon/raw node-shaped', native?.attach.p50, shaped?.attach.p50);
    for (const r of rows) t.equal(r.n, RUNS, `${r.name}: ${RUNS} measured runs`);
  },
);
