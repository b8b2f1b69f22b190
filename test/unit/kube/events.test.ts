import t from 'tap';
import { EventRecorder } from '../../../src/kube/events';
import { KubeApiError, type KubeEventSpec, type ObjectRef } from '../../../src/kube/ports';
import { nullLogger } from '../../../src/observability/logger';
import { createMetrics } from '../../../src/observability/metrics';

const spec = (reason: string): KubeEventSpec => ({ type: 'Normal', reason, message: 'm' });
const pvc: ObjectRef = { kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'c' };

t.test('post never waits; bounded queue drops and counts; namespace always set', async (t) => {
  const metrics = createMetrics({ version: 't', commit: 't', processMetrics: false });
  const sent: Array<{ ns: string; ref: ObjectRef; reason: string }> = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const rec = new EventRecorder({
    api: {
      async create(ns, ref, s) {
        await gate;
        if (s.reason === 'Fail') throw new KubeApiError(500, 'boom');
        sent.push({ ns, ref, reason: s.reason });
        return s.reason;
      },
      repeat: () => Promise.reject(new Error('no repeats here')),
    },
    logger: nullLogger(),
    metrics,
    capacity: 2,
    defaultNamespace: 'kube-system',
  });
  const t0 = process.hrtime.bigint();
  rec.post(pvc, spec('A')); // taken by the worker at once
  rec.post({ kind: 'PersistentVolume', name: 'pv1' }, spec('B'));
  rec.post(pvc, spec('Fail'));
  rec.post(pvc, spec('Dropped'));
  t.ok(process.hrtime.bigint() - t0 < 1_000_000_000n, 'post returned without waiting on the API');
  release();
  await rec.flush();
  t.same(sent, [
    { ns: 'ns', ref: pvc, reason: 'A' },
    { ns: 'kube-system', ref: { kind: 'PersistentVolume', name: 'pv1' }, reason: 'B' },
  ]);
  const dropped = await metrics.eventsDropped.get();
  const by = Object.fromEntries(dropped.values.map((v) => [String(v.labels.reason), v.value]));
  t.same(by, { queue_full: 1, api_error: 1 });
  const posted = await metrics.eventsPosted.get();
  t.same(posted.values.map((v) => [v.labels.reason, v.value]).sort(), [
    ['A', 1],
    ['B', 1],
  ]);
});

t.test(
  'lazy targets resolve in the worker; unresolvable and namespace-less are dropped',
  async (t) => {
    const metrics = createMetrics({ version: 't', commit: 't', processMetrics: false });
    const sent: string[] = [];
    const rec = new EventRecorder({
      api: {
        create: async (ns, ref) => String(sent.push(`${ns}/${ref.name}`)),
        repeat: () => Promise.reject(new Error('no repeats here')),
      },
      logger: nullLogger(),
      metrics,
    });
    rec.postTo(async () => pvc, spec('Lazy'));
    rec.postTo(async () => undefined, spec('Nobody'));
    rec.postTo(async () => Promise.reject(new Error('lookup failed')), spec('Err'));
    rec.post({ kind: 'PersistentVolumeClaim', name: 'no-ns' }, spec('NoNs'));
    await rec.stop();
    rec.post(pvc, spec('AfterStop'));
    t.same(sent, ['ns/c']);
    const dropped = await metrics.eventsDropped.get();
    const by = Object.fromEntries(dropped.values.map((v) => [String(v.labels.reason), v.value]));
    t.same(by, { no_target: 2, api_error: 1, stopped: 1 });
  },
);
