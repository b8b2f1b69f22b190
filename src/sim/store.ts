/**
 * The simulated device's disk table: the rules of `/disk add|set|remove` and `/file remove`,
 * kept in memory, saved to a JSON state file after every change (so a restart is an RDS
 * reboot), with the images in the pool and exports delegated to the backend.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { DiskArgs } from './ast';
import type { SimBackend } from './backend';
import type { SimDisk, SimFileEntry, SimPool } from './model';
import { RosFailure, type PoolFiles } from './pool';

export interface StoreOptions {
  /** Where the disk table persists; absent = memory only. */
  readonly stateFile?: string;
  readonly pool: PoolFiles;
  readonly quotaBytes: number;
  readonly backend: SimBackend;
}

interface StateFileShape {
  readonly version: 1;
  readonly nextId: number;
  readonly disks: SimDisk[];
}

export const POOL_ID = 1;
const DEFAULT_PORT = 4420;

export class DiskStore {
  private table: SimDisk[] = [];
  private nextId = POOL_ID + 1;

  constructor(private readonly opts: StoreOptions) {}

  /** Read the state file (if any) and make the backend's exports match it. */
  async load(): Promise<void> {
    this.table = [];
    this.nextId = POOL_ID + 1;
    if (this.opts.stateFile !== undefined) {
      try {
        const raw = JSON.parse(await fs.readFile(this.opts.stateFile, 'utf8')) as StateFileShape;
        if (raw.version !== 1 || !Array.isArray(raw.disks)) throw new Error('unknown state format');
        this.table = raw.disks;
        this.nextId = Math.max(raw.nextId, ...raw.disks.map((d) => d.id + 1), POOL_ID + 1);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    await this.opts.backend.sync(this.table);
  }

  list(): readonly SimDisk[] {
    return this.table;
  }

  async pool(): Promise<SimPool> {
    return {
      id: POOL_ID,
      mountPoint: this.opts.pool.mountPoint,
      sizeBytes: this.opts.quotaBytes,
      usedBytes: await this.opts.pool.usedBytes(),
    };
  }

  files(): Promise<SimFileEntry[]> {
    return this.opts.pool.list();
  }

  async add(args: DiskArgs, source?: SimDisk): Promise<SimDisk> {
    if (args.type === undefined) throw new RosFailure('type not specified');
    if (args.filePath === undefined) throw new RosFailure('file-path not specified');
    const size = args.fileSize ?? source?.fileSize;
    if (size === undefined) throw new RosFailure('file-size not specified');
    if (source && size < source.fileSize) throw new RosFailure('file-size can not be reduced');
    const target = this.opts.pool.resolve(args.filePath);
    const slot = args.slot ?? path.posix.basename(target.name).replace(/\.[^.]*$/, '');
    if (slot === this.opts.pool.mountPoint || this.table.some((d) => d.slot === slot)) {
      throw new RosFailure('disk with such slot already exists');
    }
    const disk: SimDisk = {
      id: this.nextId,
      slot,
      filePath: target.name,
      fileSize: size,
      nvmeExport: args.nvmeExport ?? false,
      port: args.port ?? DEFAULT_PORT,
      nqn: args.nqn ?? '',
      allowHost: args.allowHost ?? '',
      password: args.password ?? '',
    };
    this.checkExport(disk);
    if (await this.opts.pool.exists(target.abs)) throw new RosFailure('file already exists');
    await this.checkSpace(size);
    if (source) {
      await this.opts.pool.copy(this.opts.pool.resolve(source.filePath).abs, target.abs, size);
    } else {
      await this.opts.pool.create(target.abs, size);
    }
    this.nextId += 1;
    this.table = [...this.table, disk];
    await this.save();
    try {
      await this.applyOrFail(undefined, disk);
    } catch (err) {
      // All or nothing: a disk whose export failed is not left behind (a simulator choice).
      this.table = this.table.filter((d) => d.id !== disk.id);
      await this.save();
      await this.opts.backend.apply(disk, undefined).catch(() => undefined);
      await this.opts.pool.remove(target.abs, false);
      throw err;
    }
    return disk;
  }

  async update(before: SimDisk, args: DiskArgs): Promise<void> {
    const after: SimDisk = {
      ...before,
      fileSize: args.fileSize ?? before.fileSize,
      nvmeExport: args.nvmeExport ?? before.nvmeExport,
      port: args.port ?? before.port,
      nqn: args.nqn ?? before.nqn,
      allowHost: args.allowHost ?? before.allowHost,
      password: args.password ?? before.password,
    };
    if (after.fileSize < before.fileSize) throw new RosFailure('file-size can not be reduced');
    this.checkExport(after);
    if (after.fileSize > before.fileSize) {
      await this.checkSpace(after.fileSize - before.fileSize);
      await this.opts.pool.grow(this.opts.pool.resolve(after.filePath).abs, after.fileSize);
    }
    this.table = this.table.map((d) => (d.id === before.id ? after : d));
    await this.save();
    await this.applyOrFail(before, after);
  }

  /** Drops the disks and their exports; the image files stay (as on the device). */
  async remove(disks: readonly SimDisk[]): Promise<void> {
    const ids = new Set(disks.map((d) => d.id));
    this.table = this.table.filter((d) => !ids.has(d.id));
    await this.save();
    for (const d of disks) await this.applyOrFail(d, undefined);
  }

  /** Deletes files and empty directories; a file a disk still uses is refused. */
  async removeFiles(entries: readonly SimFileEntry[]): Promise<void> {
    for (const e of entries) {
      if (e.type === 'disk') throw new RosFailure('can not remove disk');
      if (this.table.some((d) => d.filePath === e.name)) throw new RosFailure('file is in use');
    }
    for (const e of entries) {
      try {
        await this.opts.pool.remove(this.opts.pool.resolve(e.name).abs, e.type === 'directory');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY') throw new RosFailure('directory is not empty');
        if (code !== 'ENOENT') throw err;
      }
    }
  }

  private checkExport(d: SimDisk): void {
    if (!d.nvmeExport) return;
    if (d.nqn === '') throw new RosFailure('nvme-tcp-server-nqn not specified');
    if (this.table.some((o) => o.id !== d.id && o.nvmeExport && o.nqn === d.nqn)) {
      throw new RosFailure('nvme-tcp-server-nqn already in use');
    }
  }

  private async checkSpace(extra: number): Promise<void> {
    const used = await this.opts.pool.usedBytes();
    if (used + extra > this.opts.quotaBytes) throw new RosFailure('not enough space');
  }

  private async applyOrFail(
    before: SimDisk | undefined,
    after: SimDisk | undefined,
  ): Promise<void> {
    try {
      await this.opts.backend.apply(before, after);
    } catch (err) {
      throw new RosFailure(`export failed: ${(err as Error).message}`);
    }
  }

  private async save(): Promise<void> {
    if (this.opts.stateFile === undefined) return;
    const body: StateFileShape = { version: 1, nextId: this.nextId, disks: this.table };
    const tmp = `${this.opts.stateFile}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(body, null, 2) + '\n');
    await fs.rename(tmp, this.opts.stateFile);
  }
}
