import t, { type Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsiServer } from '../../../src/csi/server';
import { RpcWrapper } from '../../../src/csi/handler';
import { KeyedLocks } from '../../../src/csi/locks';
import { identityHandlers } from '../../../src/csi/identity';
import { loadCsi } from '../../../src/csi/proto/load';
import { nullLogger } from '../../../src/observability/logger';
import { csiClient, codeOf } from '../../helpers/csi';

async function startIdentity(t: Test, socketPath: string, ready = true) {
  const server = new CsiServer({
    endpoint: { kind: 'unix', path: socketPath },
    logger: nullLogger(),
    gracePeriodMs: 500,
  });
  const rpc = new RpcWrapper({ logger: nullLogger(), locks: new KeyedLocks() });
  server.addService(
    loadCsi().grpcType.csi.v1.Identity.service,
    identityHandlers(rpc, {
      driverName: 'test.rds-csi.dev',
      version: '9.9.9',
      commit: 'abc123',
      controller: true,
      readiness: () =>
        Promise.resolve(ready ? { ready: true } : { ready: false, reason: 'rds down' }),
    }),
  );
  const address = await server.start();
  t.teardown(() => server.stop());
  return { server, address };
}

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'rds-csi-srv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('a real grpc-js client calls every Identity RPC over the unix socket', async (t) => {
  const sock = join(tempDir(t), 'csi.sock');
  const { address } = await startIdentity(t, sock);
  t.equal(address, `unix://${sock}`);
  t.equal(statSync(sock).mode & 0o777, 0o660, 'socket mode is 0660');
  const c = csiClient(address);
  t.teardown(() => c.close());

  const info = await c.identity<{
    name: string;
    vendor_version: string;
    manifest: Record<string, string>;
  }>('GetPluginInfo');
  t.equal(info.name, 'test.rds-csi.dev');
  t.equal(info.vendor_version, '9.9.9');
  t.same(info.manifest, { commit: 'abc123' });

  const caps = await c.identity<{ capabilities: unknown[] }>('GetPluginCapabilities');
  t.same(caps.capabilities, [
    { service: { type: 'CONTROLLER_SERVICE' }, type: 'service' },
    { service: { type: 'VOLUME_ACCESSIBILITY_CONSTRAINTS' }, type: 'service' },
    { volume_expansion: { type: 'ONLINE' }, type: 'volume_expansion' },
  ]);

  const probe = await c.identity<{ ready: { value: boolean } }>('Probe');
  t.same(probe.ready, { value: true });
});

t.test('Probe reports not ready from the readiness check', async (t) => {
  const sock = join(tempDir(t), 'csi.sock');
  const { address } = await startIdentity(t, sock, false);
  const c = csiClient(address);
  t.teardown(() => c.close());
  const probe = await c.identity<{ ready: { value: boolean } }>('Probe');
  t.same(probe.ready, { value: false });
});

t.test('an unknown RPC gets UNIMPLEMENTED', async (t) => {
  const sock = join(tempDir(t), 'csi.sock');
  const { address } = await startIdentity(t, sock);
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const call = (path: string) =>
    codeOf(
      new Promise((resolve, reject) =>
        client.makeUnaryRequest(
          path,
          (x: Buffer) => x,
          (x: Buffer) => x,
          Buffer.alloc(0),
          (err, res) => (err ? reject(err) : resolve(res)),
        ),
      ),
    );
  t.equal(await call('/csi.v1.Identity/NoSuchMethod'), grpc.status.UNIMPLEMENTED);
  t.equal(
    await call('/csi.v1.Controller/CreateVolume'),
    grpc.status.UNIMPLEMENTED,
    'service not registered',
  );
});

