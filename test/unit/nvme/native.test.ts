import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { addonCandidates, isNativeError, loadNvmeAddon } from '../../../src/nvme/native';

t.test(
  'candidates: override first, then build/Release and build/Debug of the package root',
  async (t) => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'pkg-'));
    t.teardown(() => fs.rm(root, { recursive: true, force: true }));
    await fs.writeFile(path.join(root, 'package.json'), '{}');
    const deep = path.join(root, 'dist/src/nvme');
    await fs.mkdir(deep, { recursive: true });
    t.same(addonCandidates({ fromDir: deep, overridePath: '/opt/x.node' }), [
      '/opt/x.node',
      path.join(root, 'build/Release/rds_nvme.node'),
      path.join(root, 'build/Debug/rds_nvme.node'),
    ]);
    t.same(addonCandidates({ fromDir: '/', overridePath: '' }), []);
  },
);

t.test('a load failure lists every path tried and why', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'pkg-'));
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  await fs.writeFile(path.join(root, 'package.json'), '{}');
  const bogus = path.join(root, 'bogus.node');
  await fs.writeFile(bogus, 'not an ELF');
  const err = (() => {
    try {
      loadNvmeAddon({ fromDir: root, overridePath: bogus });
      return undefined;
    } catch (e) {
      return e as Error;
    }
  })();
  t.ok(err);
  t.match(err?.message, /^cannot load the rds_nvme addon; tried:/);
  t.match(err?.message, bogus);
  t.match(err?.message, path.join(root, 'build/Release/rds_nvme.node'));
  t.match(err?.message, path.join(root, 'build/Debug/rds_nvme.node'));
  t.throws(() => loadNvmeAddon({ fromDir: '/' }), /no candidate paths/);
});

t.test('loads the built addon from the package root with the expected surface', async (t) => {
  const addon = loadNvmeAddon();
  t.equal(addon.abiVersion, 6);
  for (const f of [
    'connect',
    'disconnect',
    'scan',
    'scanController',
    'setAttribute',
    'rescan',
    'findOpeners',
    'deviceUsage',
    'probeDevice',
    'mount',
    'umount',
    'readFile',
    'run',
  ] as const) {
    t.type(addon[f], 'function');
  }
});

t.test('isNativeError checks the data, not the message', async (t) => {
  t.ok(
    isNativeError(
      Object.assign(new Error('x'), { code: 'EIO', errno: 5, syscall: 'write', path: '/p' }),
    ),
  );
  t.notOk(isNativeError(Object.assign(new Error('EIO'), { code: 'EIO' })));
  t.notOk(isNativeError({ code: 'EIO', errno: 5, syscall: 'write', path: '/p' }));
});
