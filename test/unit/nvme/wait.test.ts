import t from 'tap';
import {
  CancelledError,
  DeadlineExceededError,
  UnavailableError,
} from '../../../src/domain/errors';
import { pollUntil, raceDeadline, systemClock } from '../../../src/nvme/wait';
import { FakeClock } from './helpers';

t.test('pollUntil backs off 2 → 50 ms and returns the first value', async (t) => {
  const clock = new FakeClock();
  let n = 0;
  const v = await pollUntil(async () => (++n === 10 ? 'ok' : undefined), {
    clock,
    deadlineAt: clock.t + 10_000,
  });
  t.equal(v, 'ok');
  t.same(clock.sleeps, [2, 4, 8, 16, 32, 50, 50, 50, 50]);
});

t.test('pollUntil never sleeps past the deadline and probes at it', async (t) => {
  const clock = new FakeClock();
  let probes = 0;
  const err = await pollUntil(
    async () => {
      probes++;
      return undefined;
    },
    { clock, deadlineAt: clock.t + 100 },
  ).catch((e: unknown) => e);
  t.type(err, DeadlineExceededError);
  t.same(clock.sleeps, [2, 4, 8, 16, 32, 38]);
  t.equal(probes, 7);
});

t.test('pollUntil uses the custom deadline error', async (t) => {
  const clock = new FakeClock();
  const err = await pollUntil(async () => undefined, {
    clock,
    deadlineAt: clock.t,
    onDeadline: () => new UnavailableError('stuck'),
  }).catch((e: unknown) => e);
  t.type(err, UnavailableError);
});

t.test('pollUntil stops on abort, before or between probes', async (t) => {
  const clock = new FakeClock();
  const ac = new AbortController();
  clock.onSleep = (n) => n === 2 && ac.abort();
  await t.rejects(
    pollUntil(async () => undefined, { clock, deadlineAt: clock.t + 1e6, signal: ac.signal }),
    CancelledError,
  );
  await t.rejects(
    pollUntil(async () => 1, { clock, deadlineAt: clock.t + 1e6, signal: ac.signal }),
    CancelledError,
  );
});

t.test('systemClock sleeps and aborts for real', async (t) => {
  const t0 = systemClock.now();
  await systemClock.sleep(5);
  t.ok(systemClock.now() - t0 >= 4);
  const ac = new AbortController();
  const p = systemClock.sleep(60_000, ac.signal);
  ac.abort();
  await t.rejects(p, CancelledError);
});

t.test('raceDeadline: work wins, deadline wins, abort wins', async (t) => {
  const clock = systemClock;
  t.equal(
    await raceDeadline(Promise.resolve(3), { clock, deadlineAt: clock.now() + 1000, what: 'x' }),
    3,
  );
  await t.rejects(
    raceDeadline(new Promise(() => undefined), {
      clock,
      deadlineAt: clock.now() + 10,
      what: 'the connect',
    }),
    { name: 'DeadlineExceededError', message: /the connect did not finish/ },
  );
  const ac = new AbortController();
  const p = raceDeadline(new Promise(() => undefined), {
    clock,
    deadlineAt: clock.now() + 60_000,
    signal: ac.signal,
    what: 'x',
  });
  ac.abort();
  await t.rejects(p, CancelledError);
  await t.rejects(
    raceDeadline(Promise.reject(new Error('boom')), {
      clock,
      deadlineAt: clock.now() + 1000,
      what: 'x',
    }),
    /boom/,
  );
});

t.test('raceDeadline leaves no timer or abort listener behind once decided', async (t) => {
  const clock = new FakeClock();
  const ac = new AbortController();
  let listeners = 0;
  const add = ac.signal.addEventListener.bind(ac.signal);
  const remove = ac.signal.removeEventListener.bind(ac.signal);
  ac.signal.addEventListener = (...args: Parameters<typeof add>) => {
    listeners++;
    add(...args);
  };
  ac.signal.removeEventListener = (...args: Parameters<typeof remove>) => {
    listeners--;
    remove(...args);
  };
  const opts = { clock, deadlineAt: clock.now() + 1000, signal: ac.signal, what: 'x' };
  t.equal(await raceDeadline(Promise.resolve(7), opts), 7);
  await t.rejects(raceDeadline(Promise.reject(new Error('boom')), opts), /boom/);
  t.equal(clock.pendingTimers, 0, 'every deadline timer was cancelled');
  t.equal(listeners, 0, 'every abort listener was removed');
  // Work that settles after an abort changes nothing and raises no unhandled rejection.
  let fail: (err: Error) => void = () => undefined;
  const late = raceDeadline(
    new Promise<never>((_, reject) => {
      fail = reject;
    }),
    opts,
  );
  ac.abort();
  await t.rejects(late, CancelledError);
  fail(new Error('late'));
  await new Promise((r) => setImmediate(r));
  t.equal(clock.pendingTimers, 0);
});
