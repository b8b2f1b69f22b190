import t from 'tap';
import {
  GiB,
  MiB,
  chooseSize,
  parseInt64,
  parseRange,
  roundUp,
  satisfies,
} from '../../../src/domain/sizes';

t.test('parseInt64 is exact and bounded', async (t) => {
  t.equal(parseInt64('1073741824', 'x'), GiB);
  t.equal(parseInt64('', 'x'), 0);
  t.equal(parseInt64(undefined, 'x'), 0);
  t.equal(parseInt64(5, 'x'), 5);
  t.equal(parseInt64(String(Number.MAX_SAFE_INTEGER), 'x'), Number.MAX_SAFE_INTEGER);
  t.throws(() => parseInt64('9007199254740992', 'x'), { code: 'out-of-range' });
  t.throws(() => parseInt64('9223372036854775807', 'x'), { code: 'out-of-range' });
  t.throws(() => parseInt64('-1', 'x'), { code: 'invalid-argument' });
  t.throws(() => parseInt64('1e9', 'x'), { code: 'invalid-argument' });
  t.throws(() => parseInt64('12.5', 'x'), { code: 'invalid-argument' });
});

t.test('sizes round up to whole MiB and never down', async (t) => {
  t.equal(roundUp(1), MiB);
  t.equal(roundUp(MiB), MiB);
  t.equal(roundUp(MiB + 1), 2 * MiB);
  t.equal(chooseSize({ requiredBytes: 1.5 * GiB + 1, limitBytes: 0 }, GiB), 1.5 * GiB + MiB);
  t.equal(chooseSize({ requiredBytes: 0, limitBytes: 0 }, GiB), GiB, 'default is the minimum');
  t.equal(chooseSize({ requiredBytes: MiB, limitBytes: 0 }, GiB), GiB, 'raised to the minimum');
  t.equal(chooseSize({ requiredBytes: 0, limitBytes: 2 * GiB }, GiB), GiB);
  t.equal(chooseSize({ requiredBytes: 5 * GiB, limitBytes: 5 * GiB }, GiB), 5 * GiB);
});

t.test('impossible ranges are OUT_OF_RANGE', async (t) => {
  t.throws(() => chooseSize({ requiredBytes: 2 * GiB, limitBytes: GiB }, GiB), {
    code: 'out-of-range',
  });
  t.throws(() => chooseSize({ requiredBytes: 0, limitBytes: 100 * MiB }, GiB), {
    code: 'out-of-range',
  });
  t.throws(() => chooseSize({ requiredBytes: GiB + 1, limitBytes: GiB + 2 }, GiB), {
    code: 'out-of-range',
  });
});

t.test('satisfies and parseRange', async (t) => {
  t.ok(satisfies(GiB, { requiredBytes: 0, limitBytes: 0 }));
  t.ok(satisfies(2 * GiB, { requiredBytes: GiB, limitBytes: 0 }));
  t.notOk(satisfies(GiB, { requiredBytes: 2 * GiB, limitBytes: 0 }));
  t.notOk(satisfies(3 * GiB, { requiredBytes: 0, limitBytes: 2 * GiB }));
  t.same(parseRange({ required_bytes: '10', limit_bytes: '0' }), {
    requiredBytes: 10,
    limitBytes: 0,
  });
  t.same(parseRange(null), { requiredBytes: 0, limitBytes: 0 });
});
