/**
 * /metrics stays fast while the driver is busy: scrape latency with 20 CSI calls in flight
 * (each CreateVolume waiting on a slow RDS: 300 ms injected per command, 4 SSH channels),
 * against the same scrape on an idle driver, in one run.
 */
import { Registry } from 'prom-client';
import { createAttachmentManager } from '../../src/controller/attachments';
import { controllerHandlers } from '../../src/csi/controller';
import { RpcWrapper } from '../../src/csi/handler';
import { KeyedLocks } from '../../src/csi/locks';
import { loadCsi } from '../../src/csi/proto/load';
import { CsiServer } from '../../src/csi/server';
import { startHealthServer } from '../../src/observability/http';
import { nullLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { createRouterOsPorts, routerOsMetrics } from '../../src/routeros';
import { startSim } from '../../src/sim';
import { generateSshKeyPair } from '../../src/sim/keys';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csiClient } from '../helpers/csi';
import type { BenchRow } from './types';
import { summarize } from './types';

async function scrapeTimes(url: string, n: number, gapMs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/metrics`);
    await res.text();
    out.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return out;
}

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'rds-bench-scrape-'));
  const key = generateSshKeyPair();
  const sim = await startSim({ authorizedKeys: [key.public], stateDir: join(dir, 'sim') });
  const metrics = createMetrics({ registry: new Registry(), version: 'bench', commit: 'bench' });
  const rds = createRouterOsPorts(
    {
      host: sim.host,
      port: sim.port,
      user: 'admin',
      privateKey: key.private,
      hostKeyFingerprint: sim.hostKeyFingerprint,
      poolBasePath: 'storage-pool/k8s',
    },
    { logger: nullLogger(), metrics: routerOsMetrics(metrics) },
  );
  const attachments = createAttachmentManager({
    driverName: 'bench',
    exports: rds.exports,
    logger: nullLogger(),
    metrics,
  });
  await attachments.start();
  const rpc = new RpcWrapper({
    logger: nullLogger(),
    locks: new KeyedLocks(),
    rpcDuration: metrics.rpcDuration,
  });
  const server = new CsiServer({
    endpoint: { kind: 'unix', path: join(dir, 'csi.sock') },
    logger: nullLogger(),
  });
  server.addService(
    loadCsi().grpcType.csi.v1.Controller.service,
    controllerHandlers(rpc, {
      volumes: rds.volumes,
      files: rds.files,
      capacity: rds.capacity,
      attachments: attachments.manager,
      config: {
        driverName: 'bench',
        poolBasePath: 'storage-pool/k8s',
        nvmeAddress: '127.0.0.1',
        nvmePort: 4420,
        topologyValue: 'default',
        minVolumeBytes: 1024 ** 3,
      },
      now: () => Date.now(),
      logger: nullLogger(),
    }),
  );
  const address = await server.start();
  const health = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    registry: metrics.registry,
    readiness: () => Promise.resolve({ ready: true }),
    logger: nullLogger(),
  });
  const client = csiClient(address);
  try {
    await rds.health.ping();
    const idle = await scrapeTimes(health.url, 30, 10);
    sim.faults.add({ latencyMs: 300 });
    const cap = { mount: { fs_type: 'ext4' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } };
    let inFlight = 0;
    let maxInFlight = 0;
    const calls = Array.from({ length: 20 }, (_, i) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return client
        .controller(
          'CreateVolume',
          {
            name: `pvc-${(i + 1).toString(16).padStart(8, '0')}-5c4a-4e1f-8a55-0a1b2c3d4e5f`,
            capacity_range: { required_bytes: String(1024 ** 3) },
            volume_capabilities: [cap],
          },
          { deadlineMs: 120_000 },
        )
        .finally(() => inFlight--);
    });
    await new Promise((r) => setTimeout(r, 200));
    const busy = await scrapeTimes(health.url, 30, 20);
    const stillBusy = inFlight;
    await Promise.allSettled(calls);
    const i = summarize(idle);
    const b = summarize(busy);
    return [
      { name: 'scrape /metrics, idle: p50', value: i.p50, unit: 'ms' },
      {
        name: 'scrape /metrics, 20 CSI calls in flight: p50',
        value: b.p50,
        unit: 'ms',
        note: `${maxInFlight} calls started, ${stillBusy} still running after the scrapes`,
      },
      {
        name: 'scrape /metrics, 20 CSI calls in flight: p99',
        value: b.p99,
        unit: 'ms',
        note: 'target: under 100 ms',
      },
      { name: 'scrape slowdown busy/idle (p50)', value: b.p50 / i.p50, unit: 'x' },
    ];
  } finally {
    sim.faults.clear();
    client.close();
    await health.stop();
    await server.stop();
    await attachments.stop();
    await rds.close();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
