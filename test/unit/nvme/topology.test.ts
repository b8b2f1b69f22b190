import t from 'tap';
import {
  controllersOf,
  findNamespace,
  namespacesOf,
  parseAddress,
  parseScan,
} from '../../../src/nvme/topology';
import { FakeSysfs } from '../../fakes/sysfs';

const NQN = 'nqn.2000-02.com.mikrotik:pvc-a';
const OTHER = 'nqn.2000-02.com.mikrotik:pvc-b';

t.test('single path (multipath=N): namespace under the controller', async (t) => {
  const fs = new FakeSysfs();
  fs.connectSinglePath({ instance: 0, subsysnqn: NQN }, [1]);
  const topo = parseScan(fs.toRaw());
  t.equal(topo.controllers.length, 1);
  const c = topo.controllers[0]!;
  t.match(c, {
    name: 'nvme0',
    instance: 0,
    state: 'live',
    transport: 'tcp',
    subsysnqn: NQN,
    cntlid: 1,
    ctrlLossTmoSec: -1,
    reconnectDelaySec: 2,
    fastIoFailTmoSec: -1,
    katoSec: 5,
  });
  t.same(c.addressFields, { traddr: '127.0.0.1', trsvcid: '4420', src_addr: '127.0.0.1' });
  const ns = findNamespace(topo, NQN, 1);
  t.match(ns, {
    name: 'nvme0n1',
    nsid: 1,
    sizeBytes: 2097152 * 512,
    hidden: false,
    controller: 0,
    subsystem: 'nvme-subsys0',
  });
  t.equal(findNamespace(topo, NQN, 2), undefined);
  t.same(topo.subsystems[0]?.heads, []);
});

t.test('native multipath: visible head in the subsystem, hidden per-path nodes', async (t) => {
  const fs = new FakeSysfs();
  fs.connectMultipath({ instance: 0, subsysnqn: OTHER });
  fs.connectMultipath({ instance: 1, subsysnqn: NQN });
  fs.connectMultipath({ instance: 2, subsysnqn: NQN, traddr: '127.0.0.2' });
  const topo = parseScan(fs.toRaw());
  const ns = findNamespace(topo, NQN, 1);
  // subsystem 1's head, although controller 1 and 2 exist: never name arithmetic
  t.match(ns, { name: 'nvme1n1', hidden: false, subsystem: 'nvme-subsys1', controller: undefined });
  t.same(
    topo.subsystems.find((s) => s.subsysnqn === NQN),
    {
      name: 'nvme-subsys1',
      subsysnqn: NQN,
      controllers: [1, 2],
      heads: ['nvme1n1'],
    },
  );
  const hidden = topo.namespaces
    .filter((n) => n.hidden)
    .map((n) => n.name)
    .sort();
  t.same(hidden, ['nvme0c0n1', 'nvme1c1n1', 'nvme1c2n1']);
  t.same(
    namespacesOf(topo, NQN).map((n) => n.name),
    ['nvme1n1'],
  );
  t.equal(findNamespace(topo, OTHER, 1)?.name, 'nvme0n1');
});

t.test('renumbered controller is still found by NQN', async (t) => {
  const fs = new FakeSysfs();
  fs.connectMultipath({ instance: 0, subsysnqn: OTHER });
  fs.connectMultipath({ instance: 1, subsysnqn: NQN });
  fs.removeController(1);
  fs.connectMultipath({ instance: 7, subsysnqn: NQN });
  const topo = parseScan(fs.toRaw());
  t.same(
    controllersOf(topo, NQN).map((c) => c.instance),
    [7],
  );
  t.equal(findNamespace(topo, NQN, 1)?.name, 'nvme1n1');
});

t.test('controller states and namespace not yet visible', async (t) => {
  const fs = new FakeSysfs();
  fs.addController({ instance: 3, subsysnqn: NQN, state: 'connecting' });
  fs.subsystemFor(NQN).members.push(3);
  fs.addController({ instance: 4, subsysnqn: OTHER, state: 'deleting (no IO)' });
  fs.addController({ instance: 5, subsysnqn: OTHER, state: 'weird' });
  const topo = parseScan(fs.toRaw());
  t.same(
    topo.controllers.map((c) => c.state),
    ['connecting', 'deleting (no IO)', 'unknown'],
  );
  t.equal(findNamespace(topo, NQN, 1), undefined);
  t.same(namespacesOf(topo, NQN), []);
});

t.test('tolerates attributes that vanished mid-scan', async (t) => {
  const topo = parseScan({
    controllers: [
      {
        name: 'nvme9',
        state: null,
        transport: null,
        address: null,
        subsysnqn: null,
        hostnqn: null,
        hostid: null,
        cntlid: 'x',
        ctrlLossTmo: '600',
        reconnectDelay: null,
        fastIoFailTmo: null,
        kato: null,
      },
      { name: 'bogus' } as never,
    ],
    subsystems: [
      { name: 'nvme-subsys2', subsysnqn: null, iopolicy: null, members: ['nvme9', 'x'] },
    ],
    namespaces: [
      {
        name: 'nvme2c9n1',
        parent: 'nvme9',
        nsid: null,
        size: null,
        uuid: '',
        nguid: null,
        wwid: null,
        hidden: null,
        dev: null,
      },
      {
        name: 'nvme2n1',
        parent: 'nvme-subsys2',
        nsid: '1',
        size: '8',
        uuid: null,
        nguid: null,
        wwid: null,
        hidden: null,
        dev: '259:1',
      },
    ],
    truncated: true,
  });
  t.equal(topo.controllers.length, 1);
  t.match(topo.controllers[0], {
    state: 'unknown',
    cntlid: undefined,
    ctrlLossTmoSec: 600,
    address: '',
  });
  t.equal(topo.namespaces[0]?.hidden, true, 'per-path name is hidden without the attribute');
  t.equal(topo.namespaces[0]?.subsystem, 'nvme-subsys2');
  t.equal(topo.namespaces[1]?.hidden, false);
  t.equal(topo.namespaces[1]?.sizeBytes, 4096);
  t.equal(topo.truncated, true);
});

t.test('parseAddress', async (t) => {
  t.same(parseAddress('traddr=fd00::1,trsvcid=4420,src_addr=fd00::2'), {
    traddr: 'fd00::1',
    trsvcid: '4420',
    src_addr: 'fd00::2',
  });
  t.same(parseAddress(''), {});
});
