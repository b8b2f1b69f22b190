import {
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  readdirSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { runLine } from '../../../src/sim/cli';
import { createNvmetBackend, type NvmetOptions } from '../../../src/sim/nvmet';
import { PoolFiles } from '../../../src/sim/pool';
import { DiskStore } from '../../../src/sim/store';
import { createFakeConfigfs } from '../../fakes/configfs';
import { tempDir, type Teardown } from './helpers';

const NQN = 'nqn.2000-02.com.mikrotik:';
const HOST_A = 'nqn.2014-08.org.nvmexpress:uuid:aaaa';
const HOST_B = 'nqn.2014-08.org.nvmexpress:uuid:bbbb';

async function setup(t: Teardown, opts: Partial<NvmetOptions> = {}) {
  const dir = tempDir(t);
  const poolDir = path.join(dir, 'pool');
  mkdirSync(poolDir);
  const cfs = createFakeConfigfs(path.join(dir, 'config'));
  await cfs.init();
  const backend = createNvmetBackend({
    poolDir,
    configfsRoot: cfs.root,
    traddr: '10.0.2.15',
    bufferedIo: false,
    io: cfs.io,
    ...opts,
  });
  const store = new DiskStore({
    stateFile: path.join(dir, 'disks.json'),
    pool: new PoolFiles(poolDir, 'storage-pool'),
    quotaBytes: 1024 ** 3,
    backend,
  });
  await store.load();
  const run = async (line: string): Promise<string> => {
    const r = await runLine(line, {
      store,
      width: 80,
      version: '7.16',
      identity: 'x',
      uptimeSeconds: 1,
    });
    return r.lines.join('\n');
  };
  const nvmet = path.join(cfs.root, 'nvmet');
  const cat = (...p: string[]): string => readFileSync(path.join(nvmet, ...p), 'utf8').trim();
  return { dir, poolDir, cfs, backend, store, run, nvmet, cat };
}

const add = (slot: string, extra = ''): string =>
  `/disk add type=file file-path=storage-pool/k8s/${slot}.img file-size=1M slot=${slot} ` +
  `nvme-tcp-export=yes nvme-tcp-server-nqn=${NQN}${slot}${extra}`;

t.test('an exported disk becomes a subsystem with namespace 1 on a TCP port', async (t) => {
  const s = await setup(t);
  t.equal(await s.run(add('pvc-a')), '');
  const sub = `${NQN}pvc-a`;
  t.equal(s.cat('subsystems', sub, 'attr_allow_any_host'), '1', 'empty allow-list: any host');
  t.equal(
    s.cat('subsystems', sub, 'namespaces', '1', 'device_path'),
    path.join(s.poolDir, 'k8s', 'pvc-a.img'),
  );
  t.equal(s.cat('subsystems', sub, 'namespaces', '1', 'enable'), '1');
  t.equal(s.cat('subsystems', sub, 'namespaces', '1', 'buffered_io'), '0');
  t.equal(s.cat('ports', '4420', 'addr_trtype'), 'tcp');
  t.equal(s.cat('ports', '4420', 'addr_adrfam'), 'ipv4');
  t.equal(s.cat('ports', '4420', 'addr_traddr'), '10.0.2.15');
  t.equal(s.cat('ports', '4420', 'addr_trsvcid'), '4420');
  t.equal(
    readlinkSync(path.join(s.nvmet, 'ports', '4420', 'subsystems', sub)),
    path.join(s.nvmet, 'subsystems', sub),
  );
  const order = s.cfs.writes.map((w) => path.basename(w.path));
  t.ok(order.indexOf('device_path') < order.indexOf('enable'), 'device_path before enable');
});

t.test('ports per distinct nvme-tcp-server-port; removal cleans up', async (t) => {
  const s = await setup(t);
  await s.run(add('a'));
  await s.run(add('b'));
  await s.run(add('c', ' nvme-tcp-server-port=4421'));
  await s.run('/disk add type=file file-path=storage-pool/k8s/plain.img file-size=1M slot=plain');
  t.same(readdirSync(path.join(s.nvmet, 'ports')).sort(), ['4420', '4421']);
  t.same(readdirSync(path.join(s.nvmet, 'ports', '4420', 'subsystems')).sort(), [
    `${NQN}a`,
    `${NQN}b`,
  ]);
  t.same(
    readdirSync(path.join(s.nvmet, 'subsystems')).sort(),
    [`${NQN}a`, `${NQN}b`, `${NQN}c`],
    'unexported disk: none',
  );
  await s.run('/disk remove [find slot=c]');
  t.same(readdirSync(path.join(s.nvmet, 'ports')), ['4420'], 'empty port removed');
  t.notOk(existsSync(path.join(s.nvmet, 'subsystems', `${NQN}c`)));
  await s.run('/disk set [find slot=b] nvme-tcp-export=no');
  t.same(readdirSync(path.join(s.nvmet, 'subsystems')), [`${NQN}a`]);
  await s.run('/disk set [find slot=a] nvme-tcp-server-port=4500');
  t.same(readdirSync(path.join(s.nvmet, 'ports')), ['4500'], 'moved to the new port');
  await s.run('/disk remove a');
  t.same(readdirSync(path.join(s.nvmet, 'subsystems')), []);
  t.same(readdirSync(path.join(s.nvmet, 'ports')), []);
});

t.test('allow-list mirrors allowed_hosts; growing revalidates', async (t) => {
  const s = await setup(t);
  await s.run(add('a', ` nvme-tcp-server-allow-host-name="${HOST_A}"`));
  const sub = `${NQN}a`;
  t.equal(s.cat('subsystems', sub, 'attr_allow_any_host'), '0');
  t.same(readdirSync(path.join(s.nvmet, 'subsystems', sub, 'allowed_hosts')), [HOST_A]);
  t.equal(
    readlinkSync(path.join(s.nvmet, 'subsystems', sub, 'allowed_hosts', HOST_A)),
    path.join(s.nvmet, 'hosts', HOST_A),
  );
  await s.run(`/disk set [find slot=a] nvme-tcp-server-allow-host-name="${HOST_A},${HOST_B}"`);
  t.same(readdirSync(path.join(s.nvmet, 'subsystems', sub, 'allowed_hosts')).sort(), [
    HOST_A,
    HOST_B,
  ]);
  await s.run(`/disk set [find slot=a] nvme-tcp-server-allow-host-name="${HOST_B}"`);
  t.same(readdirSync(path.join(s.nvmet, 'subsystems', sub, 'allowed_hosts')), [HOST_B]);
  await s.run('/disk set [find slot=a] nvme-tcp-server-allow-host-name=""');
  t.equal(s.cat('subsystems', sub, 'attr_allow_any_host'), '1');
  t.same(readdirSync(path.join(s.nvmet, 'subsystems', sub, 'allowed_hosts')), []);
  const before = s.cfs.writes.length;
  await s.run('/disk set [find slot=a] file-size=2M');
  t.same(
    s.cfs.writes.slice(before).map((w) => path.basename(w.path)),
    ['revalidate_size'],
  );
  await s.run(add('b', ` nvme-tcp-server-allow-host-name="${HOST_A}"`));
  await s.run('/disk remove [find slot=b]');
  t.notOk(
    existsSync(path.join(s.nvmet, 'subsystems', `${NQN}b`)),
    'subsystem with hosts removed cleanly',
  );
});

t.test(
  'sync on (re)start: stale own subsystems go, foreign ones stay, disks come back',
  async (t) => {
    const s = await setup(t);
    await s.run(add('a'));
    await s.run(add('stale'));
    // A subsystem that is not ours (another pool) must survive.
    await s.cfs.io.mkdir(path.join(s.nvmet, 'subsystems', 'nqn.foreign'));
    await s.cfs.io.mkdir(path.join(s.nvmet, 'subsystems', 'nqn.foreign', 'namespaces', '1'));
    await s.cfs.io.writeFile(
      path.join(s.nvmet, 'subsystems', 'nqn.foreign', 'namespaces', '1', 'device_path'),
      '/dev/vdb',
    );
    // The state file forgets "stale" (as if the device rebooted with an older table).
    const state = JSON.parse(readFileSync(path.join(s.dir, 'disks.json'), 'utf8'));
    state.disks = state.disks.filter((d: { slot: string }) => d.slot !== 'stale');
    writeFileSync(path.join(s.dir, 'disks.json'), JSON.stringify(state));
    // And "a" lost its export (an outage): sync must bring it back.
    await s.cfs.io.unlink(path.join(s.nvmet, 'ports', '4420', 'subsystems', `${NQN}a`));
    await s.store.load();
    t.same(readdirSync(path.join(s.nvmet, 'subsystems')).sort(), [`${NQN}a`, 'nqn.foreign']);
    t.ok(existsSync(path.join(s.nvmet, 'ports', '4420', 'subsystems', `${NQN}a`)));
    await s.store.load();
    t.same(
      readdirSync(path.join(s.nvmet, 'subsystems')).sort(),
      [`${NQN}a`, 'nqn.foreign'],
      'idempotent',
    );
  },
);

t.test('buffered_io: forced on, and auto follows the pool filesystem', async (t) => {
  const on = await setup(t, { bufferedIo: true });
  await on.run(add('a'));
  t.equal(on.cat('subsystems', `${NQN}a`, 'namespaces', '1', 'buffered_io'), '1');
  const auto = await setup(t, { bufferedIo: 'auto' });
  await auto.run(add('a'));
  const tmpfs = statfsSync(auto.poolDir).type === 0x01021994;
  t.equal(auto.cat('subsystems', `${NQN}a`, 'namespaces', '1', 'buffered_io'), tmpfs ? '1' : '0');
});

t.test('a backend error is a failure reply and leaves no disk behind', async (t) => {
  const s = await setup(t, { configfsRoot: '/nonexistent-configfs' });
  const out = await s.run(add('a'));
  t.match(out, /^failure: export failed: /);
  t.equal(await s.run('/disk print terse where slot=a'), '');
  t.notOk(existsSync(path.join(s.poolDir, 'k8s', 'a.img')));
});

t.test('the fake is strict like configfs', async (t) => {
  const s = await setup(t);
  await t.rejects(s.cfs.io.mkdir(path.join(s.nvmet, 'elsewhere')), { code: 'EPERM' });
  await t.rejects(s.cfs.io.writeFile(path.join(s.nvmet, 'subsystems', 'new-file'), '1'), {
    code: 'EACCES',
  });
  await s.run(add('a'));
  const sub = path.join(s.nvmet, 'subsystems', `${NQN}a`);
  await t.rejects(s.cfs.io.rmdir(sub), { code: 'ENOTEMPTY' });
  await t.rejects(s.cfs.io.writeFile(path.join(sub, 'namespaces', '1', 'device_path'), '/x'), {
    code: 'EBUSY',
  });
  await t.rejects(
    s.cfs.io.writeFile(path.join(s.nvmet, 'ports', '4420', 'addr_traddr'), '1.2.3.4'),
    { code: 'EACCES' },
  );
  await t.rejects(s.cfs.io.unlink(path.join(sub, 'attr_allow_any_host')), { code: 'EPERM' });
});