/** Sends one raw HTTP/2 gRPC request with the given :authority (or none). */
function rawCall(
  session: http2.ClientHttp2Session,
  authority: string | undefined,
  extra: Record<string, string> = {},
) {
  return new Promise<{ grpcStatus: string | undefined; rst: number; body: Buffer }>((resolve) => {
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': '/csi.v1.Identity/GetPluginInfo',
      'content-type': 'application/grpc',
      te: 'trailers',
      ...extra,
    };
    if (authority !== undefined) headers[':authority'] = authority;
    const req = session.request(headers);
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    req.on('response', (h) => {
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    });
    req.on('trailers', (h) => {
      grpcStatus = String(h['grpc-status']);
    });
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('error', () => undefined);
    req.on('close', () =>
      resolve({ grpcStatus, rst: req.rstCode ?? 0, body: Buffer.concat(chunks) }),
    );
    req.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

t.test(':authority from old and new clients: localhost, the socket path, none', async (t) => {
  const sock = join(tempDir(t), 'csi.sock');
  await startIdentity(t, sock);
  const session = http2.connect('http://localhost', { createConnection: () => net.connect(sock) });
  t.teardown(() => session.close());
  for (const authority of [
    'localhost',
    sock,
    undefined,
    sock,
    '%2Ftmp%2Fcsi.sock',
    'unix:' + sock,
  ]) {
    const r = await rawCall(session, authority);
    t.equal(r.rst, 0, `no stream reset for ${String(authority)}`);
    t.equal(r.grpcStatus, '0', `grpc OK for ${String(authority)}`);
    t.match(r.body.toString('latin1'), /test\.rds-csi\.dev/);
  }
  // A header block larger than one frame arrives in CONTINUATION frames and survives.
  const big = await rawCall(session, sock, { 'x-padding': 'p'.repeat(40_000) });
  t.equal(big.grpcStatus, '0', 'large header block with a path authority');
});

t.test('a grpc-js client that sends the socket path as authority works', async (t) => {
  const sock = join(tempDir(t), 'csi.sock');
  const { address } = await startIdentity(t, sock);
  const c = csiClient(address, { 'grpc.default_authority': sock });
  t.teardown(() => c.close());
  for (let i = 0; i < 3; i++) {
    const info = await c.identity<{ name: string }>('GetPluginInfo');
    t.equal(info.name, 'test.rds-csi.dev');
  }
});

t.test('stale socket is removed; a live one or a non-socket file is refused', async (t) => {
  const dir = tempDir(t);
  const stale = join(dir, 'stale.sock');
  // A process that dies without cleaning up leaves its socket file behind.
  const child = spawn(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`,
  ]);
  await new Promise((r) => child.stdout.once('data', r));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  t.ok(existsSync(stale));
  const { address } = await startIdentity(t, stale);
  const c = csiClient(address);
  t.teardown(() => c.close());
  t.equal((await c.identity<{ name: string }>('GetPluginInfo')).name, 'test.rds-csi.dev');

  const again = new CsiServer({ endpoint: { kind: 'unix', path: stale }, logger: nullLogger() });
  await t.rejects(again.start(), /already serving/);

  const file = join(dir, 'file.sock');
  writeFileSync(file, 'not a socket');
  const onFile = new CsiServer({ endpoint: { kind: 'unix', path: file }, logger: nullLogger() });
  await t.rejects(onFile.start(), /not a socket/);
  t.ok(existsSync(file), 'a regular file is never deleted');
});

t.test('stop removes the socket and is idempotent', async (t) => {
  const sock = join(tempDir(t), 'csi.sock');
  const { server } = await startIdentity(t, sock);
  t.ok(existsSync(sock));
  await Promise.all([server.stop(), server.stop()]);
  t.notOk(existsSync(sock));
});

t.test('tcp endpoints work too', async (t) => {
  const server = new CsiServer({
    endpoint: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    logger: nullLogger(),
  });
  const rpc = new RpcWrapper({ logger: nullLogger(), locks: new KeyedLocks() });
  server.addService(
    loadCsi().grpcType.csi.v1.Identity.service,
    identityHandlers(rpc, {
      driverName: 'tcp.test',
      version: '1',
      commit: 'x',
      controller: false,
      readiness: () => Promise.resolve({ ready: true }),
    }),
  );
  const address = await server.start();
  t.teardown(() => server.stop());
  t.match(address, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  const c = csiClient(address.replace('tcp://', ''));
  t.teardown(() => c.close());
  const caps = await c.identity<{ capabilities: { type: string }[] }>('GetPluginCapabilities');
  t.equal(caps.capabilities.length, 2, 'no CONTROLLER_SERVICE in node mode');
});
