/**
 * A fake of the kernel's nvmet configfs tree over a temp directory, strict where configfs is:
 * mkdir only inside group directories, and it creates the group's attribute files and
 * default child groups itself (namespaces/, allowed_hosts/, a port's subsystems/); rmdir
 * only of a group whose user-made children and links are gone; attribute files cannot be
 * created or removed, only written; symlinks only where configfs allows them; a port's
 * address cannot change while subsystems are linked to it; device_path cannot change while
 * the namespace is enabled.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ConfigfsIo } from '../../src/sim/nvmet';

type Kind = 'subsystem' | 'namespace' | 'port' | 'host';

const ATTRS: Readonly<Record<Kind, Readonly<Record<string, string>>>> = {
  subsystem: {
    attr_allow_any_host: '0\n',
    attr_version: '1.3\n',
    attr_serial: '0123456789abcdef\n',
  },
  namespace: {
    device_path: '\n',
    enable: '0\n',
    buffered_io: '0\n',
    revalidate_size: '',
    device_nguid: '\n',
  },
  port: { addr_trtype: '\n', addr_adrfam: '\n', addr_traddr: '\n', addr_trsvcid: '\n' },
  host: {},
};
const CHILD_GROUPS: Readonly<Record<Kind, readonly string[]>> = {
  subsystem: ['namespaces', 'allowed_hosts'],
  namespace: [],
  port: ['subsystems', 'referrals'],
  host: [],
};

function err(code: string, op: string, p: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${op} '${p}'`), { code, syscall: op, path: p });
}

export interface FakeConfigfs {
  /** The directory to pass as configfsRoot. */
  readonly root: string;
  readonly io: ConfigfsIo;
  /** Every write, in order, for tests that care about sequencing. */
  readonly writes: { path: string; value: string }[];
  /** mkdir nvmet/{subsystems,ports,hosts} as `modprobe nvmet` does. */
  init(): Promise<void>;
}

export function createFakeConfigfs(root: string): FakeConfigfs {
  const nvmet = path.join(root, 'nvmet');
  const writes: { path: string; value: string }[] = [];
  const rel = (p: string): string[] => path.relative(nvmet, p).split(path.sep);

  /** What kind of group `p` would be if made by mkdir, or undefined if not a group slot. */
  const groupKind = (p: string): Kind | undefined => {
    const r = rel(p);
    if (r.length === 2 && r[0] === 'subsystems') return 'subsystem';
    if (r.length === 2 && r[0] === 'ports' && /^\d+$/.test(r[1]!)) return 'port';
    if (r.length === 2 && r[0] === 'hosts') return 'host';
    if (r.length === 4 && r[0] === 'subsystems' && r[2] === 'namespaces' && /^\d+$/.test(r[3]!)) {
      return 'namespace';
    }
    return undefined;
  };
  const isDir = async (p: string): Promise<boolean> =>
    (await fs.lstat(p).catch(() => undefined))?.isDirectory() ?? false;
  const read = async (p: string): Promise<string> => (await fs.readFile(p, 'utf8')).trim();

  const io: ConfigfsIo = {
    lstat: fs.lstat,
    readFile: fs.readFile,
    readdir: fs.readdir,
    mkdir: (async (p: string) => {
      const kind = groupKind(p);
      if (!kind) throw err('EPERM', 'mkdir', p);
      if (!(await isDir(path.dirname(p)))) throw err('ENOENT', 'mkdir', p);
      if (await fs.lstat(p).catch(() => undefined)) throw err('EEXIST', 'mkdir', p);
      await fs.mkdir(p);
      for (const [name, value] of Object.entries(ATTRS[kind]))
        await fs.writeFile(path.join(p, name), value);
      for (const g of CHILD_GROUPS[kind]) await fs.mkdir(path.join(p, g));
      return undefined;
    }) as ConfigfsIo['mkdir'],
    rmdir: (async (p: string) => {
      const kind = groupKind(p);
      if (!kind) throw err('EPERM', 'rmdir', p);
      for (const g of CHILD_GROUPS[kind]) {
        if ((await fs.readdir(path.join(p, g))).length > 0) throw err('ENOTEMPTY', 'rmdir', p);
      }
      if (kind === 'subsystem' || kind === 'host') {
        const linkDir = kind === 'subsystem' ? 'ports' : 'subsystems';
        for (const owner of await fs.readdir(path.join(nvmet, linkDir))) {
          const sub = kind === 'subsystem' ? 'subsystems' : 'allowed_hosts';
          const link = path.join(nvmet, linkDir, owner, sub, path.basename(p));
          if (await fs.lstat(link).catch(() => undefined)) throw err('EBUSY', 'rmdir', p);
        }
      }
      await fs.rm(p, { recursive: true });
    }) as ConfigfsIo['rmdir'],
    writeFile: (async (p: string, value: string) => {
      const st = await fs.lstat(p).catch(() => undefined);
      if (!st?.isFile()) throw err(st ? 'EISDIR' : 'EACCES', 'open', p);
      const name = path.basename(p);
      const dir = path.dirname(p);
      if (
        groupKind(dir) === 'port' &&
        (await fs.readdir(path.join(dir, 'subsystems'))).length > 0
      ) {
        throw err('EACCES', 'write', p);
      }
      if (name === 'device_path' && (await read(path.join(dir, 'enable'))) === '1')
        throw err('EBUSY', 'write', p);
      if (
        name === 'enable' &&
        value.trim() === '1' &&
        (await read(path.join(dir, 'device_path'))) === ''
      ) {
        throw err('EINVAL', 'write', p);
      }
      writes.push({ path: path.relative(root, p), value: String(value) });
      if (name !== 'revalidate_size') await fs.writeFile(p, `${String(value).trim()}\n`);
    }) as ConfigfsIo['writeFile'],
    symlink: (async (target: string, p: string) => {
      const r = rel(p);
      const hostLink = r.length === 4 && r[0] === 'subsystems' && r[2] === 'allowed_hosts';
      const portLink = r.length === 4 && r[0] === 'ports' && r[2] === 'subsystems';
      const want = hostLink ? ['hosts', r[3]] : portLink ? ['subsystems', r[3]] : undefined;
      if (!want || path.relative(nvmet, target) !== path.join(...(want as string[])))
        throw err('EPERM', 'symlink', p);
      if (!(await isDir(target))) throw err('ENOENT', 'symlink', p);
      if (portLink) {
        const port = path.join(nvmet, 'ports', r[1]!);
        for (const a of ['addr_trtype', 'addr_adrfam', 'addr_traddr', 'addr_trsvcid']) {
          if ((await read(path.join(port, a))) === '') throw err('EINVAL', 'symlink', p);
        }
      }
      await fs.symlink(target, p);
    }) as ConfigfsIo['symlink'],
    unlink: (async (p: string) => {
      const st = await fs.lstat(p).catch(() => undefined);
      if (!st) throw err('ENOENT', 'unlink', p);
      if (!st.isSymbolicLink()) throw err('EPERM', 'unlink', p);
      await fs.unlink(p);
    }) as ConfigfsIo['unlink'],
  };

  return {
    root,
    io,
    writes,
    init: async () => {
      for (const d of ['subsystems', 'ports', 'hosts'])
        await fs.mkdir(path.join(nvmet, d), { recursive: true });
    },
  };
}
