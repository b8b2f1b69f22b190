/**
 * The pool's files on the host: device paths (`storage-pool/k8s/x.img`) map to files under
 * one host directory. Images are sparse; copies are reflinks where the filesystem allows,
 * otherwise a hole-preserving copy (all-zero blocks are skipped, not written).
 */
import { execFile } from 'node:child_process';
import { constants as fsc, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { SimFileEntry } from './model';

/** A RouterOS `failure: <message>` reply. */
export class RosFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RosFailure';
  }
}

const COPY_CHUNK = 1024 * 1024;

export interface ResolvedPath {
  /** Device form, no leading slash. */
  readonly name: string;
  readonly abs: string;
}

export class PoolFiles {
  constructor(
    readonly rootDir: string,
    readonly mountPoint: string,
  ) {}

  /**
   * Device path → host path. Accepts a leading `/`; refuses anything outside the pool,
   * empty segments, `.` and `..`, and the pool root itself.
   */
  resolve(devicePath: string): ResolvedPath {
    const name = devicePath.startsWith('/') ? devicePath.slice(1) : devicePath;
    const segs = name.split('/');
    const bad = segs.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0'));
    if (bad || segs[0] !== this.mountPoint || segs.length < 2) {
      throw new RosFailure('invalid file-path');
    }
    return { name, abs: path.join(this.rootDir, ...segs.slice(1)) };
  }

  async exists(abs: string): Promise<boolean> {
    try {
      await fs.lstat(abs);
      return true;
    } catch {
      return false;
    }
  }

  /** New sparse file; parents are created (a simulator choice; see README). */
  async create(abs: string, size: number): Promise<void> {
    await this.mkdirParents(abs);
    const fh = await fs.open(abs, 'wx');
    try {
      await fh.truncate(size);
    } finally {
      await fh.close();
    }
  }

  /** Copy `src` to a new `dst` (reflink when possible), then grow to `size` if larger. */
  async copy(src: string, dst: string, size: number): Promise<void> {
    await this.mkdirParents(dst);
    try {
      await fs.copyFile(src, dst, fsc.COPYFILE_EXCL | fsc.COPYFILE_FICLONE_FORCE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw err;
      if (!(await gnuSparseCopy(src, dst))) await sparseCopy(src, dst);
    }
    const st = await fs.stat(dst);
    if (st.size < size) await fs.truncate(dst, size);
  }

  async grow(abs: string, size: number): Promise<void> {
    await fs.truncate(abs, size);
  }

  async remove(abs: string, isDir: boolean): Promise<void> {
    if (isDir) await fs.rmdir(abs);
    else await fs.unlink(abs);
  }

  /** Every entry under the pool, the pool root first, in path order. */
  async list(): Promise<SimFileEntry[]> {
    await fs.mkdir(this.rootDir, { recursive: true });
    const rootStat = await fs.stat(this.rootDir);
    const out: SimFileEntry[] = [
      { name: this.mountPoint, type: 'disk', size: 0, modified: rootStat.mtime },
    ];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const names = (await fs.readdir(dir)).sort();
      for (const n of names) {
        const abs = path.join(dir, n);
        const st = await fs.lstat(abs);
        const name = `${prefix}/${n}`;
        if (st.isDirectory()) {
          out.push({ name, type: 'directory', size: 0, modified: st.mtime });
          await walk(abs, name);
        } else if (st.isFile()) {
          out.push({ name, type: 'file', size: st.size, modified: st.mtime });
        }
      }
    };
    await walk(this.rootDir, this.mountPoint);
    return out;
  }

  /** Logical bytes of every file (the quota counts what was promised, not what is written). */
  async usedBytes(): Promise<number> {
    return (await this.list()).reduce((sum, e) => sum + (e.type === 'file' ? e.size : 0), 0);
  }

  private async mkdirParents(abs: string): Promise<void> {
    await fs.mkdir(path.dirname(abs), { recursive: true });
  }
}

let gnuCp: Promise<boolean> | undefined;

/**
 * GNU cp finds the data extents (SEEK_DATA/SEEK_HOLE), so a mostly empty 1 GiB image
 * copies in milliseconds instead of reading a gigabyte of zeros; used when the machine has
 * it (busybox cp does not). Returns false when it is not available.
 */
async function gnuSparseCopy(src: string, dst: string): Promise<boolean> {
  gnuCp ??= run('cp', ['--version']).then(
    (out) => out.includes('GNU coreutils'),
    () => false,
  );
  if (!(await gnuCp)) return false;
  await fs.access(dst).then(
    () => Promise.reject(Object.assign(new Error(`${dst} exists`), { code: 'EEXIST' })),
    () => undefined,
  );
  await run('cp', ['--sparse=always', '--reflink=auto', '--no-preserve=all', '--', src, dst]);
  return true;
}

function run(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 120_000 }, (err, stdout) => {
      if (err) reject(new Error(`${cmd} failed: ${err.message}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

async function sparseCopy(src: string, dst: string): Promise<void> {
  const input = await fs.open(src, 'r');
  const output = await fs.open(dst, 'wx');
  try {
    const { size } = await input.stat();
    const buf = Buffer.alloc(COPY_CHUNK);
    for (let off = 0; off < size; off += COPY_CHUNK) {
      const { bytesRead } = await input.read(buf, 0, COPY_CHUNK, off);
      const chunk = buf.subarray(0, bytesRead);
      if (chunk.some((b) => b !== 0)) await output.write(chunk, 0, bytesRead, off);
    }
    await output.truncate(size);
  } finally {
    await input.close();
    await output.close();
  }
}
