import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { classifyReply } from '../../../src/routeros/classify';

const FIX = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'routeros');
const fixture = (name: string): string => readFileSync(join(FIX, name), 'utf8');

const cases: Array<[string, string | undefined]> = [
  ['failure-no-such-item.txt', 'not-found'],
  ['failure-slot-exists.txt', 'already-exists'],
  ['failure-file-exists.txt', 'already-exists'],
  ['failure-not-enough-space.txt', 'resource-exhausted'],
  ['failure-shrink.txt', 'internal'],
  ['error-bad-command-name.txt', 'internal'],
  ['error-expected-end-of-command.txt', 'internal'],
  ['error-invalid-value.txt', 'internal'],
  ['error-syntax-error.txt', 'internal'],
  ['disk-print-detail.txt', undefined],
  ['disk-serialize-json.txt', undefined],
];

t.test('fixture replies on stdout or stderr, any exit status', async (t) => {
  for (const [file, code] of cases) {
    const text = fixture(file);
    for (const reply of [
      { stdout: text, stderr: '', code: 0 },
      { stdout: '', stderr: text, code: 0 },
      { stdout: '', stderr: text, code: code === undefined ? 0 : 1 },
      { stdout: text, stderr: '', code: null },
    ]) {
      t.equal(classifyReply('/disk add', reply)?.code, code, file);
    }
  }
});

t.test('messages name the command, never the arguments', async (t) => {
  const err = classifyReply('/disk add', {
    stdout: 'expected end of command (line 1 column 20)\r\n',
    stderr: '',
    code: 0,
  });
  t.match(err?.message, /\/disk add/);
  t.notMatch(err?.message, /line 1/);
  t.equal(err?.context['command'], '/disk add');
});

t.test('a non-zero exit without failure text is internal; silence is success', async (t) => {
  t.equal(classifyReply('/disk set', { stdout: '', stderr: '', code: 2 })?.code, 'internal');
  t.equal(classifyReply('/disk set', { stdout: '', stderr: '', code: 0 }), undefined);
  t.equal(classifyReply('/disk set', { stdout: '', stderr: '', code: null }), undefined);
});
