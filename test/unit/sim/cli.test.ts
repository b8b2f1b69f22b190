import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { cliHarness } from './helpers';
import { ERROR_FIXTURES, FIXTURE_DIR } from './fixture-data';

const NQN = 'nqn.2000-02.com.mikrotik:';
const add = (slot: string, size = '10M', extra = ''): string =>
  `/disk add type=file file-path=storage-pool/k8s/${slot}.img file-size=${size} slot=${slot} ` +
  `nvme-tcp-export=yes nvme-tcp-server-port=4420 nvme-tcp-server-nqn=${NQN}${slot}${extra}`;

t.test('add creates a sparse image and a disk; print shows it in every form', async (t) => {
  const h = await cliHarness(t);
  const r = await h.run(add('pvc-a', '1.5G'));
  t.same(r, { lines: [], result: 'ok' });
  const file = path.join(h.dir, 'pool', 'k8s', 'pvc-a.img');
  const st = statSync(file);
  t.equal(st.size, 1.5 * 1024 ** 3, 'logical size is exact');
  t.ok(st.blocks * 512 < 1024 * 1024, 'sparse: almost nothing allocated');

  const detail = await h.text('/disk print detail where slot=pvc-a');
  t.match(detail, /^Flags: X - disabled/);
  t.match(detail, /\n 1 t {2}type=file slot="pvc-a" /);
  t.match(detail, /size=1 610 612 736/);
  t.match(detail, /file-size=1\.5GiB/);
  t.match(detail, /file-path=storage-pool\/k8s\/pvc-a\.img/);
  t.notMatch(detail, /status=|password/);

  const terse = await h.text('/disk print terse where slot=pvc-a');
  t.match(terse, /^ 1 t type=file slot=pvc-a slot-default="" /);
  t.equal(terse.split('\n').length, 1);

  const json = JSON.parse(
    await h.text(':put [:serialize to=json [/disk print detail as-value where slot=pvc-a]]'),
  );
  t.equal(json.length, 1);
  t.equal(json[0]['.id'], '*2');
  t.equal(json[0].size, 1610612736);
  t.equal(json[0]['nvme-tcp-export'], true);
  t.match(
    await h.text(':put [:serialize to=json [/disk print as-value where slot=pvc-a]]'),
    /"size":1610612736\.000000/,
  );
  t.equal(
    await h.text(':put [:serialize to=json [/disk print detail as-value where slot=nope]]'),
    '[]',
  );

  const table = await h.text('/disk print');
  t.match(table, /Columns: SLOT, TYPE/);
  t.equal(await h.text('/disk print as-value'), '', 'as-value at top level prints nothing');
  t.match(
    await h.text(':put [/disk print as-value where slot=pvc-a]'),
    /^\.id=\*2;type=file;slot=pvc-a;/,
  );
});

t.test('where / find: =, ~ and and; the pool by mount-point', async (t) => {
  const h = await cliHarness(t, { quota: 1024 ** 3 });
  await h.run(add('pvc-a', '100M'));
  await h.run(add('pvc-b', '200M'));
  await h.run('/disk add type=file file-path=storage-pool/snap/s1.img file-size=1M slot=snap-1');
  const slots = async (where: string): Promise<string[]> =>
    (
      JSON.parse(
        await h.text(`:put [:serialize to=json [/disk print as-value where ${where}]]`),
      ) as { slot: string }[]
    ).map((d: { slot: string }) => d.slot);
  t.same(await slots('slot~"^pvc-"'), ['pvc-a', 'pvc-b']);
  t.same(await slots('slot~"^pvc-" and slot=pvc-b'), ['pvc-b']);
  t.same(await slots('nvme-tcp-export=no and type=file'), ['snap-1']);
  t.same(await slots('size=104857600'), ['pvc-a'], 'sizes compare as byte counts');
  t.same(await slots('slot=nothing'), []);
  const pool = await h.text('/disk print detail where mount-point="storage-pool"');
  t.match(pool, /size=1 073 741 824/);
  t.match(pool, /free=758 120 448/, 'free = quota - logical size of every file');
  t.match(pool, /use=29%/);
  t.equal(await h.text('/disk print terse where mount-point="other"'), '');
  t.equal(
    await h.text('/disk print detail where slot="none"'),
    readFileSync(path.join(FIXTURE_DIR, 'disk-print-detail-empty.txt'), 'utf8').trimEnd(),
  );
});

