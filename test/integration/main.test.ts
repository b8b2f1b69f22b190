import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';
import { csiClient } from '../helpers/csi';

const MAIN = join(packageRoot(), 'dist/src/main.js');

function waitFor(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() - start > timeoutMs) reject(new Error('timed out waiting'));
      else setTimeout(tick, 25);
    };
    tick();
  });
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal} stops serving, removes the socket and exits 0`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'rds-csi-main-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const sock = join(dir, 'csi.sock');
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'serve',
        '--mode',
        'node',
        '--node-id',
        'n1',
        '--endpoint',
        `unix://${sock}`,
        '--metrics-address',
        '',
        '--driver-name',
        'main.test',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    t.teardown(() => child.kill('SIGKILL'));
    await waitFor(() => existsSync(sock));
    const c = csiClient(`unix://${sock}`);
    const info = await c.identity<{ name: string }>('GetPluginInfo');
    c.close();
    t.equal(info.name, 'main.test');
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill(signal);
    t.equal(await exited, 0, 'exit status 0');
    t.notOk(existsSync(sock), 'socket removed');
    t.match(stderr, /"msg":"shutting down".*"signal":"SIG/);
  });
}

t.test('bad configuration exits 2 naming the flag; help and version exit 0', async (t) => {
  const bad = spawnSync(process.execPath, [MAIN, 'serve', '--mode', 'nope'], { encoding: 'utf8' });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--mode/);
  const unknown = spawnSync(process.execPath, [MAIN, 'frobnicate'], { encoding: 'utf8' });
  t.equal(unknown.status, 2);
  t.match(unknown.stderr, /unknown command/);
  const help = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
  t.equal(help.status, 0);
  t.match(help.stdout, /--rds-host-key-fingerprint/);
  t.match(help.stdout, /RDS_CSI_RDS_ADDRESS/);
  const version = spawnSync(process.execPath, [MAIN, 'version'], { encoding: 'utf8' });
  t.equal(version.status, 0);
  t.match(version.stdout, /^rds-csi \d+\.\d+\.\d+/);
});
