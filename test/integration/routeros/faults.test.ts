/**
 * Simulator faults against the real session: latency, hangs, dropped connections, failure
 * texts, refused logins, restarts, host-key pinning, the channel cap and liveness.
 */
import { utils } from 'ssh2';
import t from 'tap';
import {
  AlreadyExistsError,
  CancelledError,
  DeadlineExceededError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from '../../../src/domain/errors';
import { createLogger } from '../../../src/observability/logger';
import { createMetrics } from '../../../src/observability/metrics';
import { createRouterOsPorts, fingerprintOf, routerOsMetrics } from '../../../src/routeros';
import { generateSshKeyPair } from '../../../src/sim/keys';
import { harness, volumeSpec } from './harness';

const until = async (cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
};

t.test('latency is tolerated; a timeout shorter than it fails the call', async (t) => {
  const h = await harness(t);
  await h.ros.health.ping();
  h.sim.faults.add({ match: 'identity', latencyMs: 300 });
  await h.ros.health.ping();
  await t.rejects(h.ros.health.ping({ timeoutMs: 50 }), DeadlineExceededError);
  h.sim.faults.clear();
  await h.ros.health.ping();
  t.ok(h.ros.health.connected, 'the connection survives a timed-out command');
});

t.test('a hung command times out, its channel is closed, the connection stays', async (t) => {
  const h = await harness(t);
  await h.ros.health.ping();
  h.sim.faults.add({ match: 'identity', hang: true, times: 1 });
  await t.rejects(h.ros.health.ping({ timeoutMs: 300 }), DeadlineExceededError);
  t.same(h.ros.session.load, { inFlight: 0, queued: 0 }, 'slot released');
  await h.ros.health.ping();
  t.equal(h.sim.commandLog.filter((e) => e.result === 'hung').length, 1);
});

t.test('three channel timeouts in a row: the connection is replaced', async (t) => {
  const h = await harness(t, { ros: { livenessIntervalMs: 0 } });
  let reconnects = 0;
  h.ros.health.onReconnect(() => reconnects++);
  await h.ros.health.ping();
  h.sim.faults.add({ match: 'identity', hang: true, times: 3 });
  for (let i = 0; i < 3; i++) {
    await t.rejects(h.ros.health.ping({ timeoutMs: 200 }), DeadlineExceededError);
  }
  t.ok(await until(() => reconnects === 1), 'reconnected');
  await h.ros.health.ping();
});

t.test('the caller can cancel a command', async (t) => {
  const h = await harness(t);
  await h.ros.health.ping();
  h.sim.faults.add({ match: 'identity', hang: true, times: 1 });
  const ac = new AbortController();
  const p = h.ros.health.ping({ signal: ac.signal });
  setTimeout(() => ac.abort(), 100);
  await t.rejects(p, CancelledError);
  const pre = new AbortController();
  pre.abort();
  await t.rejects(h.ros.health.ping({ signal: pre.signal }), CancelledError);
});

t.test('dropped reply to /disk add: reconnect, read back, adopt the disk', async (t) => {
  const h = await harness(t);
  let reconnects = 0;
  h.ros.health.onReconnect(() => reconnects++);
  await h.ros.health.ping();
  h.sim.faults.add({ match: '^/disk add', drop: true, times: 1 });
  const disk = await h.ros.volumes.create(volumeSpec('pvc-drop1'));
  t.equal(disk.slot, 'pvc-drop1');
  t.equal(reconnects, 1, 'reconnected once');
  const adds = h.sim.commandLog.filter((e) => e.command.startsWith('/disk add'));
  t.equal(adds.length, 1, 'the add was not re-sent blindly');
  t.equal(adds[0]?.result, 'dropped');
});

t.test('dropped /disk add that never ran: UNAVAILABLE, nothing adopted', async (t) => {
  const h = await harness(t);
  await h.ros.health.ping();
  h.sim.faults.add({ match: '^/disk add', drop: true, execute: false, times: 1 });
  await t.rejects(h.ros.volumes.create(volumeSpec('pvc-drop2')), UnavailableError);
  t.equal(await h.ros.volumes.get('pvc-drop2'), undefined);
  // A retry by the caller then succeeds.
  t.equal((await h.ros.volumes.create(volumeSpec('pvc-drop2'))).slot, 'pvc-drop2');
});

t.test('a drop fails every command in flight as UNAVAILABLE, then recovers', async (t) => {
  const h = await harness(t);
  await h.ros.health.ping();
  h.sim.faults.add({ match: 'identity', latencyMs: 500, times: 3 });
  h.sim.faults.add({ match: 'disk print', drop: true, times: 1 });
  const pings = [h.ros.health.ping(), h.ros.health.ping(), h.ros.health.ping()];
  await new Promise((r) => setTimeout(r, 100));
  const get = h.ros.volumes.get('pvc-x');
  const results = await Promise.allSettled([...pings, get]);
  for (const r of results) {
    t.equal(r.status, 'rejected');
    if (r.status === 'rejected') t.type(r.reason, UnavailableError);
  }
  await h.ros.health.ping();
  t.ok(h.ros.health.connected);
});

t.test('failure texts map to their error classes', async (t) => {
  const h = await harness(t);
  await h.ros.health.ping();
  h.sim.faults.add({ match: '^/disk add', fail: 'not enough space', times: 1 });
  await t.rejects(h.ros.volumes.create(volumeSpec('pvc-f1')), ResourceExhaustedError);
  h.sim.faults.add({ match: '^/disk add', fail: 'disk with such slot already exists', times: 1 });
  await t.rejects(h.ros.volumes.create(volumeSpec('pvc-f2')), AlreadyExistsError);
  await h.ros.volumes.create(volumeSpec('pvc-f3'));
  h.sim.faults.add({ match: '^/disk set', fail: 'no such item', times: 1 });
  await t.rejects(h.ros.volumes.resize('pvc-f3', 8 * 1024 ** 2), NotFoundError);
  h.sim.faults.add({ match: '^/disk add', fail: 'something unexpected', times: 1 });
  await t.rejects(h.ros.volumes.create(volumeSpec('pvc-f4')), {
    code: 'internal',
    message: /\/disk add/,
  });
});

t.test('failures on stderr with a non-zero exit status are classified the same', async (t) => {
  const h = await harness(t, { sim: { errorStream: 'stderr', failureExitStatus: 1 } });
  await h.ros.health.ping();
  h.sim.faults.add({ match: '^/disk add', fail: 'not enough space', times: 1 });
  await t.rejects(h.ros.volumes.create(volumeSpec('pvc-e1')), ResourceExhaustedError);
  // Real `no such item` from the simulator (a named item that does not exist).
  await h.ros.volumes.create(volumeSpec('pvc-e2'));
  t.ok(await h.ros.volumes.get('pvc-e2'));
});

t.test('refused login: UNAVAILABLE while refused, connects once allowed', async (t) => {
  const h = await harness(t);
  await h.ros.health.ping();
  h.sim.faults.refuseLogins(true);
  const other = h.connect();
  await t.rejects(other.health.ping({ timeoutMs: 1000 }), {
    code: 'unavailable',
    message: /authentication|no connection/i,
  });
  t.notOk(other.health.connected);
  h.sim.faults.refuseLogins(false);
  t.ok(
    await until(() =>
      other.health.ping().then(
        () => true,
        () => false,
      ),
    ),
    'recovered',
  );
});

t.test('restart: connection lost, reconnected, state kept, listeners told', async (t) => {
  const metrics = createMetrics({ version: 't', commit: 't', processMetrics: false });
  const h = await harness(t, { metrics: routerOsMetrics(metrics) });
  let reconnects = 0;
  h.ros.health.onReconnect(() => reconnects++);
  await h.ros.volumes.create(volumeSpec('pvc-r1'));
  await h.sim.restart();
  t.ok(await until(() => reconnects === 1), 'reconnected after restart');
  t.equal((await h.ros.volumes.get('pvc-r1'))?.slot, 'pvc-r1', 'state survives');
  h.sim.faults.add({ match: 'identity', restart: true, times: 1 });
  await t.rejects(h.ros.health.ping(), UnavailableError);
  await h.ros.health.ping();
  t.ok(await until(() => reconnects === 2));
  const text = await metrics.registry.metrics();
  t.match(text, /rds_csi_rds_reconnect_total\{status="success"\} 2/);
  t.match(text, /rds_csi_rds_connection_state 1/);
  t.match(
    text,
    /rds_csi_rds_command_duration_seconds_count\{command="\/disk add",outcome="success"\} 1/,
  );
});

t.test('host key pinning', async (t) => {
  const h = await harness(t);
  await h.ros.health.ping();
  const other = utils.parseKey(generateSshKeyPair().public);
  if (other instanceof Error) throw other;
  const wrong = fingerprintOf(other.getPublicSSH());
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', sink: { write: (l: string) => lines.push(l) } });
  const base = {
    host: h.sim.host,
    port: h.sim.port,
    user: 'admin',
    privateKey: h.privateKey,
    poolBasePath: 'storage-pool/k8s',
    reconnectBaseMs: 50,
    reconnectMaxMs: 200,
  };
  const before = h.sim.commandLog.length;
  const bad = createRouterOsPorts({ ...base, hostKeyFingerprint: wrong }, { logger });
  t.teardown(() => bad.close());
  await t.rejects(bad.health.ping({ timeoutMs: 1500 }), {
    code: 'unavailable',
    message: /host key mismatch/,
  });
  t.equal(h.sim.commandLog.length, before, 'no command reached the device');
  t.ok(
    lines.some((l) => l.includes('does NOT match')),
    'mismatch logged',
  );

  t.throws(() => createRouterOsPorts(base, { logger }), InvalidArgumentError, 'pin required');
  t.throws(
    () => createRouterOsPorts({ ...base, hostKeyFingerprint: 'md5:abc' }, { logger }),
    InvalidArgumentError,
  );
  const insecure = createRouterOsPorts({ ...base, insecureSkipHostKey: true }, { logger });
  t.teardown(() => insecure.close());
  await insecure.health.ping();
  t.ok(
    lines.some((l) => l.includes('INSECURE')),
    'insecure mode logged loudly',
  );
});

t.test('channel cap holds under 100 concurrent calls', async (t) => {
  const h = await harness(t, { sim: { maxSessions: 10 } });
  await h.ros.health.ping();
  h.sim.faults.add({ latencyMs: 10, jitterMs: 20 });
  let maxInFlight = 0;
  const sample = setInterval(() => {
    maxInFlight = Math.max(maxInFlight, h.ros.session.load.inFlight);
  }, 1);
  const before = h.sim.commandLog.length;
  const calls = Array.from({ length: 100 }, (_, i) =>
    i % 2 === 0 ? h.ros.health.ping() : h.ros.volumes.list('pvc-'),
  );
  const results = await Promise.allSettled(calls);
  clearInterval(sample);
  t.equal(results.filter((r) => r.status === 'rejected').length, 0, 'all 100 succeeded');
  t.ok(maxInFlight <= 4 && maxInFlight > 0, `max in flight ${maxInFlight} <= 4`);
  const log = h.sim.commandLog.slice(before);
  t.equal(log.length, 100);
  t.ok(
    log.every((e) => e.result === 'ok'),
    'no session-limit or other errors',
  );
});

t.test('liveness: an idle connection whose probe hangs is re-established', async (t) => {
  const h = await harness(t, { ros: { livenessIntervalMs: 200, commandTimeoutMs: 500 } });
  let reconnects = 0;
  h.ros.health.onReconnect(() => reconnects++);
  await h.ros.health.ping();
  h.sim.faults.add({ match: 'identity', hang: true, times: 1 });
  t.ok(await until(() => reconnects >= 1), 'reconnected after a failed probe');
  await h.ros.health.ping();
  t.ok(
    h.sim.commandLog.some((e) => e.command === '/system identity print' && e.result === 'hung'),
    'the probe was the cheap identity command',
  );
});
