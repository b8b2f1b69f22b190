import t from 'tap';
import {
  goNqnOfVolume,
  isGoVolumeContext,
  parseGoVolumeContext,
  parseNodeVolumeContext,
} from '../../../../src/domain/compat/go-context';
import { goVolumeContext } from '../../../helpers/go-driver';

const ID = 'pvc-0b6f2a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const NQN = `nqn.2000-02.com.mikrotik:${ID}`;

/** The nine keys its CreateVolume returns (v0.5.0+), exactly as stored in a PV. */
const V05 = goVolumeContext(ID, '10.42.241.3', '10.42.68.1');

t.test('a v0.5.0+ context: address, port, NQN and the connect tuning it used', async (t) => {
  t.ok(isGoVolumeContext(V05));
  t.same(parseNodeVolumeContext(V05), {
    nqn: NQN,
    traddr: '10.42.241.3',
    trsvcid: 4420,
    fsType: undefined,
    goDriver: { ctrlLossTmoSec: -1, reconnectDelaySec: 5, keepAliveTmoSec: undefined },
  });
});

t.test('older PVs lack the later keys and get its defaults -1 / 5 / 0', async (t) => {
  // v0.1.0: five keys; v0.2.0 added the tuning keys, v0.5.0 migrationTimeoutSeconds.
  const v01 = {
    rdsAddress: V05.rdsAddress,
    nvmeAddress: V05.nvmeAddress,
    nvmePort: '4420',
    nqn: NQN,
    volumePath: V05.volumePath,
  };
  t.same(parseGoVolumeContext(v01).goDriver, {
    ctrlLossTmoSec: -1,
    reconnectDelaySec: 5,
    keepAliveTmoSec: undefined,
  });
  const { migrationTimeoutSeconds: _, ...v02 } = V05;
  t.equal(parseGoVolumeContext(v02).traddr, '10.42.241.3');
});

t.test('nvme-cli left out -l 0, -c <= 0 and -k 0: the kernel defaults applied', async (t) => {
  const c = parseGoVolumeContext({
    ...V05,
    ctrlLossTmo: '0',
    reconnectDelay: '0',
    keepAliveTmo: '7',
  });
  t.same(c.goDriver, { ctrlLossTmoSec: 600, reconnectDelaySec: 10, keepAliveTmoSec: 7 });
  const d = parseGoVolumeContext({ ...V05, ctrlLossTmo: '30', reconnectDelay: '2' });
  t.same(d.goDriver, { ctrlLossTmoSec: 30, reconnectDelaySec: 2, keepAliveTmoSec: undefined });
});

t.test('nvmeAddress falls back to rdsAddress', async (t) => {
  const { nvmeAddress: _, ...noNvme } = V05;
  t.equal(parseNodeVolumeContext(noNvme).traddr, '10.42.68.1');
  t.equal(parseNodeVolumeContext({ ...V05, nvmeAddress: '' }).traddr, '10.42.68.1');
});

t.test(
  'its node validation: IP literal, port 1-65535, NQN grammar; all problems at once',
  async (t) => {
    t.throws(() => parseGoVolumeContext({ ...V05, nvmeAddress: 'rds.example.com' }), {
      code: 'invalid-argument',
      message: /not an IP address/,
    });
    for (const port of ['0', '65536', 'x', '', '44 20']) {
      t.throws(
        () => parseGoVolumeContext({ ...V05, nvmePort: port }),
        { message: /nvmePort/ },
        port,
      );
    }
    for (const nqn of [
      '',
      'nqn.2000-02.com.mikrotik:PVC-UPPER',
      'iqn.2000-02.com.mikrotik:x',
      `nqn.2000-02.com.mikrotik:${'a'.repeat(200)}`,
      'nqn.2000-02.com.mikrotik:a;b',
    ]) {
      t.throws(() => parseGoVolumeContext({ ...V05, nqn }), { message: /"nqn"/ }, nqn);
    }
    const { nqn: _n, rdsAddress: _r, nvmeAddress: _a, ...none } = V05;
    t.throws(() => parseGoVolumeContext({ ...none, ctrlLossTmo: '-2' }), {
      message: /"nqn".*nvmeAddress.*ctrlLossTmo/,
    });
    t.throws(() => parseGoVolumeContext({ ...V05, reconnectDelay: '1.5' }), {
      message: /reconnectDelay/,
    });
    t.throws(() => parseGoVolumeContext({ ...V05, keepAliveTmo: '-1' }), {
      message: /keepAliveTmo/,
    });
  },
);

t.test('recognised by shape: ours is never read as the Go one', async (t) => {
  const ours = { nqn: NQN, traddr: '10.0.0.5', trsvcid: '4420' };
  t.notOk(isGoVolumeContext(ours));
  t.notOk(isGoVolumeContext({ ...ours, nvmeAddress: '10.0.0.9' }), 'our keys win');
  t.notOk(isGoVolumeContext(undefined));
  t.notOk(isGoVolumeContext({ nqn: NQN }));
  t.ok(isGoVolumeContext({ nqn: NQN, nvmePort: '4420' }));
  t.same(parseNodeVolumeContext(ours), {
    nqn: NQN,
    traddr: '10.0.0.5',
    trsvcid: 4420,
    fsType: undefined,
  });
  t.throws(
    () => parseNodeVolumeContext({ nqn: NQN }),
    { message: /traddr/ },
    'ours still validated',
  );
});

t.test('the NQN its node derived from a volume id', async (t) => {
  t.equal(goNqnOfVolume(ID), NQN);
  t.equal(goNqnOfVolume(ID.toUpperCase()), NQN, 'lower-cased');
  t.equal(goNqnOfVolume('pvc/../x'), undefined);
  t.equal(goNqnOfVolume('x'.repeat(220)), undefined, 'over 223 bytes');
});
