/** The stand-in API server's own REST behaviour, over plain HTTP. */
import t from 'tap';
import { FakeKubeApiServer } from '../../fakes/kube-apiserver';

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  type = 'application/json',
) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': type },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown> & { metadata: Record<string, unknown> },
  };
}

t.test('CRUD, patch, errors and watch with 410 Gone', async (t) => {
  const s = new FakeKubeApiServer();
  const base = await s.start();
  t.teardown(() => s.stop());
  const pvcs = '/api/v1/namespaces/ns/persistentvolumeclaims';
  const created = await call(base, 'POST', pvcs, {
    metadata: { name: 'c1', labels: { a: '1' } },
    spec: {},
  });
  t.equal(created.status, 201);
  t.match(created.body, {
    kind: 'PersistentVolumeClaim',
    apiVersion: 'v1',
    metadata: { namespace: 'ns', uid: String },
  });
  t.match(await call(base, 'POST', pvcs, { metadata: { name: 'c1' } }), {
    status: 409,
    body: { reason: 'AlreadyExists', code: 409 },
  });
  t.match(await call(base, 'GET', `${pvcs}/nope`), {
    status: 404,
    body: { kind: 'Status', reason: 'NotFound' },
  });
  const patched = await call(
    base,
    'PATCH',
    `${pvcs}/c1`,
    { metadata: { labels: { a: null, b: '2' } } },
    'application/merge-patch+json',
  );
  t.same(patched.body.metadata.labels, { b: '2' });
  const stale = await call(base, 'PUT', `${pvcs}/c1`, {
    metadata: { name: 'c1', resourceVersion: created.body.metadata.resourceVersion },
  });
  t.equal(stale.status, 409, 'replace with an old resourceVersion conflicts');
  const list = await call(base, 'GET', pvcs);
  t.match(list.body, { kind: 'PersistentVolumeClaimList', items: [{ metadata: { name: 'c1' } }] });
  const rv = Number(list.body.metadata.resourceVersion);

  // Watch from a known resourceVersion replays later changes.
  t.match(await call(base, 'DELETE', `${pvcs}/c1`), { status: 200 });
  const ctl = new AbortController();
  const res = await fetch(`${base}${pvcs}?watch=true&resourceVersion=${rv}`, {
    signal: ctl.signal,
  });
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  t.match(JSON.parse(first.split('\n')[0]!), {
    type: 'DELETED',
    object: { metadata: { name: 'c1' } },
  });
  ctl.abort();

  s.compact();
  const gone = await fetch(`${base}${pvcs}?watch=true&resourceVersion=${rv}`);
  const line = JSON.parse((await gone.text()).split('\n')[0]!);
  t.match(line, { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  t.match(await call(base, 'GET', '/apis/unknown.io/v1/things'), { status: 404 });
});

t.test(
  'strict where a real API server is: fields, immutability, selectors, Lease times',
  async (t) => {
    const s = new FakeKubeApiServer();
    const base = await s.start();
    t.teardown(() => s.stop());
    const events = '/api/v1/namespaces/ns/events';
    const ev = (name: string, uid: string, extra: Record<string, unknown> = {}) => ({
      metadata: { name },
      involvedObject: { kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'c', uid },
      reason: 'R',
      type: 'Normal',
      message: 'm',
      count: 1,
      ...extra,
    });
    t.match(await call(base, 'POST', events, ev('e1', 'u1', { bogus: 1 })), {
      status: 400,
      body: { reason: 'BadRequest', message: /unknown field "bogus"/ },
    });
    t.match(await call(base, 'POST', events, ev('e1', 'u1')), { status: 201 });
    t.match(await call(base, 'POST', events, ev('e2', 'u2')), { status: 201 });
    t.match(
      await call(
        base,
        'PATCH',
        `${events}/e1`,
        { involvedObject: { uid: 'other' } },
        'application/merge-patch+json',
      ),
      { status: 422, body: { message: /involvedObject: Invalid value: field is immutable/ } },
    );
    t.match(
      await call(
        base,
        'PATCH',
        `${events}/e1`,
        { count: 2, lastTimestamp: '2026-01-01T00:00:00Z' },
        'application/merge-patch+json',
      ),
      { status: 200, body: { count: 2 } },
    );
    const sel = (q: string) =>
      call(base, 'GET', `${events}?fieldSelector=${encodeURIComponent(q)}`).then((r) =>
        (r.body.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name),
      );
    t.same(
      await sel('involvedObject.name=c,involvedObject.uid=u1'),
      ['e1'],
      'describe selects by uid',
    );
    t.same(await sel('involvedObject.uid!=u1'), ['e2']);
    t.match(await call(base, 'GET', `${events}?fieldSelector=spec.bogus%3Dx`), { status: 400 });

    const vas = '/apis/storage.k8s.io/v1/volumeattachments';
    const vaBody = {
      metadata: { name: 'va1' },
      spec: { attacher: 'd', nodeName: 'a', source: {} },
    };
    const made = await call(base, 'POST', vas, vaBody);
    t.match(
      await call(base, 'PUT', `${vas}/va1`, {
        ...made.body,
        spec: { ...vaBody.spec, nodeName: 'b' },
      }),
      { status: 422, body: { message: /spec: Invalid value: field is immutable/ } },
    );
    t.match(await call(base, 'PUT', `${vas}/va1`, { ...made.body, status: { attached: true } }), {
      status: 200,
    });

    const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases';
    t.match(
      await call(base, 'POST', leases, {
        metadata: { name: 'l' },
        spec: { renewTime: '2026-01-01T00:00:00Z' },
      }),
      { status: 400, body: { message: /not a MicroTime/ } },
    );
    t.match(
      await call(base, 'POST', leases, {
        metadata: { name: 'l' },
        spec: { leaseDurationSeconds: 0 },
      }),
      { status: 422 },
    );
    t.match(
      await call(base, 'POST', leases, {
        metadata: { name: 'l' },
        spec: {
          holderIdentity: 'a',
          renewTime: '2026-01-01T00:00:00.000000Z',
          leaseDurationSeconds: 15,
        },
      }),
      { status: 201 },
    );
  },
);

t.test('every watch client gets every VolumeAttachment event', async (t) => {
  const s = new FakeKubeApiServer();
  const base = await s.start();
  t.teardown(() => s.stop());
  const path = '/apis/storage.k8s.io/v1/volumeattachments?watch=true';
  const ctl = new AbortController();
  t.teardown(() => ctl.abort());
  const readers = await Promise.all(
    [1, 2, 3].map(async () => (await fetch(base + path, { signal: ctl.signal })).body!.getReader()),
  );
  s.put('volumeattachments', { metadata: { name: 'va1' }, spec: { attacher: 'd' } });
  s.put('volumeattachments', {
    metadata: { name: 'va1' },
    spec: { attacher: 'd' },
    status: { attached: true },
  });
  s.remove('volumeattachments', 'va1');
  for (const r of readers) {
    let text = '';
    while (text.split('\n').length < 4) text += new TextDecoder().decode((await r.read()).value);
    t.same(
      text
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { type: string }).type),
      ['ADDED', 'MODIFIED', 'DELETED'],
    );
  }
});

