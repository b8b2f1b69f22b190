/**
 * Session behaviour that needs no simulator: unusable keys, nothing listening, close().
 */
import * as net from 'node:net';
import t from 'tap';
import { UnavailableError } from '../../../src/domain/errors';
import { nullLogger } from '../../../src/observability/logger';
import { createRouterOsPorts, type RouterOsConfig } from '../../../src/routeros';
import { generateSshKeyPair } from '../../../src/sim/keys';

/** A port on loopback that nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const base = (port: number): RouterOsConfig => ({
  host: '127.0.0.1',
  port,
  user: 'admin',
  privateKey: 'not a key',
  insecureSkipHostKey: true,
  poolBasePath: 'storage-pool/k8s',
  reconnectBaseMs: 20,
  reconnectMaxMs: 100,
});

t.test('an unreadable private key: UNAVAILABLE naming the cause, retried', async (t) => {
  const ros = createRouterOsPorts(base(await deadPort()), { logger: nullLogger() });
  t.teardown(() => ros.close());
  await t.rejects(ros.health.ping({ timeoutMs: 300 }), {
    code: 'unavailable',
    message: /no connection to the RDS: .*(key|Cannot parse)/i,
  });
  t.notOk(ros.health.connected);
});

t.test('nothing listening: UNAVAILABLE, not a timeout', async (t) => {
  const ros = createRouterOsPorts(
    { ...base(await deadPort()), privateKey: generateSshKeyPair().private },
    { logger: nullLogger() },
  );
  t.teardown(() => ros.close());
  await t.rejects(ros.health.ping({ timeoutMs: 300 }), {
    code: 'unavailable',
    message: /ECONNREFUSED/,
  });
  // Calls queued behind the channel cap are UNAVAILABLE too, not DEADLINE_EXCEEDED.
  const many = await Promise.allSettled(
    Array.from({ length: 10 }, () => ros.health.ping({ timeoutMs: 200 })),
  );
  for (const r of many) t.type(r.status === 'rejected' ? r.reason : r, UnavailableError);
});

t.test('close() fails waiting calls and refuses later ones', async (t) => {
  const ros = createRouterOsPorts(base(await deadPort()), { logger: nullLogger() });
  const pending = t.rejects(ros.health.ping({ timeoutMs: 5000 }), {
    code: 'unavailable',
    message: /closed/,
  });
  await ros.close();
  await pending;
  await t.rejects(ros.volumes.get('pvc-a'), { code: 'unavailable', message: /closed/ });
  await ros.close();
});
