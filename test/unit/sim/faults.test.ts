import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { FaultEngine } from '../../../src/sim/faults';
import { tempDir } from './helpers';

t.test('no rules: nothing happens', async (t) => {
  const f = new FaultEngine(undefined);
  t.same(f.decide('/disk print'), { delayMs: 0, action: 'none', failText: '', execute: true });
  t.equal(f.loginsRefused, false);
});

t.test('latency adds up with jitter; the first action rule wins', async (t) => {
  const f = new FaultEngine(undefined, () => 0.5);
  f.add({ latencyMs: 100, jitterMs: 40 });
  f.add({ match: /^\/disk/, latencyMs: 10 });
  f.add({ match: 'remove', fail: 'busy' });
  f.add({ match: 'remove', hang: true });
  t.same(f.decide('/system identity print'), {
    delayMs: 120,
    action: 'none',
    failText: '',
    execute: true,
  });
  t.same(f.decide('/disk remove x'), {
    delayMs: 130,
    action: 'fail',
    failText: 'busy',
    execute: false,
  });
  t.equal(f.rules.length, 4);
  f.clear();
  t.equal(f.rules.length, 0);
});

t.test('defaults: drop runs the command, hang does not; execute overrides', async (t) => {
  const f = new FaultEngine(undefined);
  f.add({ match: 'a', drop: true });
  f.add({ match: 'b', hang: true });
  f.add({ match: 'c', hang: true, execute: true });
  f.add({ match: 'd', drop: true, execute: false });
  f.add({ match: 'e', restart: true });
  t.same(
    [f.decide('a'), f.decide('b'), f.decide('c'), f.decide('d')].map((d) => [d.action, d.execute]),
    [
      ['drop', true],
      ['hang', false],
      ['hang', true],
      ['drop', false],
    ],
  );
  t.equal(f.decide('e').action, 'restart');
});

t.test('nth and times count matching commands only', async (t) => {
  const f = new FaultEngine(undefined);
  f.add({ match: 'add', nth: 2, fail: 'x' });
  f.add({ match: 'set', times: 2, fail: 'y' });
  const seq = ['add', 'print', 'add', 'add', 'set', 'set', 'set'].map((c) => f.decide(c).action);
  t.same(seq, ['none', 'none', 'fail', 'none', 'fail', 'fail', 'none']);
});

t.test(
  'control file: re-read per decision; counts reset when it changes; bad content ignored',
  async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'faults.json');
    const f = new FaultEngine(file);
    t.equal(f.decide('x').action, 'none', 'missing file: no faults');
    writeFileSync(file, JSON.stringify({ rules: [{ match: 'x', nth: 1, fail: 'once' }] }));
    t.equal(f.decide('x').failText, 'once');
    t.equal(f.decide('x').action, 'none');
    writeFileSync(
      file,
      JSON.stringify({ rules: [{ match: 'x', nth: 1, fail: 'again' }], refuseLogins: true }),
    );
    t.equal(f.decide('x').failText, 'again');
    t.equal(f.loginsRefused, true);
    writeFileSync(file, '{not json');
    t.equal(f.decide('x').action, 'none');
    t.equal(f.loginsRefused, false);
    writeFileSync(
      file,
      JSON.stringify({
        rules: [
          { match: '(', fail: 'bad regex' },
          { match: 'x', fail: 'ok' },
        ],
      }),
    );
    t.equal(f.decide('x').failText, 'ok', 'an invalid rule is skipped');
    f.refuseLogins(true);
    t.equal(f.loginsRefused, true);
    f.clear();
    t.equal(f.loginsRefused, false);
  },
);
