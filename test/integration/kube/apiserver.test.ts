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
