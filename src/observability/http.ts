/**
 * The metrics and health HTTP server: /metrics (Prometheus text, or OpenMetrics when the
 * scraper asks for it), /healthz (the process is up) and /readyz (what CSI Probe reports).
 * Scrapes only read in-memory metrics: nothing here ever talks to the RDS.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { OpenMetricsContentType } from 'prom-client';
import type { Logger } from './logger';

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly readiness: () => Promise<{ ready: boolean; reason?: string }>;
  readonly logger: Logger;
}

export interface RunningHealthServer {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startHealthServer(opts: HealthServerOptions): Promise<RunningHealthServer> {
  const openMetrics = new Registry<OpenMetricsContentType>();
  openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  for (const { name } of opts.registry.getMetricsAsArray()) {
    const metric = opts.registry.getSingleMetric(name);
    if (metric) openMetrics.registerMetric(metric);
  }

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      opts.logger.error('health server request failed', { err, path: req.url });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      const om = /application\/openmetrics-text/.test(req.headers.accept ?? '');
      const body = om ? await openMetrics.metrics() : await opts.registry.metrics();
      const type = om ? openMetrics.contentType : opts.registry.contentType;
      res.writeHead(200, { 'content-type': type }).end(body);
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const r = await opts
        .readiness()
        .catch((err: unknown) => ({ ready: false, reason: String(err) }));
      res
        .writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(r.ready ? 'ready\n' : `not ready: ${r.reason ?? 'unknown'}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  }

  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  opts.logger.info('metrics and health server listening', { url });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
