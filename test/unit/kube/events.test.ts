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

t.test('repeats are counted on one event; an expired one is created again', async (t) => {
  const calls: string[] = [];
  let expired = false;
  let n = 0;
  const rec = new EventRecorder({
    api: {
      create: async (ns, ref, s) => {
        calls.push(`create ${ns}/${ref.uid ?? '-'}/${s.reason}`);
        return `e${++n}`;
      },
      repeat: async (ns, name, count) => {
        if (expired) throw new KubeApiError(404, 'gone');
        calls.push(`repeat ${ns}/${name} ${count}`);
      },
    },
    logger: nullLogger(),
    cacheSize: 2,
  });
  const claim: ObjectRef = { ...pvc, uid: 'u1' };
  rec.post(claim, spec('Conflict'));
  rec.post(claim, spec('Conflict'));
  rec.post(claim, spec('Conflict'));
  rec.post(claim, { ...spec('Conflict'), message: 'other' });
  rec.post({ ...claim, uid: 'u2' }, spec('Conflict'));
  await rec.flush();
  t.same(calls, [
    'create ns/u1/Conflict',
    'repeat ns/e1 2',
    'repeat ns/e1 3',
    'create ns/u1/Conflict',
    'create ns/u2/Conflict',
  ]);
  calls.length = 0;
  rec.post(claim, spec('Conflict')); // evicted (cache of 2): created anew
  expired = true;
  rec.post({ ...claim, uid: 'u2' }, spec('Conflict')); // 404 on repeat: created anew
  await rec.flush();
  t.same(calls, ['create ns/u1/Conflict', 'create ns/u2/Conflict']);
});