t.test('an outage answers 503 to everything and cuts the open watches', async (t) => {
  const s = new FakeKubeApiServer();
  const base = await s.start();
  t.teardown(() => s.stop());
  const nodes = '/api/v1/nodes';
  const watch = await fetch(`${base}${nodes}?watch=true`);
  const reader = watch.body!.getReader();
  t.equal(s.openWatches, 1);

  s.setDown(true);
  t.ok(s.isDown);
  t.equal(s.openWatches, 0, 'the watch is cut');
  await t.rejects(
    (async () => {
      for (;;) if ((await reader.read()).done) return;
    })(),
    'the client sees its watch stream break',
  );
  t.match(await call(base, 'GET', nodes), {
    status: 503,
    body: { kind: 'Status', reason: 'ServiceUnavailable', code: 503 },
  });
  t.match(await call(base, 'POST', nodes, { metadata: { name: 'n1' } }), { status: 503 });
  t.equal(s.get('nodes', 'n1'), undefined, 'a refused write changes nothing');
  const refusedWatch = await fetch(`${base}${nodes}?watch=true`);
  t.equal(refusedWatch.status, 503, 'a new watch is refused too');
  await refusedWatch.body?.cancel();
  t.equal(s.openWatches, 0);
  s.put('nodes', { metadata: { name: 'n2' } });

  s.setDown(false);
  const list = await call(base, 'GET', nodes);
  t.equal(list.status, 200, 'served again after the outage');
  t.same(
    (list.body.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name),
    ['n2'],
    'what was written directly during the outage is there',
  );
});
