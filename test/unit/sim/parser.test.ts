import t from 'tap';
import { tokenize } from '../../../src/sim/lexer';
import { parseCommand } from '../../../src/sim/parser';
import { parseLoginName } from '../../../src/sim/ssh';
import { parseFileSize, versionAtLeast } from '../../../src/sim/values';

const opts = { version: '7.16' };

t.test('tokenizer: words, operators, strings with escapes and columns', async (t) => {
  t.same(
    tokenize('/disk print where slot~"^a\\"b" and x=[find]').map((k) => [k.kind, k.text, k.col]),
    [
      ['word', '/disk', 1],
      ['word', 'print', 7],
      ['word', 'where', 13],
      ['word', 'slot', 19],
      ['~', '~', 23],
      ['string', '^a"b', 24],
      ['word', 'and', 32],
      ['word', 'x', 36],
      ['=', '=', 37],
      ['[', '[', 38],
      ['word', 'find', 39],
      [']', ']', 43],
    ],
  );
  t.equal(tokenize('"\\_\\n\\t\\41\\\\\\$\\?"')[0]!.text, ' \n\tA\\$?');
  t.equal(tokenize('"\\C3\\A9"')[0]!.text, 'é', 'hex escapes are bytes (UTF-8)');
  t.equal(tokenize('"a;b|c&d>e"')[0]!.text, 'a;b|c&d>e', 'metacharacters are fine inside quotes');
  for (const bad of [
    ';',
    '|',
    '&',
    '$',
    '`',
    '<',
    '>',
    '(',
    ')',
    '{',
    '}',
    '#',
    "'",
    '!',
    '\\',
    '\n',
    '\r',
    '\x00',
  ]) {
    t.throws(
      () => tokenize(`/disk print ${bad}`),
      { message: 'syntax error (line 1 column 13)' },
      JSON.stringify(bad),
    );
  }
  t.throws(() => tokenize('"abc'), { message: 'syntax error (line 1 column 1)' });
  t.throws(() => tokenize('"a\\zb"'), { message: 'syntax error (line 1 column 3)' });
  t.throws(() => tokenize('"a\nb"'), { message: 'syntax error (line 1 column 3)' });
});

t.test('parser: command shapes', async (t) => {
  t.same(parseCommand('/disk print detail where slot=a and slot~"b"', opts), {
    kind: 'print',
    menu: 'disk',
    mode: 'detail',
    where: [
      { key: 'slot', op: '=', value: 'a' },
      { key: 'slot', op: '~', value: 'b', regex: /b/ },
    ],
  });
  t.same(parseCommand('disk/print terse', opts), {
    kind: 'print',
    menu: 'disk',
    mode: 'terse',
    where: [],
  });
  t.same(parseCommand('/disk remove [find where slot=a]', opts), {
    kind: 'remove',
    menu: 'disk',
    target: { kind: 'find', conds: [{ key: 'slot', op: '=', value: 'a' }] },
  });
  t.same(parseCommand('/disk set [find slot=a type=file] file-size=1G', opts), {
    kind: 'disk-set',
    target: {
      kind: 'find',
      conds: [
        { key: 'slot', op: '=', value: 'a' },
        { key: 'type', op: '=', value: 'file' },
      ],
    },
    args: { fileSize: 1024 ** 3 },
  });
  t.same(parseCommand('/disk add type=file copy-from=[find slot=a] file-path=p', opts), {
    kind: 'disk-add',
    args: { type: 'file', filePath: 'p' },
    copyFrom: { kind: 'find', conds: [{ key: 'slot', op: '=', value: 'a' }] },
  });
  t.same(parseCommand('/system identity print without-paging', opts), { kind: 'identity' });
  t.same(parseCommand('', opts), { kind: 'noop' });
  t.same(parseCommand(':serialize to=json [/disk print as-value]', opts), { kind: 'noop' });
  t.same(parseCommand(':put [/file print as-value]', opts), {
    kind: 'put',
    value: { kind: 'list', print: { kind: 'print', menu: 'file', mode: 'value', where: [] } },
  });
  t.throws(() => parseCommand('/disk add type=file slot=', opts), {
    message: 'invalid value for argument slot',
  });
  t.throws(() => parseCommand('/disk print where', opts), {
    message: 'expected end of command (line 1 column 18)',
  });
  t.throws(() => parseCommand('/disk print where slot', opts), {
    message: 'expected end of command (line 1 column 23)',
  });
  t.throws(() => parseCommand('/disk print where slot=', opts), {
    message: 'expected end of command (line 1 column 24)',
  });
  t.throws(() => parseCommand(':put [:serialize to=json /disk]', opts), {
    message: 'expected end of command (line 1 column 26)',
  });
  t.throws(() => parseCommand(':put [:serialize to=json [/disk print as-value]', opts), {
    message: 'syntax error (line 1 column 6)',
  });
  t.throws(() => parseCommand('/disk/print/x', opts), {
    message: 'expected end of command (line 1 column 12)',
  });
  t.throws(() => parseCommand('/disk monitor-traffic a once once', opts), {
    message: 'expected end of command (line 1 column 30)',
  });
  t.throws(() => parseCommand(':serialize to=json [/disk print]', { version: '7.12' }), {
    message: 'bad command name serialize (line 1 column 2)',
  });
});

t.test('file-size, versions, login names', async (t) => {
  t.equal(parseFileSize('1048576'), 1048576);
  t.equal(parseFileSize('1.5G'), 1.5 * 1024 ** 3);
  t.equal(parseFileSize('1.1k'), 1127, 'rounded up, never down');
  t.equal(parseFileSize('2T'), 2 * 1024 ** 4);
  for (const bad of ['', '0', '1.5', '-1', '1GiB', '1 G', 'G', '99999999999999999999']) {
    t.equal(parseFileSize(bad), undefined, bad);
  }
  t.ok(versionAtLeast('7.16', '7.13'));
  t.ok(versionAtLeast('7.13', '7.13'));
  t.notOk(versionAtLeast('7.12.1', '7.13'));
  t.ok(versionAtLeast('7.13rc2', '7.13'));
  t.same(parseLoginName('admin'), { user: 'admin', width: 80 });
  t.same(parseLoginName('admin+ct4096w'), { user: 'admin', width: 4096 });
  t.same(parseLoginName('admin+c'), { user: 'admin', width: 80 });
  t.same(parseLoginName('admin+ct10w'), { user: 'admin', width: 40 }, 'narrowest console is 40');
});
