/**
 * Controller RPC latency against rds-sim over loopback, through the real gRPC server and
 * SSH adapters: CreateVolume / DeleteVolume p50 and p99 (sequential), and the wall time of
 * a 100-PVC CreateVolume burst, each with 0 ms and 50 ms of injected per-command latency.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controllerHandlers } from '../../src/csi/controller';
import { RpcWrapper } from '../../src/csi/handler';
import { KeyedLocks } from '../../src/csi/locks';
import { loadCsi } from '../../src/csi/proto/load';
import { CsiServer } from '../../src/csi/server';
import { SimpleAttachments } from '../fakes/simple-attachments';
import { MiB } from '../../src/domain/sizes';
import { nullLogger } from '../../src/observability/logger';
import { createRouterOsPorts } from '../../src/routeros';
import { startSim } from '../../src/sim';
import { generateSshKeyPair } from '../../src/sim/keys';
import { csiClient, type Call } from '../helpers/csi';
import { CONFIG, createReq, pvcName } from '../unit/controller/harness';
import type { BenchRow } from './types';
import { summarize } from './types';

const SEQUENTIAL = 30;
const BURST = 100;

interface Rig {
  readonly c: Call;
  addLatency(ms: number): void;
  close(): Promise<void>;
}

async function startRig(): Promise<Rig> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'rds-csi-bench-ctl-'));
  const pair = generateSshKeyPair();
  const sim = await startSim({ authorizedKeys: [pair.public], stateDir: join(dir, 'sim') });
  const ros = createRouterOsPorts(
    {
      host: sim.host,
      port: sim.port,
      user: 'admin',
      privateKey: pair.private,
      hostKeyFingerprint: sim.hostKeyFingerprint,
      poolBasePath: CONFIG.poolBasePath,
    },
    { logger: nullLogger() },
  );
  const server = new CsiServer({
    endpoint: { kind: 'unix', path: join(dir, 'csi.sock') },
    logger: nullLogger(),
  });
  const rpc = new RpcWrapper({ logger: nullLogger(), locks: new KeyedLocks() });
  server.addService(
    loadCsi().grpcType.csi.v1.Controller.service,
    controllerHandlers(rpc, {
      volumes: ros.volumes,
      files: ros.files,
      capacity: ros.capacity,
      attachments: new SimpleAttachments(),
      config: { ...CONFIG, minVolumeBytes: MiB },
      now: () => Date.now(),
      logger: nullLogger(),
    }),
  );
  const client = csiClient(await server.start());
  return {
    c: client.controller,
    addLatency: (ms) => {
      sim.faults.clear();
      if (ms > 0) sim.faults.add({ latencyMs: ms });
    },
    close: async () => {
      client.close();
      await server.stop();
      await ros.close();
      await sim.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

async function measure(rig: Rig, latencyMs: number, offset: number): Promise<BenchRow[]> {
  rig.addLatency(latencyMs);
  const { c } = rig;
  const creates: number[] = [];
  const deletes: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i += 1) {
    const name = pvcName(offset + i);
    creates.push(await timed(() => c('CreateVolume', createReq(name))));
    deletes.push(await timed(() => c('DeleteVolume', { volume_id: name })));
  }
  const names = Array.from({ length: BURST }, (_, i) => pvcName(offset + 1000 + i));
  const burstMs = await timed(() =>
    Promise.all(names.map((n) => c('CreateVolume', createReq(n), { deadlineMs: 600_000 }))),
  );
  for (const n of names) await c('DeleteVolume', { volume_id: n }, { deadlineMs: 600_000 });
  const cr = summarize(creates);
  const de = summarize(deletes);
  const tag = `${latencyMs}ms latency`;
  const note = `${SEQUENTIAL} sequential calls`;
  return [
    { name: `CreateVolume p50 (${tag})`, value: cr.p50, unit: 'ms', note },
    { name: `CreateVolume p99 (${tag})`, value: cr.p99, unit: 'ms', note },
    { name: `DeleteVolume p50 (${tag})`, value: de.p50, unit: 'ms', note },
    { name: `DeleteVolume p99 (${tag})`, value: de.p99, unit: 'ms', note },
    {
      name: `${BURST}-PVC burst (${tag})`,
      value: burstMs,
      unit: 'ms',
      note: `${BURST} concurrent CreateVolume, wall time`,
    },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const rig = await startRig();
  try {
    const fast = await measure(rig, 0, 0);
    const slow = await measure(rig, 50, 10_000);
    const burst = (rows: BenchRow[]): number => rows[rows.length - 1]?.value ?? NaN;
    return [
      ...fast,
      ...slow,
      {
        name: 'burst slowdown 50ms/0ms',
        value: burst(slow) / burst(fast),
        unit: 'x',
        note: 'the SSH channel cap (4) bounds concurrency',
      },
    ];
  } finally {
    await rig.close();
  }
}
