import t from 'tap';
import { InvalidArgumentError, UnavailableError } from '../../../src/domain/errors';
import {
  buildConnectOptions,
  isTunableAttribute,
  isValidNqn,
  resolveTraddr,
} from '../../../src/nvme/options';
import { parseOptions } from './fake-addon';

const base = {
  traddr: '10.0.0.5',
  trsvcid: 4420,
  nqn: 'nqn.2000-02.com.mikrotik:pvc-1234',
  hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:0f7d3a52-1c4e-4b7a-9f0d-2e6c8b5a1d34',
  hostid: '0f7d3a52-1c4e-4b7a-9f0d-2e6c8b5a1d34',
};

t.test('builds the kernel option string with defaults: reconnect for ever', async (t) => {
  t.equal(
    buildConnectOptions(base),
    'transport=tcp,traddr=10.0.0.5,trsvcid=4420,nqn=nqn.2000-02.com.mikrotik:pvc-1234,' +
      `hostnqn=${base.hostnqn},hostid=${base.hostid},reconnect_delay=2,ctrl_loss_tmo=-1`,
  );
});

t.test('includes every tuning value in kernel order', async (t) => {
  const opts = buildConnectOptions({
    ...base,
    traddr: 'fd00::5',
    tuning: {
      nrIoQueues: 4,
      keepAliveTmoSec: 10,
      reconnectDelaySec: 1,
      ctrlLossTmoSec: 600,
      fastIoFailTmoSec: -1,
    },
  });
  t.same(Object.keys(parseOptions(opts)), [
    'transport',
    'traddr',
    'trsvcid',
    'nqn',
    'hostnqn',
    'hostid',
    'nr_io_queues',
    'keep_alive_tmo',
    'reconnect_delay',
    'ctrl_loss_tmo',
    'fast_io_fail_tmo',
  ]);
  t.match(
    opts,
    /traddr=fd00::5,.*nr_io_queues=4,keep_alive_tmo=10,reconnect_delay=1,ctrl_loss_tmo=600,fast_io_fail_tmo=-1$/,
  );
});

t.test('rejects every value that could inject an option', async (t) => {
  const bad: [string, Record<string, unknown>][] = [
    ['nqn with comma', { nqn: 'nqn.2000-02.com.mikrotik:a,hostnqn=x' }],
    ['nqn with equals', { nqn: 'nqn.2000-02.com.mikrotik:a=b' }],
    ['nqn with newline', { nqn: 'nqn.2000-02.com.mikrotik:a\nb' }],
    ['nqn with space', { nqn: 'nqn.2000-02.com.mikrotik:a b' }],
    ['nqn without prefix', { nqn: 'pvc-1' }],
    ['nqn too long', { nqn: `nqn.2000-02.com.mikrotik:${'a'.repeat(220)}` }],
    ['hostnqn with comma', { hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:x,y' }],
    ['hostid not a uuid', { hostid: 'abc' }],
    ['hostid upper case', { hostid: base.hostid.toUpperCase() }],
    ['traddr a name', { traddr: 'rds.local' }],
    ['traddr injection', { traddr: '10.0.0.5,nqn=x' }],
    ['port zero', { trsvcid: 0 }],
    ['port too big', { trsvcid: 70000 }],
    ['port fractional', { trsvcid: 4420.5 }],
    ['transport', { transport: 'rdma' }],
    ['queues', { tuning: { nrIoQueues: 0 } }],
    ['kato', { tuning: { keepAliveTmoSec: -1 } }],
    ['reconnect', { tuning: { reconnectDelaySec: 0 } }],
    ['loss', { tuning: { ctrlLossTmoSec: -2 } }],
    ['fast io fail NaN', { tuning: { fastIoFailTmoSec: Number.NaN } }],
  ];
  for (const [name, patch] of bad) {
    t.throws(() => buildConnectOptions({ ...base, ...patch }), InvalidArgumentError, name);
  }
});

t.test('NQN grammar', async (t) => {
  t.ok(isValidNqn('nqn.2000-02.com.mikrotik:pvc-0f7d3a52_x.y'));
  t.notOk(isValidNqn('nqn.2000-02.com.mikrotik:'));
  t.notOk(isValidNqn(''));
});

t.test('resolveTraddr keeps literals and resolves names, IPv4 first', async (t) => {
  const calls: string[] = [];
  const resolver = async (h: string) => {
    calls.push(h);
    return ['fd00::1', 'junk', '10.1.1.1'];
  };
  t.equal(await resolveTraddr('10.0.0.1', resolver), '10.0.0.1');
  t.equal(await resolveTraddr('::1', resolver), '::1');
  t.same(calls, []);
  t.equal(await resolveTraddr('rds.example', resolver), '10.1.1.1');
  t.equal(await resolveTraddr('v6.example', async () => ['fd00::2']), 'fd00::2');
  await t.rejects(resolveTraddr('bad,name', resolver), InvalidArgumentError);
  await t.rejects(
    resolveTraddr('empty.example', async () => []),
    InvalidArgumentError,
  );
  await t.rejects(
    resolveTraddr('down.example', async () => Promise.reject(new Error('ENOTFOUND'))),
    UnavailableError,
  );
});

t.test('tunable attribute allow-list', async (t) => {
  t.ok(isTunableAttribute('ctrl_loss_tmo'));
  t.ok(isTunableAttribute('fast_io_fail_tmo'));
  t.notOk(isTunableAttribute('delete_controller'));
  t.notOk(isTunableAttribute('../state'));
});
