import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';
import { codeOf, csiClient, status } from '../helpers/csi';

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

/** Starts `serve --sim` in `mode` without Kubernetes; returns a client to its socket. */
async function serveSim(t: Test, mode: 'all' | 'controller', extra: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'rds-csi-main-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'csi.sock');
  const env = { ...process.env };
  delete env.KUBERNETES_SERVICE_HOST;
  delete env.KUBECONFIG;
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'serve',
      '--mode',
      mode,
      '--sim',
      '--sim-state',
      join(dir, 'sim'),
      '--node-id',
      'n1',
      '--kubelet-dir',
      join(dir, 'kubelet'),
      '--endpoint',
      `unix://${sock}`,
      '--metrics-address',
      '',
      ...extra,
    ],
    { stdio: 'ignore', env },
  );
  const exited = new Promise((r) => child.once('exit', r));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  await waitFor(() => existsSync(sock));
  const c = csiClient(`unix://${sock}`);
  t.teardown(() => c.close());
  return c;
}

const VOLUME = 'pvc-0a0b0c0d-0000-4000-8000-000000000001';
const RWO = {
  mount: { fs_type: '', mount_flags: [] },
  access_mode: { mode: 'SINGLE_NODE_WRITER' },
};

async function publishTo(c: ReturnType<typeof csiClient>, node: string) {
  return codeOf(
    c.controller('ControllerPublishVolume', {
      volume_id: VOLUME,
      node_id: node,
      volume_capability: RWO,
    }),
  );
}

t.test('--mode all without Kubernetes: the local node is the only node', async (t) => {
  const c = await serveSim(t, 'all');
  await c.controller('CreateVolume', { name: VOLUME, volume_capabilities: [RWO] });
  t.equal(await publishTo(c, 'n2'), status.NOT_FOUND, 'another node id does not exist');
  t.equal(await publishTo(c, 'n1'), 'OK', 'the local node');
  const caps = await c.controller<{ capabilities: { rpc: { type: string } }[] }>(
    'ControllerGetCapabilities',
  );
  t.notOk(
    caps.capabilities.some((x) => x.rpc.type === 'GET_SNAPSHOT'),
    'GET_SNAPSHOT not advertised by default',
  );
});

t.test('--mode controller without Kubernetes takes any node id; opt-in GET_SNAPSHOT', async (t) => {
  const c = await serveSim(t, 'controller', ['--advertise-get-snapshot']);
  await c.controller('CreateVolume', { name: VOLUME, volume_capabilities: [RWO] });
  t.equal(await publishTo(c, 'n2'), 'OK', 'no list of nodes to check against');
  const caps = await c.controller<{ capabilities: { rpc: { type: string } }[] }>(
    'ControllerGetCapabilities',
  );
  t.ok(
    caps.capabilities.some((x) => x.rpc.type === 'GET_SNAPSHOT'),
    'advertised on request',
  );
});
