/** NodeGetInfo reports the configured topology key: the Go driver's in compatibility mode. */
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CsiServer } from '../../../src/csi/server';
import { RpcWrapper } from '../../../src/csi/handler';
import { KeyedLocks } from '../../../src/csi/locks';
import { nodeHandlers } from '../../../src/csi/node';
import { loadCsi } from '../../../src/csi/proto/load';
import { nullLogger } from '../../../src/observability/logger';
import { GO_TOPOLOGY_KEY } from '../../../src/domain/compat/mode';
import { FakeFabrics } from '../../fakes/fabrics';
import { FakeMounter } from '../../fakes/mounter';
import { csiClient } from '../../helpers/csi';

t.test('NodeGetInfo with the Go topology key', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-nodetopo-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const server = new CsiServer({
    endpoint: { kind: 'unix', path: path.join(dir, 'csi.sock') },
    logger: nullLogger(),
    gracePeriodMs: 200,
  });
  server.addService(
    loadCsi().grpcType.csi.v1.Node.service,
    nodeHandlers(new RpcWrapper({ logger: nullLogger(), locks: new KeyedLocks() }), {
      nodeId: 'worker-1',
      kubeletDir: dir,
      maxVolumesPerNode: 0,
      topologyKey: GO_TOPOLOGY_KEY,
      fabrics: new FakeFabrics(),
      mounter: new FakeMounter(() => false),
      host: { hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:h', hostid: 'h' },
    }),
  );
  const c = csiClient(await server.start());
  t.teardown(async () => {
    c.close();
    await server.stop();
  });
  const info = await c.node<{ node_id: string; accessible_topology: { segments: unknown } }>(
    'NodeGetInfo',
  );
  t.equal(info.node_id, 'worker-1');
  t.same(info.accessible_topology.segments, { 'topology.rds.csi.srvlab.io/zone': 'default' });
});
