/**
 * The CSI conformance suite against the driver on its unix socket (controller on rds-sim
 * over SSH; node on fake kernel interfaces, as the summary says). Run against another
 * endpoint with: node dist/test/conformance/cli.js --endpoint unix:///path.sock
 */
import t from 'tap';
import { csiClient } from '../helpers/csi';
import { startConformanceDriver } from './driver';
import { ALL_CASES, runSuite } from './suite';

for (const accessType of ['mount', 'block'] as const) {
  t.test(`conformance (${accessType} volumes)`, async (t) => {
    const driver = await startConformanceDriver({ accessType });
    t.teardown(() => driver.stop());
    const client = csiClient(driver.address);
    t.teardown(() => client.close());
    await runSuite(t, client, driver.params);
    t.same(await driver.remaining(), { disks: [], files: [] }, 'no disk or file left on the RDS');
  });
}

t.test('conformance with GET_SNAPSHOT advertised (the operator opted in)', async (t) => {
  const driver = await startConformanceDriver({ advertiseGetSnapshot: true });
  t.teardown(() => driver.stop());
  const client = csiClient(driver.address);
  t.teardown(() => client.close());
  const cases = ALL_CASES.filter((c) => /Capabilities|GetSnapshot/.test(c.name));
  t.ok(cases.length >= 3, 'the capability and GetSnapshot cases');
  await runSuite(t, client, driver.params, cases);
});
