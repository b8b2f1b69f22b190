import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { once, tempDir } from './helpers';

const MAIN = path.resolve(__dirname, '../../../src/sim/main.js');
// Without the test runner's loader hooks each child starts in well under a second.
const env = { ...process.env, NODE_OPTIONS: '' };

t.test('--help and bad flags', async (t) => {
  const help = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8', env });
  t.equal(help.status, 0);
  t.match(help.stdout, /^Usage: rds-sim/);
  t.match(help.stdout, /--backend files\|nvmet/);
  const bad = spawnSync(process.execPath, [MAIN, '--bogus'], { encoding: 'utf8', env });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /rds-sim: .*bogus/);
  const quota = spawnSync(process.execPath, [MAIN, '--pool-quota', 'lots'], {
    encoding: 'utf8',
    env,
  });
  t.equal(quota.status, 2);
});

t.test('starts, prints the fingerprint, serves SSH, stops cleanly on SIGTERM', async (t) => {
  const state = tempDir(t);
  const child = spawn(
    process.execPath,
    [MAIN, '--state', state, '--listen', '127.0.0.1:0', '--identity', 'lab-rds'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    },
  );
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let logs = '';
  child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/try: ssh/.test(out)) resolve();
    });
    child.once('exit', () => reject(new Error(`exited early: ${out} ${logs}`)));
  });
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(out)![1]);
  t.match(out, /host key fingerprint: SHA256:[A-Za-z0-9+/]{43}\n/);
  const key = readFileSync(path.join(state, 'client_ed25519_key'), 'utf8');
  t.same(await once(port, key, '/system identity print'), {
    stdout: '  name: lab-rds\r\n',
    stderr: '',
    code: 0,
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  child.kill('SIGTERM');
  t.equal(await exited, 0);
  const records = logs
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string });
  t.ok(
    records.some((r) => r.msg === 'simulator listening'),
    'JSON logs',
  );
  t.ok(records.some((r) => r.msg === 'shutting down'));
});
