/**
 * RouterOS control plane: command latency over the persistent connection vs a new SSH
 * connection per command (same simulator, same run, ratio printed), and parse time for
 * 10,000 disks in each output form.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ssh2';
import { nullLogger } from '../../src/observability/logger';
import { createRouterOsPorts } from '../../src/routeros';
import { parseDisks } from '../../src/routeros/parse';
import { startSim, type RunningSim } from '../../src/sim';
import { generateSshKeyPair } from '../../src/sim/keys';
import { genDisk, renderDetail, renderJson, renderTerse, rng } from '../unit/routeros/render';
import type { BenchRow } from './types';
import { summarize } from './types';

const PERSISTENT = 300;
const PER_CONNECTION = 60;
const DISKS = 10_000;

const ms = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/** The earlier driver's style: connect, authenticate, run one command, disconnect. */
function oneShot(sim: RunningSim, privateKey: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on('error', reject);
    c.on('ready', () => {
      c.exec('/system identity print', (err, ch) => {
        if (err) {
          c.end();
          reject(err);
          return;
        }
        ch.resume();
        ch.on('close', () => {
          c.end();
          resolve();
        });
      });
    });
    c.connect({ host: sim.host, port: sim.port, username: 'admin+ct4096w', privateKey });
  });
}

async function latency(): Promise<BenchRow[]> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'rds-csi-bench-ros-'));
  const pair = generateSshKeyPair();
  const sim = await startSim({ authorizedKeys: [pair.public], stateDir: dir });
  const ros = createRouterOsPorts(
    {
      host: sim.host,
      port: sim.port,
      user: 'admin',
      privateKey: pair.private,
      hostKeyFingerprint: sim.hostKeyFingerprint,
      poolBasePath: 'storage-pool/k8s',
    },
    { logger: nullLogger() },
  );
  try {
    await ros.health.ping();
    const persistent: number[] = [];
    for (let i = 0; i < PERSISTENT; i++) {
      const s = process.hrtime.bigint();
      await ros.health.ping();
      persistent.push(ms(s));
    }
    const fresh: number[] = [];
    for (let i = 0; i < PER_CONNECTION; i++) {
      const s = process.hrtime.bigint();
      await oneShot(sim, pair.private);
      fresh.push(ms(s));
    }
    const p = summarize(persistent);
    const f = summarize(fresh);
    return [
      {
        name: 'command p50, persistent connection',
        value: p.p50,
        unit: 'ms',
        note: `n=${PERSISTENT}`,
      },
      { name: 'command p99, persistent connection', value: p.p99, unit: 'ms' },
      {
        name: 'command p50, new connection each',
        value: f.p50,
        unit: 'ms',
        note: `n=${PER_CONNECTION}`,
      },
      { name: 'command p99, new connection each', value: f.p99, unit: 'ms' },
      {
        name: 'command p50 ratio new/persistent',
        value: f.p50 / p.p50,
        unit: 'x',
        note: 'same simulator, same run',
      },
    ];
  } finally {
    await ros.close();
    await sim.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function parsing(): BenchRow[] {
  const r = rng(1);
  const disks = Array.from({ length: DISKS }, () => genDisk(r));
  const rows: BenchRow[] = [];
  for (const [form, text] of [
    ['detail', renderDetail(disks, 80)],
    ['terse', renderTerse(disks)],
    ['json', renderJson(disks)],
  ] as const) {
    parseDisks(text, form); // warm-up
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = process.hrtime.bigint();
      const got = parseDisks(text, form);
      runs.push(ms(s));
      if (got.length !== DISKS) throw new Error(`${form}: parsed ${got.length} of ${DISKS}`);
    }
    rows.push({
      name: `parse ${DISKS} disks (${form})`,
      value: summarize(runs).p50,
      unit: 'ms',
      note: `${(text.length / 1e6).toFixed(1)} MB, median of 5`,
    });
  }
  return rows;
}

export async function run(): Promise<BenchRow[]> {
  return [...(await latency()), ...parsing()];
}
