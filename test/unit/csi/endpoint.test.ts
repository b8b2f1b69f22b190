import t from 'tap';
import { formatEndpoint, parseEndpoint } from '../../../src/csi/endpoint';

t.test('parses unix and tcp endpoints', async (t) => {
  t.same(parseEndpoint('unix:///csi/csi.sock'), { kind: 'unix', path: '/csi/csi.sock' });
  t.same(parseEndpoint('unix:/csi/../x/csi.sock'), { kind: 'unix', path: '/x/csi.sock' });
  t.same(parseEndpoint('tcp://127.0.0.1:10000'), { kind: 'tcp', host: '127.0.0.1', port: 10000 });
  t.same(parseEndpoint('tcp://[::1]:9'), { kind: 'tcp', host: '::1', port: 9 });
  t.same(parseEndpoint('tcp://:9'), { kind: 'tcp', host: '0.0.0.0', port: 9 });
  t.equal(formatEndpoint({ kind: 'tcp', host: '::1', port: 9 }), 'tcp://[::1]:9');
  t.equal(formatEndpoint({ kind: 'unix', path: '/a.sock' }), 'unix:///a.sock');
});

t.test('rejects malformed endpoints with a reason', async (t) => {
  for (const bad of [
    'unix://relative.sock',
    'tcp://host',
    'tcp://h:99999',
    'http://x:1',
    '',
    'unix:///' + 'a'.repeat(120),
    'unix:///a\0b',
  ]) {
    const r = parseEndpoint(bad);
    t.ok('error' in r, `rejects ${JSON.stringify(bad.slice(0, 30))}`);
  }
});
