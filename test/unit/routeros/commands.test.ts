import t from 'tap';
import { InvalidArgumentError } from '../../../src/domain/errors';
import { createBuilders } from '../../../src/routeros/commands';
import {
  normalizeBasePath,
  quote,
  regexLiteral,
  validateHostNqn,
  validatePoolDir,
  validatePoolPath,
  validateSubsystemNqn,
} from '../../../src/routeros/grammar';

const b = createBuilders('storage-pool/k8s');
const NQN = 'nqn.2000-02.com.mikrotik:pvc-a';
const HOST = 'nqn.2014-08.org.nvmexpress:uuid:4c4c4544-0051-3510-8052-b4c04f4e3332';

t.test('quote: bare when safe, escaped otherwise, control and non-ASCII refused', async (t) => {
  t.equal(quote('storage-pool/k8s/a.img'), 'storage-pool/k8s/a.img');
  t.equal(quote('a:b'), '"a:b"');
  t.equal(quote(''), '""');
  t.equal(quote('a b'), '"a b"');
  t.equal(quote('x"y\\z$w?v'), '"x\\"y\\\\z\\$w\\?v"');
  t.equal(quote('[find]'), '"[find]"');
  t.throws(() => quote('a\nb'), InvalidArgumentError);
  t.throws(() => quote('a\tb'), InvalidArgumentError);
  t.throws(() => quote('\u00e9'), InvalidArgumentError);
  t.throws(() => quote('\x7f'), InvalidArgumentError);
});

t.test('regexLiteral neutralises dots and refuses other metacharacters', async (t) => {
  t.equal(regexLiteral('storage-pool/k8s.x/'), 'storage-pool/k8s[.]x/');
  t.throws(() => regexLiteral('a*'), InvalidArgumentError);
});

t.test('paths: normalised, under the base, no traversal', async (t) => {
  t.equal(normalizeBasePath('/storage-pool/k8s/'), 'storage-pool/k8s');
  t.throws(() => normalizeBasePath('storage-pool/../x'));
  t.throws(() => normalizeBasePath(3));
  t.equal(
    validatePoolPath('/storage-pool/k8s/a.img', 'storage-pool/k8s'),
    'storage-pool/k8s/a.img',
  );
  t.throws(() => validatePoolPath('storage-pool/k8s', 'storage-pool/k8s'), 'the base itself');
  t.throws(() => validatePoolPath('storage-pool/k8sx/a.img', 'storage-pool/k8s'), 'prefix trick');
  t.throws(() => validatePoolPath(5, 'storage-pool/k8s'));
  t.equal(validatePoolDir('storage-pool/k8s/', 'storage-pool/k8s'), 'storage-pool/k8s');
  t.equal(validatePoolDir('storage-pool/k8s/snaps', 'storage-pool/k8s'), 'storage-pool/k8s/snaps');
  t.throws(() => validatePoolDir('storage-pool', 'storage-pool/k8s'));
  t.throws(() => validatePoolDir(null, 'storage-pool/k8s'));
});

t.test('NQNs: grammar and 223-byte limit', async (t) => {
  const long = 'nqn.2000-02.com.mikrotik:' + 'a'.repeat(223 - 25);
  t.equal(validateSubsystemNqn(long), long);
  t.throws(() => validateSubsystemNqn(long + 'a'));
  t.equal(validateHostNqn(HOST), HOST);
  t.equal(
    validateHostNqn('nqn.2014-08.org.nvmexpress:uuid:ABCDEF'),
    'nqn.2014-08.org.nvmexpress:uuid:ABCDEF',
  );
  t.throws(() => validateSubsystemNqn('nqn.2014-08.org.nvmexpress:uuid:ABCDEF'), 'upper case');
});

