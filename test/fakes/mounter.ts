/**
 * An in-memory Mounter: a mount table, a per-device filesystem map, scripted probe
 * results and busy unmounts. Device numbers come from the device name (/dev/nvme<N>n1 →
 * 259:<N>) and exist only while `exists(device)` says so (wire it to FakeFabrics.devices).
 */
import fs from 'node:fs';
import { FailedPreconditionError } from '../../src/domain/errors';
import type { FsType } from '../../src/domain/volume-context';
import type { FsStats, MountEntry, Mounter, PathState, ProbeResult } from '../../src/mount/ports';

export class FakeMounter implements Mounter {
  table: MountEntry[] = [];
  /** Filesystems on devices: type and size in bytes. */
  readonly filesystems = new Map<string, { type: string; size: number }>();
  /** Results returned by the next probe() calls, in order, before the real answer. */
  readonly probeScript: ProbeResult[] = [];
  /** Unmounts of a path that fail before succeeding. */
  readonly busy = new Map<string, number>();
  /** Paths whose stat() reports a stale handle. */
  readonly stalePaths = new Set<string>();
  readonly calls: string[] = [];
  /** Device nodes made with mknod outside /dev (path → the device they stand for). */
  readonly deviceNodes = new Map<string, string>();
  /** Error thrown by the next mount() call. */
  mountError: Error | undefined;
  stats: FsStats = {
    totalBytes: 1000,
    availableBytes: 600,
    usedBytes: 400,
    totalInodes: 100,
    freeInodes: 90,
    usedInodes: 10,
  };
  private nextId = 100;

  constructor(
    private readonly exists: (device: string) => boolean = () => true,
    private readonly sizeOf: (device: string) => number = () => 1024 ** 3,
  ) {}

  probe(device: string): Promise<ProbeResult> {
    this.calls.push(`probe ${device}`);
    const scripted = this.probeScript.shift();
    if (scripted) return Promise.resolve(scripted);
    const f = this.filesystems.get(device);
    return Promise.resolve(f ? { kind: 'filesystem', fsType: f.type } : { kind: 'empty' });
  }

  format(device: string, fsType: FsType): Promise<void> {
    this.calls.push(`format ${device} ${fsType}`);
    this.filesystems.set(device, { type: fsType, size: this.sizeOf(device) });
    return Promise.resolve();
  }

  check(device: string): Promise<void> {
    this.calls.push(`check ${device}`);
    return Promise.resolve();
  }

  mount(device: string, target: string, fsType: FsType, options: readonly string[]): Promise<void> {
    this.calls.push(`mount ${device} ${target} ${fsType} ${options.join(',')}`);
    if (this.mountError) {
      const e = this.mountError;
      this.mountError = undefined;
      return Promise.reject(e);
    }
    const ro = options.includes('ro');
    this.table.push({
      id: this.nextId++,
      parentId: 1,
      majorMinor: numberOf(device)!,
      root: '/',
      mountPoint: target,
      options: [ro ? 'ro' : 'rw'],
      fsType,
      source: device,
      superOptions: [ro ? 'ro' : 'rw'],
    });
    return Promise.resolve();
  }

  bind(source: string, target: string, readonly: boolean): Promise<void> {
    this.calls.push(`bind ${source} ${target}${readonly ? ' ro' : ''}`);
    const from = [...this.table].reverse().find((e) => e.mountPoint === source);
    const base: MountEntry = from ?? {
      id: 0,
      parentId: 1,
      majorMinor: '0:5',
      root: `/${source.replace(/^\/dev\//, '')}`,
      mountPoint: '',
      options: [],
      fsType: 'devtmpfs',
      source: 'udev',
      superOptions: ['rw'],
    };
    this.table.push({
      ...base,
      id: this.nextId++,
      mountPoint: target,
      options: [readonly ? 'ro' : 'rw'],
    });
    return Promise.resolve();
  }

  unmount(target: string): Promise<void> {
    this.calls.push(`unmount ${target}`);
    const left = this.busy.get(target) ?? 0;
    if (left > 0) {
      this.busy.set(target, left - 1);
      return Promise.reject(new FailedPreconditionError(`umount: ${target}: target is busy`));
    }
    const idx = this.table.map((e) => e.mountPoint).lastIndexOf(target);
    if (idx >= 0) this.table.splice(idx, 1);
    return Promise.resolve();
  }

  mounts(): Promise<readonly MountEntry[]> {
    return Promise.resolve([...this.table]);
  }

  grow(device: string, mountPoint: string, fsType: FsType): Promise<void> {
    this.calls.push(`grow ${device} ${mountPoint} ${fsType}`);
    const f = this.filesystems.get(device);
    if (f) f.size = this.sizeOf(device);
    return Promise.resolve();
  }

  filesystemSize(device: string): Promise<number | undefined> {
    return Promise.resolve(this.filesystems.get(device)?.size);
  }

  statfs(): Promise<FsStats> {
    return Promise.resolve(this.stats);
  }

  deviceNumber(devicePath: string): Promise<string | undefined> {
    const node = this.deviceNodes.get(devicePath);
    if (node !== undefined)
      return Promise.resolve(fs.existsSync(devicePath) ? numberOf(node) : undefined);
    return Promise.resolve(this.exists(devicePath) ? numberOf(devicePath) : undefined);
  }

  pathState(p: string): Promise<PathState> {
    if (this.stalePaths.has(p)) return Promise.resolve('stale');
    return Promise.resolve(fs.existsSync(p) ? 'ok' : 'missing');
  }

  /** Moves a filesystem to a new device name (the kernel renumbered the namespace). */
  moveFilesystem(from: string, to: string): void {
    const f = this.filesystems.get(from);
    if (f) this.filesystems.set(to, f);
  }
}

function numberOf(device: string): string | undefined {
  const m = /^\/dev\/nvme(\d+)n1$/.exec(device);
  return m ? `259:${m[1]}` : undefined;
}
