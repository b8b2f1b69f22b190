import t from 'tap';
import { UnavailableError } from '../../../src/domain/errors';
import { createLogger } from '../../../src/observability/logger';
import { createMetrics } from '../../../src/observability/metrics';
import { SYSTEM_IDENTITY, createBuilders } from '../../../src/routeros/commands';
import { resolveConfig, routerOsMetrics } from '../../../src/routeros';
import { FifoSemaphore } from '../../../src/routeros/limits';
import { createRunner, redactCommand, type Exec } from '../../../src/routeros/runner';

function fake(reply: (text: string) => { stdout: string; stderr?: string } | Error): {
  exec: Exec;
  sent: string[];
} {
  const sent: string[] = [];
  return {
    sent,
    exec: {
      exec: (cmd) => {
        const text = typeof cmd.text === 'string' ? cmd.text : cmd.text('terse');
        sent.push(text);
        const r = reply(text);
        if (r instanceof Error) return Promise.reject(r);
        return Promise.resolve({ stdout: r.stdout, stderr: r.stderr ?? '', code: 0 });
      },
    },
  };
}

t.test('runner: one debug line per command, full line only at trace, metrics', async (t) => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'trace', sink: { write: (l: string) => lines.push(l) } });
  const metrics = createMetrics({ version: 't', commit: 't', processMetrics: false });
  const f = fake((text) =>
    text.includes('identity')
      ? { stdout: 'name: x' }
      : text.includes('remove')
        ? { stdout: 'failure: no such item' }
        : { stdout: '' },
  );
  const run = createRunner(f.exec, logger, routerOsMetrics(metrics));
  t.equal(await run.run(SYSTEM_IDENTITY), 'name: x');
  await t.rejects(run.run(createBuilders('p/k').diskRemove('pvc-a')), { code: 'not-found' });
  const q = await run.query((form) => createBuilders('p/k').diskGet('pvc-a', form));
  t.same(q, { output: '', form: 'terse' });
  t.equal(f.sent[2], '/disk print terse where slot=pvc-a');

  type Line = { level: string; command?: string; outcome?: string };
  const records = lines.map((l) => JSON.parse(l) as Line);
  const debug = records.filter((r) => r.level === 'debug');
  t.same(
    debug.map((r) => [r.command, r.outcome]),
    [
      ['/system identity print', 'success'],
      ['/disk remove', 'not-found'],
      ['/disk print', 'success'],
    ],
  );
  const trace = records.filter((r) => r.level === 'trace');
  t.equal(trace.length, 3);
  const text = await metrics.registry.metrics();
  t.match(
    text,
    /rds_csi_rds_command_duration_seconds_count\{command="\/disk remove",outcome="not-found"\} 1/,
  );

  const failing = createRunner(
    fake(() => new Error('boom')).exec,
    logger,
    routerOsMetrics(metrics),
  );
  await t.rejects(failing.run(SYSTEM_IDENTITY), { code: 'internal' });
  const down = createRunner(
    fake(() => new UnavailableError('down')).exec,
    logger,
    routerOsMetrics(metrics),
  );
  await t.rejects(down.run(SYSTEM_IDENTITY), UnavailableError);
});

t.test('passwords are redacted from traced command lines', async (t) => {
  t.equal(
    redactCommand('/disk set [find slot=a] nvme-tcp-server-password="s3\\"cr et" x=1'),
    '/disk set [find slot=a] nvme-tcp-server-password=[redacted] x=1',
  );
  t.equal(redactCommand('/x password=plain y=2'), '/x password=[redacted] y=2');
});

t.test('config: all errors at once; defaults; console options', async (t) => {
  const ok = resolveConfig({
    host: 'rds',
    user: 'admin',
    privateKey: 'k',
    hostKeyFingerprint: 'SHA256:' + 'A'.repeat(43),
    poolBasePath: '/storage-pool/k8s/',
  });
  t.equal(ok.session.username, 'admin+ct4096w');
  t.equal(ok.session.port, 22);
  t.equal(ok.session.maxChannels, 4);
  t.equal(ok.session.commandTimeoutMs, 30_000);
  t.equal(ok.basePath, 'storage-pool/k8s');
  t.equal(ok.mountPoint, 'storage-pool');
  try {
    resolveConfig({
      host: '',
      user: 'bad user',
      privateKey: '',
      poolBasePath: '../x',
      port: 70000,
      maxChannels: 0,
    });
    t.fail('should throw');
  } catch (err) {
    const msg = (err as Error).message;
    for (const part of [
      'host',
      'user',
      'privateKey',
      'hostKeyFingerprint',
      'pool base path',
      'port',
      'maxChannels',
    ]) {
      t.match(msg, part);
    }
  }
});

t.test('FIFO semaphore: order kept, aborted waiters leave the queue', async (t) => {
  const s = new FifoSemaphore(1);
  const never = new AbortController().signal;
  const first = await s.acquire(never);
  const order: number[] = [];
  const ac = new AbortController();
  const a = s.acquire(never).then((r) => (order.push(1), r));
  const b = s.acquire(ac.signal);
  const c = s.acquire(never).then((r) => (order.push(3), r));
  t.equal(s.waiting, 3);
  ac.abort(new Error('gone'));
  await t.rejects(b, /gone/);
  t.equal(s.waiting, 2);
  first();
  (await a)();
  (await c)();
  t.same(order, [1, 3]);
  t.equal(s.inUse, 0);
  const pre = new AbortController();
  pre.abort(new Error('pre'));
  await t.rejects(s.acquire(pre.signal), /pre/);
});
