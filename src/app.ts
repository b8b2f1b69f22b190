/**
 * Composition root: the only place that constructs real adapters and wires them into the
 * CSI services. Startup order is the reverse of shutdown order; stop() runs the closers
 * in the order STYLE.md fixes: gRPC first, then background loops, then the RDS session,
 * then the HTTP server and the embedded simulator.
 */
import type { Config } from './config';
import { RpcWrapper } from './csi/handler';
import { identityHandlers, type Readiness } from './csi/identity';
import { KeyedLocks } from './csi/locks';
import { loadCsi } from './csi/proto/load';
import { CsiServer } from './csi/server';
import { startHealthServer } from './observability/http';
import type { Logger } from './observability/logger';
import { createMetrics, type Metrics } from './observability/metrics';
import { buildInfo } from './paths';

export interface RunningApp {
  readonly endpoint: string;
  readonly metricsUrl: string | undefined;
  readonly metrics: Metrics;
  stop(): Promise<void>;
}

type Closer = { readonly name: string; close(): Promise<void> };
type ReadinessCheck = { readonly name: string; check(): Promise<Readiness> };

export async function startApp(config: Config, logger: Logger): Promise<RunningApp> {
  const build = buildInfo();
  const metrics = createMetrics({ version: build.version, commit: build.commit });
  const closers: Closer[] = [];
  const checks: ReadinessCheck[] = [];
  const readiness = async (): Promise<Readiness> => {
    for (const c of checks) {
      const r = await c.check();
      if (!r.ready) return { ready: false, reason: `${c.name}: ${r.reason ?? 'not ready'}` };
    }
    return { ready: true };
  };

  try {
    const rpc = new RpcWrapper({
      logger,
      locks: new KeyedLocks(),
      rpcDuration: metrics.rpcDuration,
    });
    const { grpcType } = loadCsi();
    const server = new CsiServer({ endpoint: config.endpoint, logger });
    server.addService(
      grpcType.csi.v1.Identity.service,
      identityHandlers(rpc, {
        driverName: config.driverName,
        version: build.version,
        commit: build.commit,
        controller: config.mode !== 'node',
        readiness,
      }),
    );
    const endpoint = await server.start();
    closers.unshift({ name: 'csi server', close: () => server.stop() });

    let metricsUrl: string | undefined;
    if (config.metricsAddress) {
      const health = await startHealthServer({
        ...config.metricsAddress,
        registry: metrics.registry,
        readiness,
        logger,
      });
      metricsUrl = health.url;
      closers.push({ name: 'health server', close: () => health.stop() });
    }
    logger.info('rds-csi started', {
      mode: config.mode,
      driver: config.driverName,
      version: build.version,
      endpoint,
      metrics: metricsUrl,
    });
    return { endpoint, metricsUrl, metrics, stop: () => closeAll(closers, logger) };
  } catch (err) {
    await closeAll(closers, logger);
    throw err;
  }
}

async function closeAll(closers: readonly Closer[], logger: Logger): Promise<void> {
  for (const c of closers) {
    try {
      await c.close();
    } catch (err) {
      logger.error('shutdown step failed', { step: c.name, err });
    }
  }
}
