import t, { type Test } from 'tap';
import { status } from '@grpc/grpc-js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CsiServer } from '../../../src/csi/server';
import { RpcWrapper } from '../../../src/csi/handler';
import { KeyedLocks } from '../../../src/csi/locks';
import { nodeHandlers } from '../../../src/csi/node';
import { loadCsi } from '../../../src/csi/proto/load';
import { TOPOLOGY_KEY } from '../../../src/domain/topology';
import { nullLogger } from '../../../src/observability/logger';
import { csiClient, codeOf } from '../../helpers/csi';
import { FakeFabrics } from '../../fakes/fabrics';
import { FakeMounter } from '../../fakes/mounter';
import { NQN } from './setup';

async function start(t: Test) {
  const kubelet = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-nodesvc-'));
  t.teardown(() => fs.rmSync(kubelet, { recursive: true, force: true }));
  const fabrics = new FakeFabrics();
  const mounter = new FakeMounter((d) => fabrics.devices().includes(d));
  const server = new CsiServer({
    endpoint: { kind: 'unix', path: path.join(kubelet, 'csi.sock') },
    logger: nullLogger(),
    gracePeriodMs: 200,
  });
  const rpc = new RpcWrapper({ logger: nullLogger(), locks: new KeyedLocks() });
  server.addService(
    loadCsi().grpcType.csi.v1.Node.service,
    nodeHandlers(rpc, {
      nodeId: 'node-a',
      kubeletDir: kubelet,
      maxVolumesPerNode: 17,
      fabrics,
      mounter,
      host: { hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:h', hostid: 'h' },
      sleep: () => Promise.resolve(),
    }),
  );
  const address = await server.start();
  t.teardown(() => server.stop());
  const c = csiClient(address);
  t.teardown(() => c.close());
  const staging = path.join(kubelet, 'plugins/kubernetes.io/csi/x/globalmount');
  const target = path.join(kubelet, 'pods/u/volumes/kubernetes.io~csi/pvc/mount');
  return { c, fabrics, mounter, kubelet, staging, target };
}

const mountCap = {
  mount: { fs_type: 'xfs', mount_flags: [] },
  access_mode: { mode: 'SINGLE_NODE_WRITER' },
};
const context = { nqn: NQN, traddr: '10.0.0.5', trsvcid: '4420' };

t.test('capabilities and node info', async (t) => {
  const { c } = await start(t);
  const caps = await c.node<{ capabilities: { rpc: { type: string } }[] }>('NodeGetCapabilities');
  t.same(caps.capabilities.map((x) => x.rpc.type).sort(), [
    'EXPAND_VOLUME',
    'GET_VOLUME_STATS',
    'SINGLE_NODE_MULTI_WRITER',
    'STAGE_UNSTAGE_VOLUME',
    'VOLUME_CONDITION',
  ]);
  const info = await c.node<{
    node_id: string;
    max_volumes_per_node: string;
    accessible_topology: { segments: Record<string, string> };
  }>('NodeGetInfo');
  t.equal(info.node_id, 'node-a');
  t.equal(info.max_volumes_per_node, '17');
  t.same(info.accessible_topology.segments, { [TOPOLOGY_KEY]: 'default' });
});

t.test('bad input → INVALID_ARGUMENT', async (t) => {
  const { c, kubelet, staging, target } = await start(t);
  const stage = {
    volume_id: 'pvc',
    staging_target_path: staging,
    volume_capability: mountCap,
    volume_context: context,
  };
  const cases: [string, string, Record<string, unknown>][] = [
    ['stage: no id', 'NodeStageVolume', { ...stage, volume_id: '' }],
    ['stage: no path', 'NodeStageVolume', { ...stage, staging_target_path: '' }],
    ['stage: no capability', 'NodeStageVolume', { ...stage, volume_capability: undefined }],
    [
      'stage: no access type',
      'NodeStageVolume',
      { ...stage, volume_capability: { access_mode: { mode: 'SINGLE_NODE_WRITER' } } },
    ],
    ['stage: no access mode', 'NodeStageVolume', { ...stage, volume_capability: { mount: {} } }],
    [
      'stage: path outside kubelet dir',
      'NodeStageVolume',
      { ...stage, staging_target_path: '/etc/x' },
    ],
    [
      'stage: path escaping via ..',
      'NodeStageVolume',
      { ...stage, staging_target_path: `${kubelet}/../etc` },
    ],
    ['stage: relative path', 'NodeStageVolume', { ...stage, staging_target_path: 'plugins/x' }],
    [
      'stage: bad fs type',
      'NodeStageVolume',
      { ...stage, volume_capability: { ...mountCap, mount: { fs_type: 'btrfs' } } },
    ],
    [
      'stage: bad mount flag',
      'NodeStageVolume',
      { ...stage, volume_capability: { ...mountCap, mount: { mount_flags: ['a b'] } } },
    ],
    [
      'stage: bind flag',
      'NodeStageVolume',
      { ...stage, volume_capability: { ...mountCap, mount: { mount_flags: ['bind'] } } },
    ],
    ['stage: no context', 'NodeStageVolume', { ...stage, volume_context: {} }],
    [
      'stage: bad port',
      'NodeStageVolume',
      { ...stage, volume_context: { ...context, trsvcid: '99999' } },
    ],
    [
      'publish: no target',
      'NodePublishVolume',
      { volume_id: 'pvc', staging_target_path: staging, volume_capability: mountCap },
    ],
    [
      'publish: target == staging',
      'NodePublishVolume',
      {
        volume_id: 'pvc',
        staging_target_path: staging,
        target_path: staging,
        volume_capability: mountCap,
      },
    ],
    [
      'publish: no capability',
      'NodePublishVolume',
      { volume_id: 'pvc', staging_target_path: staging, target_path: target },
    ],
    ['unpublish: no id', 'NodeUnpublishVolume', { target_path: target }],
    ['unpublish: outside', 'NodeUnpublishVolume', { volume_id: 'pvc', target_path: '/var/tmp/x' }],
    ['unstage: no path', 'NodeUnstageVolume', { volume_id: 'pvc' }],
    ['expand: no path', 'NodeExpandVolume', { volume_id: 'pvc' }],
    [
      'expand: bad size',
      'NodeExpandVolume',
      { volume_id: 'pvc', volume_path: target, capacity_range: { required_bytes: '-1' } },
    ],
    ['stats: no id', 'NodeGetVolumeStats', { volume_path: target }],
  ];
  for (const [name, method, req] of cases) {
    t.equal(await codeOf(c.node(method, req)), status.INVALID_ARGUMENT, name);
  }
});

t.test(
  'stats and expand: a path that holds no volume is NOT_FOUND, an empty one INVALID_ARGUMENT',
  async (t) => {
    const { c, kubelet } = await start(t);
    for (const method of ['NodeGetVolumeStats', 'NodeExpandVolume']) {
      for (const volume_path of [
        'some/path',
        '/path/does/not/exist',
        `${kubelet}/../etc`,
        `${kubelet}/pods/does-not-exist`,
      ]) {
        t.equal(
          await codeOf(c.node(method, { volume_id: 'pvc', volume_path })),
          status.NOT_FOUND,
          `${method} ${volume_path}`,
        );
      }
      t.equal(
        await codeOf(c.node(method, { volume_id: 'pvc', volume_path: '' })),
        status.INVALID_ARGUMENT,
        `${method} without a path`,
      );
      t.equal(
        await codeOf(c.node(method, { volume_path: 'some/path' })),
        status.INVALID_ARGUMENT,
        `${method} without a volume id`,
      );
    }
    t.equal(
      await codeOf(
        c.node('NodeStageVolume', {
          volume_id: 'pvc',
          staging_target_path: 'some/path',
          volume_capability: mountCap,
          volume_context: context,
        }),
      ),
      status.INVALID_ARGUMENT,
      'stage still refuses a path it would create outside the kubelet dir',
    );
  },
);

t.test('a full mount lifecycle over gRPC, with the spec codes on the way', async (t) => {
  const { c, fabrics, mounter, staging, target } = await start(t);
  const pub = {
    volume_id: 'pvc',
    staging_target_path: staging,
    target_path: target,
    volume_capability: mountCap,
  };
  t.equal(
    await codeOf(c.node('NodePublishVolume', pub)),
    status.FAILED_PRECONDITION,
    'publish before stage',
  );
  t.equal(
    await codeOf(c.node('NodeGetVolumeStats', { volume_id: 'pvc', volume_path: target })),
    status.NOT_FOUND,
    'stats of an unknown volume',
  );
  const stage = {
    volume_id: 'pvc',
    staging_target_path: staging,
    volume_capability: mountCap,
    volume_context: context,
  };
  await c.node('NodeStageVolume', stage);
  await c.node('NodeStageVolume', stage);
  t.ok(mounter.calls.some((x) => x.startsWith('mount /dev/nvme0n1') && x.includes(' xfs')));
  t.equal(
    await codeOf(c.node('NodeStageVolume', { ...stage, staging_target_path: `${staging}2` })),
    status.FAILED_PRECONDITION,
    'stage at another path',
  );
  await c.node('NodePublishVolume', pub);
  await c.node('NodePublishVolume', pub);
  const stats = await c.node<{
    usage: { unit: string; total: string }[];
    volume_condition: { abnormal: boolean };
  }>('NodeGetVolumeStats', { volume_id: 'pvc', volume_path: target });
  t.same(
    stats.usage.map((u) => u.unit),
    ['BYTES', 'INODES'],
  );
  t.equal(stats.usage[0]?.total, '1000');
  t.equal(stats.volume_condition.abnormal, false);
  fabrics.pendingSize.set(NQN, 2 * 1024 ** 3);
  const exp = await c.node<{ capacity_bytes: string }>('NodeExpandVolume', {
    volume_id: 'pvc',
    volume_path: target,
    capacity_range: { required_bytes: String(2 * 1024 ** 3) },
  });
  t.equal(exp.capacity_bytes, String(2 * 1024 ** 3));
  t.equal(
    await codeOf(c.node('NodeUnstageVolume', { volume_id: 'pvc', staging_target_path: staging })),
    status.FAILED_PRECONDITION,
    'unstage while published',
  );
  await c.node('NodeUnpublishVolume', { volume_id: 'pvc', target_path: target });
  await c.node('NodeUnpublishVolume', { volume_id: 'pvc', target_path: target });
  await c.node('NodeUnstageVolume', { volume_id: 'pvc', staging_target_path: staging });
  await c.node('NodeUnstageVolume', { volume_id: 'pvc', staging_target_path: staging });
  t.same(mounter.table, []);
  t.equal(fabrics.conns.size, 0);
  t.equal(
    await codeOf(c.node('NodeExpandVolume', { volume_id: 'pvc', volume_path: target })),
    status.NOT_FOUND,
  );
});

t.test('block lifecycle over gRPC with a read-only access mode', async (t) => {
  const { c, mounter, staging, target } = await start(t);
  const cap = { block: {}, access_mode: { mode: 'SINGLE_NODE_READER_ONLY' } };
  await c.node('NodeStageVolume', {
    volume_id: 'b',
    staging_target_path: staging,
    volume_capability: cap,
    volume_context: context,
  });
  await c.node('NodePublishVolume', {
    volume_id: 'b',
    staging_target_path: staging,
    target_path: target,
    volume_capability: cap,
  });
  t.ok(mounter.calls.includes(`bind /dev/nvme0n1 ${target} ro`));
  t.ok(fs.statSync(target).isFile());
});
