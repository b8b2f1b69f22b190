import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config';

const base = ['--mode', 'controller', '--rds-address', 'rds', '--rds-key-file', '/k'];

t.test('--compat=rds-csi-go changes the defaults the Go driver fixed', async (t) => {
  const c = loadConfig([...base, '--compat', 'rds-csi-go', '--rds-host-key-file', '/h'], {});
  t.equal(c.compat, 'rds-csi-go');
  t.equal(c.driverName, 'rds.csi.srvlab.io');
  t.equal(c.topologyKey, 'topology.rds.csi.srvlab.io/zone');
  t.equal(c.topologyValue, 'default');
  t.equal(c.rds.poolPath, 'storage-pool/metal-csi');
  t.equal(c.rds.hostKeyFile, '/h');
  const own = loadConfig(
    [...base, '--rds-insecure-skip-host-key', '--driver-name', 'x.y', '--rds-pool-path', 'p/q'],
    { RDS_CSI_COMPAT: 'rds-csi-go' },
  );
  t.equal(own.driverName, 'x.y', 'an explicit flag still wins');
  t.equal(own.rds.poolPath, 'p/q');
});

t.test('without it, nothing changes; bad values are reported', async (t) => {
  const c = loadConfig([...base, '--rds-insecure-skip-host-key'], {});
  t.equal(c.compat, 'none');
  t.equal(c.driverName, 'rds-csi.dev');
  t.equal(c.topologyKey, 'rds-csi.dev/rds');
  t.throws(() => loadConfig([...base, '--compat', 'go'], {}), ConfigError);
  t.throws(
    () =>
      loadConfig(
        [
          ...base,
          '--rds-host-key-file',
          '/h',
          '--rds-host-key-fingerprint',
          'SHA256:' + 'A'.repeat(43),
        ],
        {},
      ),
    /either/,
  );
});
