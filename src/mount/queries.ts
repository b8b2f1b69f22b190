/**
 * The Mounter's questions to the kernel that need no external tool: the mount table, a
 * filesystem's size from its superblock, statfs, device numbers and stale-handle checks.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseMountinfo } from './mountinfo';
import type { FsStats, Mounter, PathState } from './ports';
import { SUPERBLOCK_BYTES, extSize, xfsSize } from './superblock';

type Queries = Pick<Mounter, 'mounts' | 'filesystemSize' | 'statfs' | 'deviceNumber' | 'pathState'>;

export function kernelQueries(procRoot: string): Queries {
  return {
    async mounts() {
      return parseMountinfo(await fs.readFile(path.join(procRoot, 'self', 'mountinfo'), 'utf8'));
    },
    async filesystemSize(device, fsType) {
      const head = await readHead(device);
      if (typeof head === 'string') return undefined;
      return fsType === 'xfs' ? xfsSize(head) : extSize(head);
    },
    async statfs(p): Promise<FsStats> {
      const s = await fs.statfs(p);
      return {
        totalBytes: s.blocks * s.bsize,
        availableBytes: s.bavail * s.bsize,
        usedBytes: (s.blocks - s.bfree) * s.bsize,
        totalInodes: s.files,
        freeInodes: s.ffree,
        usedInodes: s.files - s.ffree,
      };
    },
    async deviceNumber(devicePath) {
      try {
        const st = await fs.stat(devicePath);
        if (!st.isBlockDevice()) return undefined;
        return `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}`;
      } catch {
        return undefined;
      }
    },
    async pathState(p): Promise<PathState> {
      try {
        await fs.stat(p);
        return 'ok';
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return 'missing';
        if (code === 'ESTALE' || code === 'EIO' || code === 'ENOTCONN') return 'stale';
        throw err;
      }
    },
  };
}

/** The first 4 KiB of a device, or why it could not be read (an ambiguous probe). */
export async function readHead(device: string): Promise<Buffer | string> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(device, 'r');
    const st = await fh.stat();
    if (!st.isBlockDevice()) return `${device} is not a block device`;
    const buf = Buffer.alloc(SUPERBLOCK_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead < buf.length) return `${device} returned ${bytesRead} bytes (size 0?)`;
    return buf;
  } catch (err) {
    return `${device} could not be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  } finally {
    await fh?.close();
  }
}
