import t from 'tap';
import {
  parseAttachmentParams,
  pvcFromContext,
  rebuildState,
  transition,
  type AttachedRecord,
} from '../../../../src/domain/attachment';
import { T0, V } from './fixtures';

const rec = (
  nodeId: string,
  createdAt: number,
  over: Partial<AttachedRecord> = {},
): AttachedRecord => ({
  volumeId: V,
  nodeId,
  createdAt,
  multiNode: true,
  block: true,
  migrationTimeoutMs: 120_000,
  fencing: false,
  ...over,
});

t.test('one VA → one attachment; two (RWX block) → migration from the later VA', async (t) => {
  const one = rebuildState([rec('a', T0)]);
  t.same(one.states.get(V)?.attachments, [{ nodeId: 'a', attachedAt: T0 }]);
  t.equal(one.states.get(V)?.migration, undefined);
  const two = rebuildState([rec('b', T0 + 5000), rec('a', T0)]);
  t.same(two.states.get(V)?.migration, {
    source: 'a',
    target: 'b',
    startedAt: T0 + 5000,
    timeoutMs: 120_000,
  });
  t.same(two.drift, []);
  // The rebuilt window is enforced by the next tick.
  const late = transition(
    two.states.get(V),
    { kind: 'tick', volumeId: V, graceMs: 1 },
    T0 + 5000 + 120_000,
  );
  t.equal(late.state?.migration?.failedAt, T0 + 125_000);
});

t.test('more VAs than allowed: newest kept, drift reported', async (t) => {
  const sw = rebuildState([
    rec('a', T0, { multiNode: false }),
    rec('b', T0 + 1, { multiNode: false }),
  ]);
  t.same(
    sw.states.get(V)?.attachments.map((a) => a.nodeId),
    ['b'],
  );
  t.match(sw.drift[0], /attached to 2 nodes \(a, b\); at most 1/);
  const three = rebuildState([rec('a', T0), rec('b', T0 + 1), rec('c', T0 + 2)]);
  t.same(three.states.get(V)?.migration?.source, 'b');
  t.equal(three.drift.length, 1);
  const dup = rebuildState([rec('a', T0), rec('a', T0 + 1)]);
  t.equal(dup.states.get(V)?.attachments.length, 1, 'duplicate records of one node count once');
});

t.test('attachment parameters: defaults, range, fencing flag', async (t) => {
  t.same(parseAttachmentParams(undefined), { migrationTimeoutMs: 300_000, fencing: false });
  t.same(parseAttachmentParams({ migrationTimeoutSeconds: '30', hostFencing: 'True' }), {
    migrationTimeoutMs: 30_000,
    fencing: true,
  });
  t.same(parseAttachmentParams({ migrationTimeoutSeconds: '3600' }).migrationTimeoutMs, 3_600_000);
  for (const bad of ['29', '3601', '1.5', '-30', 'abc']) {
    t.throws(
      () => parseAttachmentParams({ migrationTimeoutSeconds: bad }),
      { code: 'invalid-argument' },
      bad,
    );
  }
  t.throws(() => parseAttachmentParams({ hostFencing: 'yes' }), { code: 'invalid-argument' });
  t.same(
    pvcFromContext({
      'csi.storage.k8s.io/pvc/name': 'p',
      'csi.storage.k8s.io/pvc/namespace': 'ns',
    }),
    {
      namespace: 'ns',
      name: 'p',
    },
  );
  t.equal(pvcFromContext({ 'csi.storage.k8s.io/pvc/name': 'p' }), undefined);
});
