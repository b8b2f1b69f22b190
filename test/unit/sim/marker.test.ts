/**
 * What rds-sim does with the properties an ownership marker could live in: `comment=` is
 * not a `/disk` property (the device's reference documents none), and `copy-from` takes the
 * new disk's `file-path` from the command, never from the source.
 */
import t from 'tap';
import { cliHarness } from './helpers';

t.test('comment= is refused on /disk; copy-from needs its own file-path', async (t) => {
  const h = await cliHarness(t);
  t.match(
    await h.text(
      '/disk add type=file file-path=storage-pool/k8s/a.img file-size=1M slot=a comment=x',
    ),
    /expected end of command/,
  );
  t.equal(
    await h.text('/disk add type=file file-path=storage-pool/k8s/a.img file-size=1M slot=a'),
    '',
  );
  t.match(
    await h.text('/disk add type=file copy-from=[find slot=a] slot=b'),
    /file-path not specified/,
  );
  t.equal(
    await h.text(
      '/disk add type=file copy-from=[find slot=a] file-path=storage-pool/k8s/b.rdscsi.img slot=b',
    ),
    '',
  );
  t.same(
    h.store.list().map((d) => [d.slot, d.filePath]),
    [
      ['a', 'storage-pool/k8s/a.img'],
      ['b', 'storage-pool/k8s/b.rdscsi.img'],
    ],
  );
});
