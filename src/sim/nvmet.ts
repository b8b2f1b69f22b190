/**
 * The `nvmet` backend: every exported disk becomes a Linux kernel NVMe target subsystem
 * (configfs), namespace 1 backed by the image file, on a TCP port per distinct
 * `nvme-tcp-server-port`. An empty allow-list sets attr_allow_any_host=1; otherwise only
 * the listed host NQNs are linked under allowed_hosts/ (real fencing).
 *
 * configfs creates a group's attribute files and default child groups (namespaces/,
 * allowed_hosts/, ports' subsystems/) on mkdir and removes them on rmdir; this code only
 * creates what configfs does not. The configfs root is a parameter so tests can use a fake.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { allowedHosts, type SimBackend } from './backend';
import type { SimDisk } from './model';

export interface NvmetOptions {
  /** Host directory of the pool's image files. */
  readonly poolDir: string;
  /** Default '/sys/kernel/config'. */
  readonly configfsRoot?: string;
  /** Address the ports listen on (the "RDS address"), default '127.0.0.1'. */
  readonly traddr?: string;
  /** Default 'ipv4'. */
  readonly adrfam?: 'ipv4' | 'ipv6';
  /** buffered_io for namespaces: 'auto' (default) turns it on when the pool is on tmpfs. */
  readonly bufferedIo?: boolean | 'auto';
  /** The file operations used on configfs (tests pass a fake that behaves like configfs). */
  readonly io?: ConfigfsIo;
}

export type ConfigfsIo = Pick<
  typeof fs,
  'mkdir' | 'rmdir' | 'writeFile' | 'readFile' | 'readdir' | 'symlink' | 'unlink' | 'lstat'
>;

const TMPFS_MAGIC = 0x01021994;

async function ignore(p: Promise<unknown>, ...codes: string[]): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!codes.includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
}

async function exists(io: ConfigfsIo, p: string): Promise<boolean> {
  try {
    await io.lstat(p);
    return true;
  } catch {
    return false;
  }
}

export function createNvmetBackend(opts: NvmetOptions): SimBackend {
  const io: ConfigfsIo = opts.io ?? fs;
  const root = path.join(opts.configfsRoot ?? '/sys/kernel/config', 'nvmet');
  const subsystems = path.join(root, 'subsystems');
  const hostsDir = path.join(root, 'hosts');
  const portsDir = path.join(root, 'ports');
  const sub = (nqn: string): string => path.join(subsystems, nqn);
  const ns1 = (nqn: string): string => path.join(sub(nqn), 'namespaces', '1');
  const port = (p: number): string => path.join(portsDir, String(p));
  const write = (file: string, value: string): Promise<void> => io.writeFile(file, value);

  const buffered = async (): Promise<boolean> => {
    if (opts.bufferedIo !== undefined && opts.bufferedIo !== 'auto') return opts.bufferedIo;
    const st = await fs.statfs(opts.poolDir);
    return st.type === TMPFS_MAGIC;
  };

  const ensurePort = async (p: number): Promise<void> => {
    if (await exists(io, port(p))) return;
    await io.mkdir(port(p));
    await write(path.join(port(p), 'addr_trtype'), 'tcp');
    await write(path.join(port(p), 'addr_adrfam'), opts.adrfam ?? 'ipv4');
    await write(path.join(port(p), 'addr_traddr'), opts.traddr ?? '127.0.0.1');
    await write(path.join(port(p), 'addr_trsvcid'), String(p));
  };

  const setHosts = async (d: SimDisk): Promise<void> => {
    const dir = path.join(sub(d.nqn), 'allowed_hosts');
    const want = new Set(allowedHosts(d.allowHost));
    for (const h of await io.readdir(dir)) {
      if (!want.has(h)) await io.unlink(path.join(dir, h));
    }
    for (const h of want) {
      if (!(await exists(io, path.join(hostsDir, h)))) await io.mkdir(path.join(hostsDir, h));
      await ignore(io.symlink(path.join(hostsDir, h), path.join(dir, h)), 'EEXIST');
    }
    await write(path.join(sub(d.nqn), 'attr_allow_any_host'), want.size === 0 ? '1' : '0');
  };

  const exportDisk = async (d: SimDisk): Promise<void> => {
    if (!(await exists(io, sub(d.nqn)))) await io.mkdir(sub(d.nqn));
    await setHosts(d);
    if (!(await exists(io, ns1(d.nqn)))) await io.mkdir(ns1(d.nqn));
    const device = path.join(opts.poolDir, ...d.filePath.split('/').slice(1));
    if ((await io.readFile(path.join(ns1(d.nqn), 'enable'), 'utf8')).trim() !== '1') {
      await write(path.join(ns1(d.nqn), 'device_path'), device);
      if (await buffered()) await write(path.join(ns1(d.nqn), 'buffered_io'), '1');
      await write(path.join(ns1(d.nqn), 'enable'), '1');
    }
    await ensurePort(d.port);
    await ignore(io.symlink(sub(d.nqn), path.join(port(d.port), 'subsystems', d.nqn)), 'EEXIST');
  };

  const unexport = async (nqn: string): Promise<void> => {
    for (const p of await readdirOrEmpty(io, portsDir)) {
      const link = path.join(portsDir, p, 'subsystems', nqn);
      await ignore(io.unlink(link), 'ENOENT');
      if ((await readdirOrEmpty(io, path.join(portsDir, p, 'subsystems'))).length === 0) {
        await ignore(io.rmdir(path.join(portsDir, p)), 'ENOENT', 'EBUSY');
      }
    }
    if (!(await exists(io, sub(nqn)))) return;
    for (const h of await readdirOrEmpty(io, path.join(sub(nqn), 'allowed_hosts'))) {
      await io.unlink(path.join(sub(nqn), 'allowed_hosts', h));
    }
    if (await exists(io, ns1(nqn))) {
      await write(path.join(ns1(nqn), 'enable'), '0');
      await io.rmdir(ns1(nqn));
    }
    await io.rmdir(sub(nqn));
  };

  /** Subsystems this pool owns: namespace 1 backed by a file under poolDir. */
  const owned = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const nqn of await readdirOrEmpty(io, subsystems)) {
      const dp = await io.readFile(path.join(ns1(nqn), 'device_path'), 'utf8').catch(() => '');
      if (dp.trim().startsWith(opts.poolDir + path.sep)) out.push(nqn);
    }
    return out;
  };

  return {
    kind: 'nvmet',
    poolDir: opts.poolDir,
    async sync(disks) {
      const want = disks.filter((d) => d.nvmeExport);
      for (const nqn of await owned()) {
        if (!want.some((d) => d.nqn === nqn)) await unexport(nqn);
      }
      for (const d of want) await exportDisk(d);
    },
    async apply(before, after) {
      const moved =
        !before ||
        !after ||
        before.nvmeExport !== after.nvmeExport ||
        before.nqn !== after.nqn ||
        before.port !== after.port;
      if (before?.nvmeExport && moved) await unexport(before.nqn);
      if (!after?.nvmeExport) return;
      if (moved) return exportDisk(after);
      if (before?.allowHost !== after.allowHost) await setHosts(after);
      if (before && after.fileSize > before.fileSize) {
        await ignore(write(path.join(ns1(after.nqn), 'revalidate_size'), '1'), 'ENOENT');
      }
    },
    close: () => Promise.resolve(),
  };
}

async function readdirOrEmpty(io: ConfigfsIo, dir: string): Promise<string[]> {
  try {
    return await io.readdir(dir);
  } catch {
    return [];
  }
}
