import t from 'tap';
import { InternalError, NotFoundError, UnavailableError } from '../../../src/domain/errors';
import { isGoneError, mapConnectError, mapControllerWriteError } from '../../../src/nvme/errors';
import { isNativeError } from '../../../src/nvme/native';
import { nativeError } from './fake-addon';

const ctx = {
  nqn: 'nqn.2000-02.com.mikrotik:pvc-a',
  traddr: '10.0.0.5',
  trsvcid: 4420,
  hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:x',
  fabricsPath: '/dev/nvme-fabrics',
};

t.test('connect errno table', async (t) => {
  const table: [string, string, string, RegExp][] = [
    ['ECONNREFUSED', 'write', 'unavailable', /not listening at 10\.0\.0\.5:4420/],
    [
      'EIO',
      'write',
      'unavailable',
      /either the subsystem NQN does not exist there, or host nqn\.2014-08\.org\.nvmexpress:uuid:x is not in its allowed hosts/,
    ],
    ['EINVAL', 'write', 'internal', /option string/],
    ['ENOENT', 'open', 'failed-precondition', /\/dev\/nvme-fabrics is missing.*modprobe nvme-tcp/],
    ['ENODEV', 'open', 'failed-precondition', /not loaded/],
    ['ENOENT', 'write', 'internal', /ENOENT in write/],
    ['EACCES', 'open', 'failed-precondition', /privileged/],
    ['EPERM', 'open', 'failed-precondition', /privileged/],
    ['EHOSTUNREACH', 'write', 'unavailable', /cannot reach/],
    ['EPROTO', 'read', 'internal', /EPROTO in read/],
  ];
  for (const [code, syscall, domain, msg] of table) {
    const e = mapConnectError(nativeError(code, syscall), ctx);
    t.equal(e.code, domain, `${code} in ${syscall}`);
    t.match(e.message, msg, code);
    t.match(e.context, { nqn: ctx.nqn, errno: code });
    t.ok(isNativeError(e.cause));
  }
  const passthrough = new UnavailableError('x');
  t.equal(mapConnectError(passthrough, ctx), passthrough);
  t.type(mapConnectError(new Error('odd'), ctx), InternalError);
});

t.test('controller write errors', async (t) => {
  t.type(mapControllerWriteError(nativeError('ENOENT', 'open'), 'rescan', 3), NotFoundError);
  t.equal(
    mapControllerWriteError(nativeError('EROFS', 'open'), 'rescan', 3).code,
    'failed-precondition',
  );
  t.equal(mapControllerWriteError(nativeError('EBUSY'), 'rescan', 3).code, 'unavailable');
  t.match(mapControllerWriteError(new Error('x'), 'rescan', 3).message, /unknown error/);
  const d = new NotFoundError('x');
  t.equal(mapControllerWriteError(d, 'rescan', 3), d);
  t.ok(isGoneError(nativeError('ENODEV')));
  t.notOk(isGoneError(nativeError('EIO')));
  t.notOk(isGoneError(new Error('ENOENT')));
});
