import { generateSshKeyPair } from '../../../src/sim/keys';
import t from 'tap';
import * as net from 'node:net';
import { rdsChecks, type RdsCheckOptions } from '../../../src/doctor/rds-checks';
import { startSim } from '../../../src/sim';

const client = generateSshKeyPair();
const stranger = generateSshKeyPair();

async function sim(t: { teardown(fn: () => Promise<void>): void }, version?: string) {
  const s = await startSim({ authorizedKeys: [client.public], ...(version ? { version } : {}) });
  t.teardown(() => s.stop());
  return s;
}

function opts(
  s: { host: string; port: number; hostKeyFingerprint: string },
  extra: Partial<RdsCheckOptions> = {},
): RdsCheckOptions {
  return {
    host: s.host,
    port: s.port,
    user: 'admin',
    privateKey: client.private,
    hostKeyFingerprint: s.hostKeyFingerprint,
    insecureSkipHostKey: false,
    poolPath: 'storage-pool/k8s',
    timeoutMs: 10_000,
    ...extra,
  };
}

const byName = (rs: { name: string; status: string; detail: string; fix?: string }[]) =>
  Object.fromEntries(rs.map((r) => [r.name, r]));

t.test('a healthy simulator passes every check', async (t) => {
  const s = await sim(t);
  const rs = await rdsChecks(opts(s));
  t.same(
    rs.map((r) => [r.name, r.status]),
    [
      ['RDS reachable', 'pass'],
      ['RDS host key', 'pass'],
      ['RDS login', 'pass'],
      ['RouterOS version', 'pass'],
      ['pool path', 'pass'],
      ['pool free space', 'pass'],
    ],
  );
});

t.test('nothing listening: reachability fails with a fix, later checks are not run', async (t) => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  const rs = byName(
    await rdsChecks(opts({ host: '127.0.0.1', port, hostKeyFingerprint: 'SHA256:x' })),
  );
  t.equal(rs['RDS reachable']!.status, 'fail');
  t.match(rs['RDS reachable']!.detail, /ECONNREFUSED/);
  t.match(rs['RDS reachable']!.fix, /--rds-address/);
  t.match(rs['RDS login']!.detail, /not checked/);
});

t.test(
  'a wrong pin names both fingerprints; no pin is a warning with the value to pin',
  async (t) => {
    const s = await sim(t);
    const wrong = 'SHA256:' + 'B'.repeat(43);
    const rs = byName(await rdsChecks(opts(s, { hostKeyFingerprint: wrong })));
    t.equal(rs['RDS host key']!.status, 'fail');
    t.match(rs['RDS host key']!.detail, s.hostKeyFingerprint);
    t.match(rs['RDS host key']!.detail, wrong);
    const unpinned = byName(
      await rdsChecks(opts(s, { hostKeyFingerprint: undefined, insecureSkipHostKey: true })),
    );
    t.equal(unpinned['RDS host key']!.status, 'warn');
    t.match(unpinned['RDS host key']!.fix, `--rds-host-key-fingerprint ${s.hostKeyFingerprint}`);
  },
);

t.test('an unauthorized key fails login with the key-import fix', async (t) => {
  const s = await sim(t);
  const rs = byName(await rdsChecks(opts(s, { privateKey: stranger.private })));
  t.equal(rs['RDS login']!.status, 'fail');
  t.match(rs['RDS login']!.fix, /ssh-keys import/);
});

t.test('old RouterOS, a wrong pool and little free space', async (t) => {
  const old = await sim(t, '6.49.10');
  t.equal(byName(await rdsChecks(opts(old)))['RouterOS version']!.status, 'fail');
  const s = await sim(t);
  const wrongPool = byName(await rdsChecks(opts(s, { poolPath: 'otherpool/k8s' })));
  t.equal(wrongPool['pool path']!.status, 'fail');
  t.match(wrongPool['pool path']!.fix, /--rds-pool-path/);
  const tight = byName(await rdsChecks(opts(s, { minFreeBytes: 2 * 1024 ** 4 })));
  t.equal(tight['pool free space']!.status, 'warn');
});