t.test('disk add: exact bytes, quoted values, export flags', async (t) => {
  const cmd = b.diskAdd({
    slot: 'pvc-a',
    filePath: '/storage-pool/k8s/pvc-a.img',
    sizeBytes: 1610612737,
    nqn: NQN,
    port: 4420,
    allowedHosts: [HOST, HOST],
  });
  t.equal(cmd.name, '/disk add');
  t.equal(cmd.mutating, true);
  t.equal(
    cmd.text,
    '/disk add type=file file-path=storage-pool/k8s/pvc-a.img file-size=1610612737 slot=pvc-a ' +
      `nvme-tcp-export=yes nvme-tcp-server-port=4420 nvme-tcp-server-nqn="${NQN}" ` +
      `nvme-tcp-server-allow-host-name="${HOST}"`,
  );
});

t.test('copy, resize, remove, allow-list, file remove', async (t) => {
  t.equal(
    b.diskCopy({ sourceSlot: 'pvc-a', slot: 'snap-b', filePath: 'storage-pool/k8s/s/snap-b.img' })
      .text,
    '/disk add type=file copy-from=[find slot=pvc-a] file-path=storage-pool/k8s/s/snap-b.img ' +
      'slot=snap-b nvme-tcp-export=no',
  );
  t.equal(
    b.diskCopy({
      sourceSlot: 'snap-b',
      slot: 'pvc-c',
      filePath: 'storage-pool/k8s/pvc-c.img',
      sizeBytes: 2048,
      export: { nqn: NQN, port: 4421 },
    }).text,
    '/disk add type=file copy-from=[find slot=snap-b] file-path=storage-pool/k8s/pvc-c.img ' +
      `slot=pvc-c file-size=2048 nvme-tcp-export=yes nvme-tcp-server-port=4421 nvme-tcp-server-nqn="${NQN}" ` +
      'nvme-tcp-server-allow-host-name=""',
    "an exported copy states its (empty) allow-list: it never inherits the source's",
  );
  t.equal(
    b.diskCopy({
      sourceSlot: 'snap-b',
      slot: 'pvc-d',
      filePath: 'storage-pool/k8s/pvc-d.img',
      export: { nqn: NQN, port: 4420, allowedHosts: [HOST, HOST] },
    }).text,
    '/disk add type=file copy-from=[find slot=snap-b] file-path=storage-pool/k8s/pvc-d.img ' +
      `slot=pvc-d nvme-tcp-export=yes nvme-tcp-server-port=4420 nvme-tcp-server-nqn="${NQN}" ` +
      `nvme-tcp-server-allow-host-name="${HOST}"`,
  );
  t.equal(b.diskResize('pvc-a', 4096).text, '/disk set [find slot=pvc-a] file-size=4096');
  t.equal(b.diskRemove('pvc-a').text, '/disk remove [find slot=pvc-a]');
  t.equal(
    b.diskSetAllowedHosts('pvc-a', []).text,
    '/disk set [find slot=pvc-a] nvme-tcp-server-allow-host-name=""',
  );
  t.equal(
    b.fileRemove('storage-pool/k8s/pvc-a.img').text,
    '/file remove [find name=storage-pool/k8s/pvc-a.img]',
  );
});

t.test('reads in each output form', async (t) => {
  t.equal(b.diskGet('pvc-a', 'detail').text, '/disk print detail where slot=pvc-a');
  t.equal(b.diskGet('pvc-a', 'terse').text, '/disk print terse where slot=pvc-a');
  t.equal(
    b.diskGet('pvc-a', 'json').text,
    ':put [:serialize to=json [/disk print detail as-value where slot=pvc-a]]',
  );
  t.equal(b.diskList('pvc-', 'terse').text, '/disk print terse where slot~"^pvc-"');
  t.equal(b.diskList('', 'terse').text, '/disk print terse');
  t.equal(
    b.poolGet('storage-pool', 'detail').text,
    '/disk print detail where mount-point=storage-pool',
  );
  t.equal(
    b.fileList('storage-pool/k8s', 'json').text,
    ':put [:serialize to=json [/file print detail as-value where name~"^storage-pool/k8s/"]]',
  );
  t.equal(b.imagePath('/storage-pool/k8s/x.img'), 'storage-pool/k8s/x.img');
});
