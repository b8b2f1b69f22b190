import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import type { Client } from 'ssh2';
import { fingerprintOf } from '../../../src/routeros/fingerprint';
import { startSim, type RunningSim, type SimOptions } from '../../../src/sim/index';
import { connect, exec, generateKey, once, tempDir, type Teardown } from './helpers';

const key = generateKey();
const NQN = 'nqn.2000-02.com.mikrotik:';
const add = (slot: string): string =>
  `/disk add type=file file-path=storage-pool/k8s/${slot}.img file-size=1M slot=${slot} ` +
  `nvme-tcp-export=yes nvme-tcp-server-port=4420 nvme-tcp-server-nqn=${NQN}${slot}`;

async function sim(t: Teardown, opts: Partial<SimOptions> = {}): Promise<RunningSim> {
  const s = await startSim({ authorizedKeys: [key.public], ...opts });
  t.teardown(() => s.stop());
  return s;
}

const run = (s: RunningSim, command: string, user = 'admin') =>
  once(s.port, key.private, command, user);

function closed(c: Client): Promise<void> {
  return new Promise((resolve) => c.once('close', () => resolve()));
}

t.test('exec runs one command; CRLF lines; host key fingerprint like OpenSSH', async (t) => {
  const s = await sim(t);
  t.equal(s.host, '127.0.0.1');
  let seen = '';
  const c = await connect(s.port, key.private, 'admin', {
    hostVerifier: (k: Buffer) => {
      seen = fingerprintOf(k);
      return true;
    },
  });
  t.equal(seen, s.hostKeyFingerprint);
  t.match(s.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
  t.same(await exec(c, '/system identity print'), {
    stdout: '  name: rds-sim\r\n',
    stderr: '',
    code: 0,
  });
  t.same(await exec(c, add('pvc-a')), { stdout: '', stderr: '', code: 0 });
  const detail = await exec(c, '/disk print detail where slot=pvc-a');
  t.match(detail.stdout, /^Flags: .*\r\n.*\r\n 1 t {2}type=file slot="pvc-a"/);
  c.end();
  t.same(
    s.commandLog.map((e) => [e.user, e.command, e.result]),
    [
      ['admin', '/system identity print', 'ok'],
      ['admin', add('pvc-a'), 'ok'],
      ['admin', '/disk print detail where slot=pvc-a', 'ok'],
    ],
  );
  t.ok(s.commandLog[0]!.time instanceof Date);
  t.equal(s.commandLog[0]!.output, '  name: rds-sim\r\n');
});

t.test('console width from the user name suffix', async (t) => {
  const s = await sim(t);
  await run(s, add('pvc-0f0e4c2a-5b7d-4e21-9c3a-8d6f1b2e3a4c'));
  const cmd = '/disk print detail where slot~"^pvc-"';
  for (const [user, width] of [
    ['admin', 80],
    ['admin+ct60w', 60],
    ['admin+ct4096w', 4096],
    ['admin+t100w', 100],
  ] as const) {
    const out = (await run(s, cmd, user)).stdout.split('\r\n').filter((l) => l !== '');
    t.ok(
      out.every((l) => l.length <= width),
      `${user}: lines <= ${width}`,
    );
    const entryLines = out.filter((l) => !l.startsWith('Flags:') && !/^[a-zA-Z]/.test(l)).length;
    if (width === 4096) t.equal(entryLines, 1, 'no wrapping at 4096');
    else t.ok(entryLines > 1, `${user}: wrapped`);
  }
  t.equal(s.commandLog[1]!.user, 'admin', 'the log shows the base user name');
});

t.test('failures and errors: stdout with status 0 by default', async (t) => {
  const s = await sim(t);
  t.same(await run(s, '/disk remove nope'), {
    stdout: 'failure: no such item\r\n',
    stderr: '',
    code: 0,
  });
  t.same(await run(s, '/disk prnt'), {
    stdout: 'bad command name prnt (line 1 column 7)\r\n',
    stderr: '',
    code: 0,
  });
  t.same(
    s.commandLog.map((e) => e.result),
    ['failure', 'syntax-error'],
  );
});

t.test('failures on stderr with a non-zero status when configured', async (t) => {
  const s = await sim(t, { errorStream: 'stderr', failureExitStatus: 1 });
  t.same(await run(s, '/disk remove nope'), {
    stdout: '',
    stderr: 'failure: no such item\r\n',
    code: 1,
  });
  t.same((await run(s, '/system identity print')).code, 0);
});

t.test('shell metacharacters and unbalanced quotes never run anything', async (t) => {
  const s = await sim(t);
  await run(s, add('keep'));
  for (const cmd of [
    '/disk remove keep; /disk print',
    '/disk remove "keep',
    '/disk remove keep | x',
    '/disk remove $(x)',
  ]) {
    const r = await run(s, cmd);
    t.match(r.stdout, /^syntax error \(line 1 column \d+\)\r\n$/, cmd);
  }
  t.match((await run(s, '/disk print terse where slot=keep')).stdout, /slot=keep/);
  t.same(
    s.commandLog.slice(1, 5).map((e) => e.result),
    ['syntax-error', 'syntax-error', 'syntax-error', 'syntax-error'],
  );
});

t.test('auth: unknown key, unknown user, refused logins; shell and pty refused', async (t) => {
  const s = await sim(t, { users: ['admin', 'csi'] });
  const other = generateKey();
  await t.rejects(connect(s.port, other.private), /authentication methods failed/i);
  await t.rejects(connect(s.port, key.private, 'root'), /authentication methods failed/i);
  t.equal((await run(s, '/system identity print', 'csi+ct4096w')).code, 0);
  s.faults.refuseLogins(true);
  await t.rejects(connect(s.port, key.private), /authentication methods failed/i);
  s.faults.refuseLogins(false);
  const c = await connect(s.port, key.private);
  const shell = await new Promise<Error | undefined>((resolve) => c.shell((err) => resolve(err)));
  t.ok(shell instanceof Error, 'shell refused');
  const pty = await new Promise<Error | undefined>((resolve) =>
    c.exec('/system identity print', { pty: true }, (err) => resolve(err)),
  );
  t.ok(pty instanceof Error, 'pty refused');
  t.same((await exec(c, '/system identity print')).code, 0, 'connection still usable');
  c.end();
});

t.test('session cap: excess channels and logins are refused', async (t) => {
  const s = await sim(t, { maxSessions: 2 });
  s.faults.add({ match: 'hang-me', hang: true });
  const c = await connect(s.port, key.private);
  const hung = [exec(c, ':put hang-me'), exec(c, ':put hang-me')];
  while (s.commandLog.filter((e) => e.result === 'hung').length < 2)
    await new Promise((r) => setTimeout(r, 10));
  await t.rejects(
    exec(c, '/system identity print'),
    /open failure|failure/i,
    'third channel refused',
  );
  const c2 = await connect(s.port, key.private);
  await t.rejects(
    connect(s.port, key.private),
    /authentication methods failed/i,
    'third login refused',
  );
  c2.end();
  const gone = closed(c);
  c.end();
  await gone;
  await Promise.allSettled(hung);
  // Slots free up again once the hung sessions are gone.
  let ok = false;
  for (let i = 0; i < 50 && !ok; i += 1) {
    ok = await run(s, '/system identity print').then(
      (r) => r.code === 0,
      () => false,
    );
    if (!ok) await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(ok, 'a new session works after the others closed');
});

t.test('faults: latency, fail, nth, hang, drop', async (t) => {
  const s = await sim(t);
  s.faults.add({ match: '^/system identity', latencyMs: 150, jitterMs: 50 });
  const t0 = Date.now();
  t.equal((await run(s, '/system identity print')).code, 0);
  t.ok(Date.now() - t0 >= 150, 'latency added');
  s.faults.clear();

  s.faults.add({ match: '^/disk add', fail: 'not enough space' });
  t.same((await run(s, add('a'))).stdout, 'failure: not enough space\r\n');
  t.equal(
    (await run(s, '/disk print terse where slot=a')).stdout,
    '',
    'a failed command did not run',
  );
  s.faults.clear();

  s.faults.add({ match: 'identity', nth: 2, fail: 'second' });
  const outs = [];
  for (let i = 0; i < 3; i += 1) outs.push((await run(s, '/system identity print')).stdout);
  t.same(outs, ['  name: rds-sim\r\n', 'failure: second\r\n', '  name: rds-sim\r\n']);
  s.faults.clear();

  s.faults.add({ match: 'pvc-dropped', drop: true });
  const c = await connect(s.port, key.private);
  const gone = closed(c);
  const r = await exec(c, add('pvc-dropped'));
  t.equal(r.code, undefined, 'no exit status');
  await gone;
  s.faults.clear();
  t.match(
    (await run(s, '/disk print terse where slot=pvc-dropped')).stdout,
    /slot=pvc-dropped/,
    'the effect happened',
  );

  s.faults.add({ match: 'pvc-hung', hang: true });
  const c2 = await connect(s.port, key.private);
  const pending = exec(c2, add('pvc-hung'));
  while (!s.commandLog.some((e) => e.result === 'hung'))
    await new Promise((r) => setTimeout(r, 10));
  c2.end();
  t.same((await pending).code, undefined, 'never answered');
  s.faults.clear();
  t.equal(
    (await run(s, '/disk print terse where slot=pvc-hung')).stdout,
    '',
    'a hung command did not run',
  );
  t.same(
    s.commandLog.filter((e) => e.result === 'dropped' || e.result === 'hung').map((e) => e.result),
    ['dropped', 'hung'],
  );
});

t.test('faults from the control file; restart fault', async (t) => {
  const s = await sim(t);
  const file = path.join(s.stateDir, 'faults.json');
  writeFileSync(file, JSON.stringify({ rules: [{ match: 'identity', fail: 'from file' }] }));
  t.equal((await run(s, '/system identity print')).stdout, 'failure: from file\r\n');
  writeFileSync(file, JSON.stringify({ refuseLogins: true }));
  await t.rejects(connect(s.port, key.private), /authentication methods failed/i);
  writeFileSync(file, JSON.stringify({ rules: [{ match: 'reboot-now', restart: true }] }));
  await run(s, add('pvc-a'));
  const c = await connect(s.port, key.private);
  const gone = closed(c);
  const r = await exec(c, ':put reboot-now');
  t.equal(r.code, undefined);
  await gone;
  writeFileSync(file, '{}');
  let out = '';
  for (let i = 0; i < 50 && out === ''; i += 1) {
    out = await run(s, '/disk print terse where slot=pvc-a').then(
      (x) => x.stdout,
      () => '',
    );
  }
  t.match(out, /slot=pvc-a/, 'state survives the restart');
});

t.test('restart and a new process keep disks and the host key', async (t) => {
  const stateDir = tempDir(t);
  const s1 = await startSim({ authorizedKeys: [key.public], stateDir });
  await run(s1, add('pvc-a'));
  const c = await connect(s1.port, key.private);
  const gone = closed(c);
  await s1.restart();
  await gone;
  t.match((await run(s1, '/disk print terse')).stdout, /slot=pvc-a/);
  const fp = s1.hostKeyFingerprint;
  await s1.stop();
  t.ok(existsSync(path.join(stateDir, 'ssh_host_ed25519_key')));
  const s2 = await startSim({ authorizedKeys: [key.public], stateDir });
  t.teardown(() => s2.stop());
  t.equal(s2.hostKeyFingerprint, fp, 'same host key after restart');
  t.match((await run(s2, '/disk print terse')).stdout, /slot=pvc-a/);
  t.ok(existsSync(path.join(stateDir, 'pool', 'k8s', 'pvc-a.img')));
});

t.test('monitor-traffic without once repeats its screen until the client closes', async (t) => {
  const s = await sim(t);
  await run(s, add('pvc-a'));
  const c = await connect(s.port, key.private);
  const screens = await new Promise<number>((resolve, reject) => {
    c.exec('/disk monitor-traffic pvc-a', (err, stream) => {
      if (err) return reject(err);
      let text = '';
      stream.on('data', (d: Buffer) => {
        text += d.toString();
        const n = text.split('slot: pvc-a').length - 1;
        if (n >= 2) {
          stream.close();
          resolve(n);
        }
      });
    });
  });
  t.ok(screens >= 2, 'the screen came twice');
  t.equal((await exec(c, '/system identity print')).code, 0, 'the connection is still fine');
  c.end();
});

t.test('a reboot refuses connections until it is over', async (t) => {
  const s = await sim(t, { rebootMs: 300 });
  const rebooting = s.restart();
  await t.rejects(connect(s.port, key.private), 'refused while rebooting');
  await rebooting;
  t.equal((await run(s, '/system identity print')).code, 0, 'back after the reboot');
});

t.test('a temp state dir is removed on stop', async (t) => {
  const s = await startSim({ authorizedKeys: [key.public] });
  t.ok(existsSync(s.stateDir));
  await s.stop();
  await s.stop();
  t.notOk(existsSync(s.stateDir));
});
