import t from 'tap';
import { startHealthServer } from '../../../src/observability/http';
import { createMetrics } from '../../../src/observability/metrics';
import { nullLogger } from '../../../src/observability/logger';

t.test('/metrics, /healthz and /readyz', async (t) => {
  let ready = true;
  const metrics = createMetrics({ version: '1.2.3', commit: 'abc', processMetrics: false });
  metrics.rpcDuration.observe({ method: 'Probe', code: 'OK' }, 0.002);
  const server = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    registry: metrics.registry,
    readiness: () =>
      Promise.resolve(
        ready ? { ready: true } : { ready: false, reason: 'rds: connection refused' },
      ),
    logger: nullLogger(),
  });
  t.teardown(() => server.stop());

  const text = await fetch(`${server.url}/metrics`);
  t.equal(text.status, 200);
  t.match(text.headers.get('content-type'), /^text\/plain/);
  const body = await text.text();
  t.match(body, 'rds_csi_build_info{version="1.2.3",commit="abc"} 1');
  t.match(body, 'rds_csi_csi_rpc_duration_seconds_count{method="Probe",code="OK"} 1');
  t.match(
    body,
    'rds_csi_volume_operations_total{operation="stage",status="failure"} 0',
    'counters exist from start',
  );
  t.match(body, 'rds_csi_migration_migrations_total{result="timeout"} 0');

  const om = await fetch(`${server.url}/metrics`, {
    headers: { accept: 'application/openmetrics-text; version=1.0.0' },
  });
  t.match(om.headers.get('content-type'), /application\/openmetrics-text/);
  t.match(await om.text(), /# EOF\s*$/);

  t.equal((await fetch(`${server.url}/healthz`)).status, 200);
  t.equal((await fetch(`${server.url}/readyz`)).status, 200);
  ready = false;
  const notReady = await fetch(`${server.url}/readyz`);
  t.equal(notReady.status, 503);
  t.match(await notReady.text(), /connection refused/);
  t.equal((await fetch(`${server.url}/nope`)).status, 404);
  t.equal((await fetch(`${server.url}/metrics`, { method: 'POST' })).status, 405);
});
