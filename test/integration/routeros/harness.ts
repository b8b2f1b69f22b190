/**
 * Shared setup for integration tests: a simulator on loopback with a fresh key pair, and
 * the real SSH adapter pointed at it. Everything is torn down with the test.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Test } from 'tap';
import {
  type RouterOsMetrics,
  createRouterOsPorts,
  type RouterOsAdapter,
  type RouterOsConfig,
} from '../../../src/routeros';
import { nullLogger, type Logger } from '../../../src/observability/logger';
import { startSim, type RunningSim, type SimOptions } from '../../../src/sim';
import { generateSshKeyPair } from '../../../src/sim/keys';

export interface Harness {
  readonly sim: RunningSim;
  readonly ros: RouterOsAdapter;
  readonly privateKey: string;
  /** Build another adapter against the same simulator (torn down with the test). */
  connect(over?: Partial<RouterOsConfig>): RouterOsAdapter;
  /** Commands the simulator has received since `mark()` was last called. */
  commandsSinceMark(): string[];
  mark(): void;
}

export const BASE = 'storage-pool/k8s';

export async function harness(
  t: Test,
  opts: {
    sim?: Partial<SimOptions>;
    ros?: Partial<RouterOsConfig>;
    keyType?: 'ed25519' | 'rsa';
    logger?: Logger;
    metrics?: RouterOsMetrics;
  } = {},
): Promise<Harness> {
  const pair = generateSshKeyPair(opts.keyType);
  // The simulator generates its (parse-checked) host key in this dir on start.
  const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ros-it-'));
  const sim = await startSim({ authorizedKeys: [pair.public], stateDir, ...opts.sim });
  const adapters: RouterOsAdapter[] = [];
  t.teardown(async () => {
    for (const a of adapters) await a.close();
    await sim.stop();
    await fs.rm(stateDir, { recursive: true, force: true });
  });
  const connect = (over: Partial<RouterOsConfig> = {}): RouterOsAdapter => {
    const a = createRouterOsPorts(
      {
        host: sim.host,
        port: sim.port,
        user: 'admin',
        privateKey: pair.private,
        hostKeyFingerprint: sim.hostKeyFingerprint,
        poolBasePath: BASE,
        commandTimeoutMs: 10_000,
        connectTimeoutMs: 10_000,
        reconnectBaseMs: 50,
        reconnectMaxMs: 500,
        ...opts.ros,
        ...over,
      },
      {
        logger: opts.logger ?? nullLogger(),
        ...(opts.metrics === undefined ? {} : { metrics: opts.metrics }),
      },
    );
    adapters.push(a);
    return a;
  };
  const ros = connect();
  let marked = 0;
  return {
    sim,
    ros,
    privateKey: pair.private,
    connect,
    mark: () => {
      marked = sim.commandLog.length;
    },
    commandsSinceMark: () => sim.commandLog.slice(marked).map((e) => e.command),
  };
}

export function volumeSpec(slot: string, sizeBytes = 1024 ** 2) {
  return {
    slot,
    filePath: `${BASE}/${slot}.img`,
    sizeBytes,
    nqn: `nqn.2000-02.com.mikrotik:${slot}`,
    port: 4420,
  };
}
