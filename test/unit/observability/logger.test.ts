import t from 'tap';
import { createLogger, redact, REDACTED } from '../../../src/observability/logger';

function capture(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' = 'trace') {
  const lines: string[] = [];
  const log = createLogger({
    level,
    sink: { write: (l: string) => lines.push(l) },
    now: () => new Date('2026-01-02T03:04:05.000Z'),
  });
  return { log, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

t.test('writes one JSON object per line with time, level, msg and fields', async (t) => {
  const { log, lines, records } = capture();
  log.info('hello', { volumeId: 'pvc-1' });
  t.equal(lines.length, 1);
  t.ok(lines[0]!.endsWith('\n'));
  t.same(records()[0], {
    time: '2026-01-02T03:04:05.000Z',
    level: 'info',
    msg: 'hello',
    volumeId: 'pvc-1',
  });
});

t.test('drops records below the configured level', async (t) => {
  const { log, records } = capture('warn');
  log.debug('no');
  log.info('no');
  log.warn('yes');
  log.error('yes');
  t.same(
    records().map((r) => r.level),
    ['warn', 'error'],
  );
  t.equal(log.enabled('info'), false);
  t.equal(log.enabled('error'), true);
});

t.test('redacts secret-looking keys at any depth, including CSI secrets maps', async (t) => {
  const { log, lines } = capture();
  log.info('rpc', {
    request: {
      volume_id: 'v',
      secrets: { user: 'admin', key: 'AAAA' },
      nested: [{ password: 'hunter2' }],
    },
    privateKey: 'BEGIN',
    sshPassphrase: 'x',
    token: 't',
  });
  const text = lines.join('');
  for (const secret of ['AAAA', 'hunter2', 'BEGIN', '"x"', '"t"', 'admin']) {
    t.notOk(text.includes(secret), `does not contain ${secret}`);
  }
  t.ok(text.includes(REDACTED));
  t.ok(text.includes('"volume_id":"v"'));
});

t.test('child loggers carry bindings and errors are serialised with code and stack', async (t) => {
  const { log, records } = capture();
  const err = Object.assign(new Error('boom'), { code: 'EALREADY', errno: -114 });
  log.child({ rpc: 'NodeStageVolume' }).error('failed', { err });
  const rec = records()[0]!;
  t.equal(rec.rpc, 'NodeStageVolume');
  const e = rec.err as Record<string, unknown>;
  t.equal(e.message, 'boom');
  t.equal(e.code, 'EALREADY');
  t.equal(e.errno, -114);
  t.match(e.stack, /Error: boom/);
});

t.test('redact handles bigint, buffers and deep structures', async (t) => {
  t.equal(redact(10n), '10');
  t.equal(redact(Buffer.from('abc')), '[buffer 3 bytes]');
  let deep: Record<string, unknown> = { v: 1 };
  for (let i = 0; i < 20; i++) deep = { d: deep };
  t.match(JSON.stringify(redact(deep)), /\[truncated\]/);
});
