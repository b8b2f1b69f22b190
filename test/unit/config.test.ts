import t from 'tap';
import { ConfigError, loadConfig, parseDuration, serveHelp, SERVE_FLAGS } from '../../src/config';

const FP = 'SHA256:' + 'A'.repeat(43);
const controllerArgs = [
  '--rds-address',
  'rds.example:2222',
  '--rds-key-file',
  '/k',
  '--rds-host-key-fingerprint',
  FP,
];

t.test('defaults and flags produce a frozen config', async (t) => {
  const c = loadConfig(['--mode', 'controller', ...controllerArgs], {});
  t.equal(c.mode, 'controller');
  t.same(c.endpoint, { kind: 'unix', path: '/csi/csi.sock' });
  t.equal(c.rds.host, 'rds.example');
  t.equal(c.rds.port, 2222);
  t.equal(c.rds.nvmeAddress, 'rds.example');
  t.equal(c.rds.poolPath, 'storage-pool/k8s');
  t.equal(c.rds.commandTimeoutMs, 30_000);
  t.same(c.metricsAddress, { host: '0.0.0.0', port: 9809 });
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.rds));
  t.throws(() => {
    (c as { mode: string }).mode = 'node';
  });
});

t.test('environment variables set every flag; flags win over env', async (t) => {
  const env = {
    RDS_CSI_MODE: 'node',
    CSI_ENDPOINT: 'tcp://127.0.0.1:1234',
    RDS_CSI_NODE_ID: 'worker-1',
    RDS_CSI_METRICS_ADDRESS: '',
    RDS_CSI_LOG_LEVEL: 'debug',
  };
  const c = loadConfig([], env);
  t.equal(c.mode, 'node');
  t.same(c.endpoint, { kind: 'tcp', host: '127.0.0.1', port: 1234 });
  t.equal(c.nodeId, 'worker-1');
  t.equal(c.metricsAddress, undefined, 'empty metrics address disables it');
  t.equal(c.logLevel, 'debug');
  t.equal(loadConfig(['--node-id', 'other'], env).nodeId, 'other');
});

t.test('GET_SNAPSHOT is advertised only on request (flag or env)', async (t) => {
  t.equal(loadConfig(['--mode', 'node'], {}).advertiseGetSnapshot, false, 'off by default');
  t.equal(
    loadConfig(['--mode', 'node', '--advertise-get-snapshot'], {}).advertiseGetSnapshot,
    true,
  );
  t.equal(
    loadConfig(['--mode', 'node'], { RDS_CSI_ADVERTISE_GET_SNAPSHOT: 'true' }).advertiseGetSnapshot,
    true,
  );
});

t.test('every problem is reported at once, each naming its flag', async (t) => {
  try {
    loadConfig(
      [
        '--mode',
        'both',
        '--endpoint',
        'http://x',
        '--log-level',
        'loud',
        '--rds-nvme-port',
        '0',
        '--rds-pool-path',
        '../etc',
        '--nope',
      ],
      {},
    );
    t.fail('should throw');
  } catch (err) {
    t.type(err, ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const flag of [
      '--mode',
      '--endpoint',
      '--log-level',
      '--rds-nvme-port',
      '--rds-pool-path',
      '--nope',
      '--rds-address',
      '--rds-key-file',
      '--rds-host-key-fingerprint',
    ]) {
      t.match(problems, flag, `names ${flag}`);
    }
  }
});

t.test('--sim needs no RDS settings and defaults the endpoint to a temp socket', async (t) => {
  const c = loadConfig(['--sim'], {});
  t.equal(c.sim, true);
  t.equal(c.endpoint.kind, 'unix');
  t.match((c.endpoint as { path: string }).path, /rds-csi\/csi\.sock$/);
  t.equal(loadConfig(['--sim', '--endpoint', 'unix:///tmp/y.sock'], {}).endpoint.kind, 'unix');
});

t.test('insecure host key mode is accepted only when asked for', async (t) => {
  const args = ['--mode', 'controller', '--rds-address', 'r', '--rds-key-file', '/k'];
  t.throws(() => loadConfig(args, {}), ConfigError);
  t.equal(loadConfig([...args, '--rds-insecure-skip-host-key'], {}).rds.insecureSkipHostKey, true);
  t.equal(
    loadConfig(args, { RDS_CSI_RDS_INSECURE_SKIP_HOST_KEY: 'true' }).rds.insecureSkipHostKey,
    true,
  );
  t.throws(
    () => loadConfig(args, { RDS_CSI_RDS_INSECURE_SKIP_HOST_KEY: 'maybe' }),
    /expected true or false/,
  );
  t.throws(
    () => loadConfig([...controllerArgs.slice(0, 4), '--rds-host-key-fingerprint', 'MD5:aa'], {}),
    /SHA256/,
  );
});

t.test('durations and help', async (t) => {
  t.equal(parseDuration('500ms'), 500);
  t.equal(parseDuration('2m'), 120_000);
  t.equal(parseDuration('3'), 3000);
  t.equal(parseDuration('x'), undefined);
  const help = serveHelp();
  for (const f of SERVE_FLAGS) {
    t.match(help, `--${f.name}`);
    t.match(help, f.env);
  }
});