t.test('set grows (never shrinks) and changes export properties', async (t) => {
  const h = await cliHarness(t);
  await h.run(add('pvc-a'));
  t.equal((await h.run('/disk set [find slot=pvc-a] file-size=20M')).result, 'ok');
  t.equal(statSync(path.join(h.dir, 'pool', 'k8s', 'pvc-a.img')).size, 20 * 1024 * 1024);
  t.same((await h.run('/disk set pvc-a file-size=5M')).lines, [
    'failure: file-size can not be reduced',
  ]);
  await h.run(
    '/disk set [find slot=pvc-a] nvme-tcp-server-allow-host-name="nqn.2014-08.org.nvmexpress:uuid:1"',
  );
  t.match(
    await h.text('/disk print detail where slot=pvc-a', 4096),
    /allow-host-name="nqn.2014-08.org.nvmexpress:uuid:1"/,
  );
  t.same(
    await h.run('/disk set [find slot=nope] file-size=1G'),
    { lines: [], result: 'ok' },
    'empty find: silent no-op',
  );
  t.same((await h.run('/disk set nope file-size=1G')).lines, ['failure: no such item']);
  t.same((await h.run('/disk set *2 nvme-tcp-export=no')).result, 'ok', 'by internal id');
  t.match(await h.text('/disk print terse where slot=pvc-a'), /nvme-tcp-export=no/);
  t.same((await h.run('/disk set storage-pool file-size=1G')).lines, [
    'failure: not allowed for this disk',
  ]);
});

