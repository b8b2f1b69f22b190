/**
 * The image as the controller Deployment runs it: `serve --mode controller --sim` in a
 * container, driven over its CSI socket by the conformance suite's identity and controller
 * cases, scraped on its metrics port, then stopped with SIGTERM.
 */
import t from 'tap';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { csiClient, type CsiClient } from '../helpers/csi';
import { controllerCases } from '../conformance/controller-cases';
import { identityCases } from '../conformance/identity-cases';
import { runSuite } from '../conformance/suite';
import { IMAGE, imageSkipReason, podman, runOptions } from './podman';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

async function until(what: string, ms: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await ok().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

const NODE_ID = 'image-test-node';

const skip = imageSkipReason();
if (skip) {
  t.comment(`image tests skipped: ${skip}`);
  t.pass('skipped', { skip });
} else {
  // Each case starts containers; generous for a loaded 2-core machine.
  t.setTimeout(600_000);
  t.test(
    'a controller container serves CSI, metrics and health, and stops on SIGTERM',
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'rds-image-'));
      // The container's user (not root) creates the socket in this host directory.
      chmodSync(dir, 0o777);
      const name = `rds-csi-image-test-${process.pid}`;
      const port = await freePort();
      t.teardown(async () => {
        await podman(['rm', '--force', '--time', '0', name]);
        rmSync(dir, { recursive: true, force: true });
      });
      const started = await podman([
        'run',
        '--detach',
        '--name',
        name,
        ...runOptions(),
        '--network',
        'host',
        '--volume',
        `${dir}:/csi`,
        IMAGE,
        'serve',
        '--mode',
        'controller',
        '--sim',
        '--endpoint',
        'unix:///csi/csi.sock',
        '--metrics-address',
        `127.0.0.1:${port}`,
      ]);
      t.equal(started.status, 0, started.stderr);
      const socket = join(dir, 'csi.sock');
      const base = `http://127.0.0.1:${port}`;
      try {
        await until('the CSI socket and /readyz', 60_000, async () => {
          if (!existsSync(socket)) return false;
          return (await fetch(`${base}/readyz`)).status === 200;
        });
      } catch (err) {
        const logs = await podman(['logs', name]);
        t.fail(`${(err as Error).message}\n${logs.stdout}${logs.stderr}`);
        return;
      }

      // A controller-only plugin has no Node service: the cases that need a node id get one
      // the way a CO's controller side does (from the node's registration), not over the
      // socket. Every other call goes to the container.
      const socketClient = csiClient(`unix://${socket}`);
      const client: CsiClient = {
        ...socketClient,
        node: (method, req, opts) =>
          method === 'NodeGetInfo'
            ? (Promise.resolve({ node_id: NODE_ID }) as never)
            : socketClient.node(method, req, opts),
      };
      await t.test('conformance: identity and controller cases', async (t) => {
        await runSuite(
          t,
          client,
          {
            sizeBytes: 1024 ** 3,
            accessType: 'mount',
            stagingRoot: '/nonexistent/staging',
            targetRoot: '/nonexistent/target',
            parameters: {},
            realKernel: false,
          },
          [...identityCases, ...controllerCases],
        );
      });
      client.close();

      const health = await fetch(`${base}/healthz`);
      t.equal(health.status, 200, '/healthz');
      const metrics = await fetch(`${base}/metrics`);
      t.equal(metrics.status, 200, '/metrics');
      const body = await metrics.text();
      t.match(body, /^rds_csi_build_info\{/m, 'build info is exported');
      t.match(body, /csi_operations|rds_csi_/, 'driver metrics are exported');

      const uid = await podman(['exec', name, 'id', '-u']);
      t.not(uid.stdout.trim(), '0', 'the controller does not run as root');

      const stop = await podman(['stop', '--time', '30', name], 60_000);
      t.equal(stop.status, 0, stop.stderr);
      const exit = await podman(['inspect', '--format', '{{.State.ExitCode}}', name]);
      t.equal(exit.stdout.trim(), '0', 'exit status after SIGTERM');
      t.notOk(existsSync(socket), 'the socket is removed on shutdown');
    },
  );
}
