import t from 'tap';
import { CancelledError, UnavailableError } from '../../../src/domain/errors';
import { ReadyGate } from '../../../src/routeros/limits';

t.test(
  'ReadyGate: open resolves every waiter, fail rejects them, an abort leaves only its own',
  async (t) => {
    const gate = new ReadyGate<string>();
    const a = gate.wait(new AbortController().signal);
    const b = gate.wait(new AbortController().signal);
    gate.open('conn-1');
    t.same(await Promise.all([a, b]), ['conn-1', 'conn-1']);

    const ac = new AbortController();
    const aborted = gate.wait(ac.signal);
    const failed = gate.wait(new AbortController().signal);
    ac.abort(new CancelledError('caller gave up'));
    await t.rejects(aborted, { message: 'caller gave up' });
    gate.fail(new UnavailableError('closed'));
    await t.rejects(failed, { message: 'closed' });

    const late = gate.wait(new AbortController().signal);
    gate.open('conn-2');
    t.equal(await late, 'conn-2', 'waiters served earlier are gone; a new one gets the next value');

    const pre = new AbortController();
    pre.abort(new CancelledError('already'));
    await t.rejects(gate.wait(pre.signal), { message: 'already' });
  },
);