t.test('remove leaves the image; /file remove deletes it; in-use files are refused', async (t) => {
  const h = await cliHarness(t);
  await h.run(add('pvc-a'));
  const file = path.join(h.dir, 'pool', 'k8s', 'pvc-a.img');
  t.same((await h.run('/file remove [find name="storage-pool/k8s/pvc-a.img"]')).lines, [
    'failure: file is in use',
  ]);
  t.equal((await h.run('/disk remove [find slot=pvc-a]')).result, 'ok');
  t.ok(existsSync(file), 'image stays after /disk remove');
  t.equal(await h.text('/disk print terse where slot=pvc-a'), '');
  t.same(
    await h.run('/disk remove [find slot=pvc-a]'),
    { lines: [], result: 'ok' },
    'remove of nothing is silent',
  );
  t.same((await h.run('/disk remove pvc-a')).lines, ['failure: no such item']);
  const files = await h.text('/file print detail where name~"pvc-a"');
  t.match(
    files,
    /^ 2 name="storage-pool\/k8s\/pvc-a.img" type=".img file" size=10.0MiB\n {3}last-modified=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/,
  );
  t.equal((await h.run('/file remove [find name="storage-pool/k8s/pvc-a.img"]')).result, 'ok');
  t.notOk(existsSync(file));
  t.same((await h.run('/file remove "storage-pool/k8s/pvc-a.img"')).lines, [
    'failure: no such item',
  ]);
  t.same((await h.run('/file remove storage-pool')).lines, ['failure: can not remove disk']);
  t.equal((await h.run('/file remove storage-pool/k8s')).result, 'ok', 'an empty directory can go');
  t.match(
    await h.text(':put [:serialize to=json [/file print as-value]]'),
    /^\[\{".id":"\*1","name":"storage-pool","type":"disk"/,
  );
});

t.test('copy-from copies the data into an independent image', async (t) => {
  const h = await cliHarness(t);
  await h.run(add('pvc-a', '4M'));
  const src = path.join(h.dir, 'pool', 'k8s', 'pvc-a.img');
  const fd = readFileSync(src);
  fd.write('hello from pvc-a', 1024 * 1024);
  writeFileSync(src, fd);
  const r = await h.run(
    '/disk add type=file copy-from=[find slot=pvc-a] file-path=storage-pool/k8s/snapshots/snap-1.img slot=snap-1',
  );
  t.same(r, { lines: [], result: 'ok' });
  const copy = path.join(h.dir, 'pool', 'k8s', 'snapshots', 'snap-1.img');
  t.equal(statSync(copy).size, 4 * 1024 * 1024);
  t.equal(readFileSync(copy).toString('utf8', 1024 * 1024, 1024 * 1024 + 16), 'hello from pvc-a');
  writeFileSync(src, Buffer.alloc(4 * 1024 * 1024));
  t.equal(
    readFileSync(copy).toString('utf8', 1024 * 1024, 1024 * 1024 + 16),
    'hello from pvc-a',
    'independent',
  );
  const bigger = await h.run(
    '/disk add type=file copy-from=snap-1 file-path=storage-pool/k8s/pvc-b.img file-size=8M slot=pvc-b',
  );
  t.equal(bigger.result, 'ok');
  t.equal(
    statSync(path.join(h.dir, 'pool', 'k8s', 'pvc-b.img')).size,
    8 * 1024 * 1024,
    'grown to file-size',
  );
  t.same(
    (
      await h.run(
        '/disk add type=file copy-from=[find slot=missing] file-path=storage-pool/k8s/x.img slot=x',
      )
    ).lines,
    ['failure: no such item'],
  );
  t.same(
    (
      await h.run(
        '/disk add type=file copy-from=snap-1 file-path=storage-pool/k8s/y.img file-size=1M slot=y',
      )
    ).lines,
    ['failure: file-size can not be reduced'],
  );
});

t.test('add failures', async (t) => {
  const h = await cliHarness(t, { quota: 64 * 1024 * 1024 });
  await h.run(add('a', '1M'));
  const fail = async (line: string): Promise<string> => {
    const r = await h.run(line);
    t.equal(r.result, 'failure', line);
    return r.lines.join('\n');
  };
  t.equal(await fail(add('a', '1M')), 'failure: disk with such slot already exists');
  t.equal(
    await fail('/disk add type=file file-path=storage-pool/k8s/a.img file-size=1M slot=other'),
    'failure: file already exists',
  );
  t.equal(await fail(add('big', '65M')), 'failure: not enough space');
  t.equal(
    await fail('/disk add type=file file-path=other-pool/x.img file-size=1M'),
    'failure: invalid file-path',
  );
  t.equal(
    await fail('/disk add type=file file-path=storage-pool/../x.img file-size=1M'),
    'failure: invalid file-path',
  );
  t.equal(
    await fail('/disk add type=file file-path=storage-pool file-size=1M'),
    'failure: invalid file-path',
  );
  t.equal(
    await fail('/disk add file-path=storage-pool/x.img file-size=1M'),
    'failure: type not specified',
  );
  t.equal(
    await fail('/disk add type=file file-size=1M slot=q'),
    'failure: file-path not specified',
  );
  t.equal(
    await fail('/disk add type=file file-path=storage-pool/x.img slot=q'),
    'failure: file-size not specified',
  );
  t.equal(
    await fail('/disk add type=file file-path=storage-pool/x.img file-size=1M nvme-tcp-export=yes'),
    'failure: nvme-tcp-server-nqn not specified',
  );
  t.equal(
    await fail(
      `/disk add type=file file-path=storage-pool/k8s/b.img file-size=1M slot=b nvme-tcp-export=yes nvme-tcp-server-nqn=${NQN}a`,
    ),
    'failure: nvme-tcp-server-nqn already in use',
  );
  t.notOk(existsSync(path.join(h.dir, 'pool', 'k8s', 'b.img')), 'nothing created by a failed add');
  t.equal(
    (await h.run('/disk add type=file file-path=/storage-pool/deep/er/c.img file-size=1M')).result,
    'ok',
    'leading slash, parents created',
  );
  t.match(
    await h.text('/disk print terse where slot=c'),
    /file-path=storage-pool\/deep\/er\/c\.img/,
    'slot defaults to the file name',
  );
});

t.test('the error fixtures are what the CLI replies', async (t) => {
  const h = await cliHarness(t, { quota: 1024 ** 4 });
  await h.run('/disk add type=file file-path=storage-pool/k8s/a.img file-size=1M slot=a');
  for (const [file, line] of Object.entries(ERROR_FIXTURES)) {
    const want = readFileSync(path.join(FIXTURE_DIR, file), 'utf8').trimEnd();
    t.equal(await h.text(line), want, `${file}: ${line}`);
  }
});

t.test('syntax errors, and nothing runs from a bad line', async (t) => {
  const h = await cliHarness(t);
  await h.run(add('keep'));
  const bad: Record<string, string> = {
    '/disk print; /disk remove keep': 'syntax error (line 1 column 12)',
    '/disk remove keep | true': 'syntax error (line 1 column 19)',
    '/disk remove keep && echo': 'syntax error (line 1 column 19)',
    '/disk remove $(keep)': 'syntax error (line 1 column 14)',
    '/disk remove `keep`': 'syntax error (line 1 column 14)',
    '/disk remove keep > /tmp/x': 'syntax error (line 1 column 19)',
    "/disk remove 'keep'": 'syntax error (line 1 column 14)',
    '/disk remove "keep': 'syntax error (line 1 column 14)',
    '/disk remove "$keep"': 'syntax error (line 1 column 15)',
    '/disk remove "ke\\qep"': 'syntax error (line 1 column 17)',
    '/disk remove keep\n/disk print': 'syntax error (line 1 column 18)',
    '/disk remove keep # c': 'syntax error (line 1 column 19)',
    '/disk remove [find slot=keep': 'syntax error (line 1 column 14)',
    '/disk remove [find slot=keep] extra': 'expected end of command (line 1 column 31)',
    '/disk remove keep extra': 'expected end of command (line 1 column 19)',
    '/disk remove [find slot~"("]': 'syntax error (line 1 column 25)',
    '/disk remove [find nosuch=keep]': 'expected end of command (line 1 column 20)',
    '/disk remove [frob slot=keep]': 'bad command name frob (line 1 column 15)',
    '/disk frob': 'bad command name frob (line 1 column 7)',
    '/ip address print': 'bad command name ip (line 1 column 2)',
    '/disk/frob': 'bad command name frob (line 1 column 7)',
    '/disk print where slot=keep slot=x': 'expected end of command (line 1 column 29)',
    '/disk print detail where': 'expected end of command (line 1 column 25)',
    '/disk add type=file bogus=1': 'expected end of command (line 1 column 21)',
    '/disk add type=file type=file': 'expected end of command (line 1 column 21)',
    '/disk add type=disk': 'invalid value for argument type',
    '/disk set keep nvme-tcp-export=maybe': 'invalid value for argument nvme-tcp-export',
    '/disk set keep nvme-tcp-server-port=70000': 'invalid value for argument nvme-tcp-server-port',
    '/disk set keep nvme-tcp-server-nqn=bad': 'invalid value for argument nvme-tcp-server-nqn',
    '/disk set keep file-size=1.5': 'invalid value for argument file-size',
    '/disk set keep file-size=0': 'invalid value for argument file-size',
    '/disk set keep slot=x': 'expected end of command (line 1 column 16)',
    '/disk set': 'missing value(s) of argument(s) numbers',
    '/disk remove': 'missing value(s) of argument(s) numbers',
    ':frob': 'bad command name frob (line 1 column 2)',
    ':put [:serialize to=yaml [/disk print as-value]]': 'invalid value for argument to',
    ':put [/disk remove keep]': 'expected end of command (line 1 column 7)',
    '/system resource print extra': 'expected end of command (line 1 column 24)',
  };
  for (const [line, want] of Object.entries(bad)) {
    const r = await h.run(line);
    if (want === '') continue;
    t.same(r, { lines: [want], result: 'syntax-error' }, JSON.stringify(line));
  }
  t.match(await h.text('/disk print terse where slot=keep'), /slot=keep/, 'disk still there');
  t.ok(existsSync(path.join(h.dir, 'pool', 'k8s', 'keep.img')));
});

t.test('quoted values: escapes decode, and round-trip through print', async (t) => {
  const h = await cliHarness(t);
  const r = await h.run(
    '/disk add type=file file-path="storage-pool/k8s/odd name.img" file-size=1M slot="a\\"b\\\\c\\3F"',
  );
  t.equal(r.result, 'ok');
  const terse = await h.text('/disk print terse where slot="a\\"b\\\\c?"');
  t.match(terse, /slot="a\\"b\\\\c\\\?"/);
  t.match(terse, /file-path="storage-pool\/k8s\/odd name.img"/);
});

t.test(':serialize only from 7.13; monitor-traffic; system screens', async (t) => {
  const old = await cliHarness(t, { version: '7.12.1' });
  t.same((await old.run(':put [:serialize to=json [/disk print as-value]]')).lines, [
    'bad command name serialize (line 1 column 8)',
  ]);
  t.match(await old.text('/system resource print'), /version: 7\.12\.1 \(stable\)/);
  const h = await cliHarness(t);
  await h.run(add('pvc-a'));
  t.match(
    await h.text('/disk monitor-traffic pvc-a once'),
    /^ {18}slot: pvc-a\n {14}read-ops: 0\n/,
  );
  t.match(await h.text('/disk monitor-traffic [find slot=pvc-a] once'), /write-rate: 0bps$/);
  t.same((await h.run('/disk monitor-traffic nope once')).lines, ['failure: no such item']);
  t.same((await h.run('/disk monitor-traffic [find slot=nope] once')).lines, [
    'failure: no such item',
  ]);
  t.equal((await h.run('/disk monitor-traffic pvc-a')).repeat, true, 'without once it streams');
  t.equal(await h.text('/system identity print'), '  name: rds-sim');
  t.match(await h.text('/system/resource/print'), /^ {19}uptime: 5s\n/);
  t.equal(await h.text('/disk'), '', 'a bare menu path just changes context');
  t.equal(await h.text(':put "hello world"'), 'hello world');
});

t.test('state persists across a reload (an RDS reboot)', async (t) => {
  const h = await cliHarness(t);
  await h.run(add('pvc-a'));
  await h.run(add('pvc-b'));
  await h.run('/disk remove pvc-a');
  await h.store.load();
  t.same(
    h.store.list().map((d) => [d.id, d.slot]),
    [[3, 'pvc-b']],
  );
  await h.run(add('pvc-c'));
  t.same(
    h.store.list().map((d) => d.id),
    [3, 4],
    'ids are never reused',
  );
});
