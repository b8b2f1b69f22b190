import t from 'tap';
import {
  settleVolume,
  vaPhase,
  type VaRecord,
} from '../../../../src/controller/attachments/settle';
import type { VolumeState } from '../../../../src/domain/attachment';

const rec = (nodeId: string, phase: VaRecord['phase'], createdAt = 1000): VaRecord => ({
  volumeId: 'v',
  nodeId,
  createdAt,
  multiNode: true,
  block: true,
  migrationTimeoutMs: 60_000,
  fencing: false,
  phase,
});

const held = (...nodes: string[]): VolumeState => ({
  volumeId: 'v',
  attachments: nodes.map((nodeId, i) => ({ nodeId, attachedAt: 10 + i })),
  fencing: false,
});

const nodes = (s: VolumeState | undefined) => s?.attachments.map((a) => a.nodeId) ?? [];

t.test('phases of a VolumeAttachment', async (t) => {
  t.equal(vaPhase({ attached: true, deleting: false }), 'attached');
  t.equal(vaPhase({ attached: false, deleting: false }), 'attaching');
  t.equal(vaPhase({ attached: true, deleting: true }), 'detaching');
  t.equal(vaPhase({ attached: false, deleting: true }), undefined, 'detach done');
});

t.test('what a replica holds, per phase and per what it held', async (t) => {
  const cases: Array<[string, VolumeState | undefined, VaRecord[], string[]]> = [
    ['stale memory is replaced by the attached VA', held('a'), [rec('b', 'attached')], ['b']],
    ['no VA any more: nothing held', held('a'), [], []],
    ['own attach in flight is kept', held('b'), [rec('b', 'attaching')], ['b']],
    ['another replica’s attach is not claimed', undefined, [rec('b', 'attaching')], []],
    ['fresh start keeps an unconfirmed detach', undefined, [rec('a', 'detaching')], ['a']],
    ['a detach done here is not undone', held(), [rec('a', 'detaching')], []],
    ['a detach not done here is still held', held('a'), [rec('a', 'detaching')], ['a']],
    [
      'a migration from both attached VAs',
      undefined,
      [rec('a', 'attached', 1000), rec('b', 'attached', 2000)],
      ['a', 'b'],
    ],
  ];
  for (const [what, cur, records, want] of cases)
    t.same(nodes(settleVolume('v', cur, records)), want, what);
});

t.test('a node detached and attached again between two looks starts a new migration', async (t) => {
  const before: VolumeState = {
    ...held('a', 'b'),
    migration: { source: 'a', target: 'b', startedAt: 11, timeoutMs: 60_000 },
  };
  const next = settleVolume('v', before, [rec('b', 'attached', 1000), rec('a', 'attached', 2000)]);
  t.same(nodes(next), ['b', 'a']);
  t.match(next?.migration, { source: 'b', target: 'a', startedAt: 2000 });
});

t.test('unchanged nodes keep the very state; a migration keeps its exact start', async (t) => {
  const cur = held('a');
  t.equal(settleVolume('v', cur, [rec('a', 'attached')]), cur, 'same object');
  const idle: VolumeState = { ...held(), lastDetach: { nodeId: 'a', at: 5 } };
  t.equal(settleVolume('v', idle, []), idle, 'an idle state with its last detach stays');
  const migrating: VolumeState = {
    ...held('a'),
    migration: { source: 'a', target: 'b', startedAt: 1234, timeoutMs: 60_000, failedAt: 9999 },
  };
  const next = settleVolume('v', migrating, [rec('a', 'attached', 1), rec('b', 'attached', 2)]);
  t.same(nodes(next), ['a', 'b']);
  t.equal(next?.migration?.startedAt, 1234);
  t.equal(next?.migration?.failedAt, 9999);
});
