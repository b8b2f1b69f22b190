/**
 * The CSI conformance suite against the driver on its unix socket (controller on rds-sim
 * over SSH; node on fake kernel interfaces, as the summary says). Run against another
 * endpoint with: node dist/test/conformance/cli.js --endpoint unix:///path.sock
 */
import t from 'tap';
import { csiClient } from '../helpers/csi';
import { startConformanceDriver } from './driver';
import { runSuite } from './suite';

for (const accessType of ['mount', 'block'] as const) {
  t.test(`conformance (${accessType} volumes)`, async (t) => {
    const driver = await startConformanceDriver({ accessType });
    t.teardown(() => driver.stop());
    const client = csiClient(driver.address);
    t.teardown(() => client.close());
    await runSuite(t, client, driver.params);
  });
}
