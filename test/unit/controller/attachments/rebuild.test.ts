import t from 'tap';
import { rebuildFromKube } from '../../../../src/controller/attachments';
import type { PvInfo, VolumeAttachmentInfo } from '../../../../src/kube/ports';
import { nullLogger } from '../../../../src/observability/logger';
import { FakeNodes } from './setup';

const vaOf = (
  name: string,
  pvName: string | undefined,
  nodeName: string,
  over: Partial<VolumeAttachmentInfo> = {},
): VolumeAttachmentInfo => ({
  name,
  attacher: 'rds-csi.dev',
  nodeName,
  ...(pvName === undefined ? {} : { pvName }),
  attached: true,
  createdAt: 1000,
  deleting: false,
  ...over,
});

const pvOf = (name: string, handle: string, attrs: Record<string, string> = {}): PvInfo => ({
  name,
  driver: 'rds-csi.dev',
  volumeHandle: handle,
  accessModes: ['ReadWriteMany'],
  volumeMode: 'Block',
  volumeAttributes: attrs,
});

t.test('joins VAs with PVs and nodes; pending, foreign, broken and invalid inputs', async (t) => {
  const pvs = new Map<string, PvInfo>([
    ['pv1', pvOf('pv1', 'v1', { migrationTimeoutSeconds: '45', hostFencing: 'true' })],
    ['pv2', pvOf('pv2', 'v2', { migrationTimeoutSeconds: 'bogus' })],
    ['pv3', pvOf('pv3', 'v3')],
  ]);
  let lookups = 0;
  const nodes = new FakeNodes();
  nodes.add('a');
  const r = await rebuildFromKube({
    driverName: 'rds-csi.dev',
    volumeAttachments: () => [
      vaOf('x1', 'pv1', 'a'),
      vaOf('x2', 'pv1', 'b', { createdAt: 2000 }),
      vaOf('x3', 'pv2', 'a'),
      vaOf('x4', 'pv3', 'a', { attached: false }),
      vaOf('x5', 'pv3', 'b', { attached: false, deleting: true }),
      vaOf('x6', 'gone', 'a'),
      vaOf('x7', 'pv1', 'c', { attacher: 'other.csi' }),
      vaOf('x8', undefined, 'a'),
    ],
    pvs: {
      getPv: async (n) => {
        lookups++;
        return pvs.get(n);
      },
      getPvcUid: async () => undefined,
      findPvByHandle: async () => undefined,
    },
    nodes,
    logger: nullLogger(),
  });
  t.same(r.states.get('v1')?.migration, {
    source: 'a',
    target: 'b',
    startedAt: 2000,
    timeoutMs: 45_000,
  });
  t.equal(r.states.get('v1')?.fencing, true);
  t.equal(r.states.get('v1')?.attachments[0]?.hostNqn, 'nqn.2014-08.org.nvmexpress:uuid:host-a');
  t.equal(r.states.get('v1')?.attachments[1]?.hostNqn, undefined, 'node b unknown: no NQN');
  t.same(
    r.states.get('v2')?.attachments.map((a) => a.nodeId),
    ['a'],
    'invalid params fall back to defaults',
  );
  t.equal(r.states.has('v3'), false);
  t.same([...r.pending], ['v3'], 'attach in progress, not one being deleted');
  t.match(r.drift, [/x6 names PV gone/]);
  t.equal(lookups, 4, 'one lookup per PV');
});
