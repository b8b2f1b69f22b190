/**
 * An in-memory RDS behind the RouterOS ports, faithful to the port contracts in
 * src/routeros/ports.ts and to the device facts in ROUTEROS.md:
 * - identifiers are checked with the real grammars (InvalidArgumentError, nothing done);
 * - create/copy of an existing slot returns it when it matches, else AlreadyExistsError;
 *   a file already at the path (without a disk) is AlreadyExistsError, like the device;
 * - removing a disk keeps its file on the device, but `delete` removes both (port contract);
 * - `/file remove` of a file a disk uses is refused (InternalError, as the adapter maps it);
 * - a pool quota gives ResourceExhaustedError;
 * - each file carries a content string so copies can be compared.
 * Faults: `inject(method, fault)` makes the next matching call fail before its effect,
 * after its effect (a lost reply), or half-way (file made without disk; disk removed, file kept).
 */
import {
  AlreadyExistsError,
  CancelledError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from '../../src/domain/errors';
import {
  validatePoolDir,
  validatePoolPath,
  validatePort,
  validateSize,
  validateSlot,
  validateSlotPrefix,
  validateSubsystemNqn,
} from '../../src/routeros/grammar';
import type {
  CallOptions,
  CapacityPort,
  CopyDiskSpec,
  CreateDiskSpec,
  DeviceInfo,
  Disk,
  ExportsPort,
  FileEntry,
  FilesPort,
  HealthPort,
  PoolCapacity,
  RouterOsPorts,
  VolumesPort,
} from '../../src/routeros/ports';

export type FakeMethod =
  | 'create'
  | 'get'
  | 'list'
  | 'resize'
  | 'delete'
  | 'copy'
  | 'files.list'
  | 'files.remove'
  | 'capacity'
  | 'setAllowedHosts';

export interface FakeFault {
  /**
   * before: nothing happens; after: the effect happens, the reply is lost; partial: only
   * the file part happens (create/copy: the image is made but no disk; delete: the disk
   * is removed but its file stays).
   */
  readonly when: 'before' | 'after' | 'partial';
  /** Default: UnavailableError (a lost connection). */
  readonly error?: Error;
  /** Only calls whose first argument (slot or path) matches. */
  readonly match?: RegExp;
  /** How many calls it applies to (default 1). */
  times?: number;
}

interface FileRec {
  size: number;
  content: string;
  lastModified: Date;
}

export interface FakeOptions {
  readonly basePath?: string;
  readonly quotaBytes?: number;
  /** Added to every call, to let concurrent calls overlap. */
  readonly latencyMs?: number;
  readonly now?: () => number;
}

export class FakeRds implements RouterOsPorts {
  readonly basePath: string;
  quotaBytes: number;
  latencyMs: number;
  readonly disks = new Map<string, Disk>();
  readonly fileTable = new Map<string, FileRec>();
  /** Every call: method and its first argument. */
  readonly calls: { method: FakeMethod; arg: string }[] = [];
  private readonly faults = new Map<FakeMethod, FakeFault[]>();
  private readonly now: () => number;
  private counter = 0;

  readonly volumes: VolumesPort;
  readonly files: FilesPort;
  readonly capacity: CapacityPort;
  readonly exports: ExportsPort;
  readonly health: HealthPort;

  constructor(opts: FakeOptions = {}) {
    this.basePath = opts.basePath ?? 'storage-pool/k8s';
    this.quotaBytes = opts.quotaBytes ?? 2 ** 50;
    this.latencyMs = opts.latencyMs ?? 0;
    this.now = opts.now ?? (() => Date.now());
    this.volumes = {
      create: (s, o) => this.op('create', s.slot, o, () => this.create(s)),
      get: (slot, o) => this.op('get', slot, o, () => this.get(slot)),
      list: (p, o) => this.op('list', p, o, () => this.list(p)),
      resize: (slot, size, o) => this.op('resize', slot, o, () => this.resize(slot, size)),
      delete: (slot, path, o) => this.op('delete', slot, o, (f) => this.delete(slot, path, f)),
      copy: (s, o) => this.op('copy', s.slot, o, () => this.copy(s)),
    };
    this.files = {
      list: (dir, o) => this.op('files.list', dir, o, () => this.listFiles(dir)),
      remove: (path, o) => this.op('files.remove', path, o, () => this.removeFile(path)),
    };
    this.capacity = { pool: (o) => this.op('capacity', '', o, () => this.pool()) };
    this.exports = {
      setAllowedHosts: (slot, hosts, o) =>
        this.op('setAllowedHosts', slot, o, () => this.setAllowed(slot, hosts)),
    };
    const health: HealthPort = {
      info: (): Promise<DeviceInfo> => Promise.resolve({ version: '7.16', identity: 'fake-rds' }),
      ping: () => Promise.resolve(),
      connected: true,
      onReconnect: () => () => undefined,
    };
    this.health = health;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  inject(method: FakeMethod, fault: FakeFault): void {
    const list = this.faults.get(method) ?? [];
    list.push({ ...fault, times: fault.times ?? 1 });
    this.faults.set(method, list);
  }

  /** Write content into a volume's file (what a node would do through NVMe). */
  writeData(slot: string, content: string): void {
    const d = this.disks.get(slot);
    const f = d && this.fileTable.get(d.filePath);
    if (!f) throw new Error(`no file for ${slot}`);
    f.content = content;
  }

  dataOf(slot: string): string | undefined {
    const d = this.disks.get(slot);
    return d ? this.fileTable.get(d.filePath)?.content : undefined;
  }

  /** Put a file on the pool directly (a leftover of an interrupted operation). */
  putFile(path: string, size: number): void {
    this.fileTable.set(path, { size, content: '', lastModified: new Date(this.now()) });
  }

  /** Files no disk uses. */
  orphanFiles(): string[] {
    const used = new Set([...this.disks.values()].map((d) => d.filePath));
    return [...this.fileTable.keys()].filter((p) => !used.has(p)).sort();
  }

  private takeFault(method: FakeMethod, arg: string): FakeFault | undefined {
    const list = this.faults.get(method);
    const i = list?.findIndex((f) => (f.times ?? 0) > 0 && (!f.match || f.match.test(arg)));
    if (list === undefined || i === undefined || i < 0) return undefined;
    const f = list[i] as FakeFault;
    f.times = (f.times ?? 1) - 1;
    return f;
  }

  private async op<T>(
    method: FakeMethod,
    arg: string,
    o: CallOptions | undefined,
    body: (fault: FakeFault | undefined) => T,
  ): Promise<T> {
    this.calls.push({ method, arg });
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (o?.signal?.aborted) throw new CancelledError('cancelled');
    const fault = this.takeFault(method, arg);
    const error = fault?.error ?? new UnavailableError('connection to the RDS lost');
    if (fault?.when === 'before') throw error;
    const result = body(fault);
    if (fault?.when === 'after') throw error;
    if (fault?.when === 'partial' && (method === 'create' || method === 'copy')) {
      this.disks.delete(arg);
      throw error;
    }
    return result;
  }

  private get(slot: string): Disk | undefined {
    validateSlot(slot);
    const d = this.disks.get(slot);
    return d ? { ...d, allowedHosts: [...d.allowedHosts] } : undefined;
  }

  private list(prefix: string): Disk[] {
    validateSlotPrefix(prefix);
    return [...this.disks.values()].filter((d) => d.slot.startsWith(prefix)).map((d) => ({ ...d }));
  }

  private used(): number {
    let n = 0;
    for (const f of this.fileTable.values()) n += f.size;
    return n;
  }

  private checkSpace(extra: number): void {
    if (this.used() + extra > this.quotaBytes) {
      throw new ResourceExhaustedError('/disk add: not enough space on the RDS');
    }
  }

  private add(
    slot: string,
    filePath: string,
    size: number,
    exp: { nqn: string; port: number } | undefined,
    content: string,
    allowedHosts: readonly string[],
  ): Disk {
    const existing = this.disks.get(slot);
    if (existing) {
      const same =
        existing.filePath === filePath &&
        existing.sizeBytes >= size &&
        existing.nvmeExport === (exp !== undefined) &&
        (exp === undefined || (existing.nqn === exp.nqn && existing.port === exp.port));
      if (same) return { ...existing };
      throw new AlreadyExistsError(`disk ${slot} already exists with different properties`);
    }
    if (this.fileTable.has(filePath))
      throw new AlreadyExistsError('/disk add: item already exists');
    if (exp && [...this.disks.values()].some((d) => d.nvmeExport && d.nqn === exp.nqn)) {
      throw new InternalError('RouterOS command /disk add failed');
    }
    this.checkSpace(size);
    this.fileTable.set(filePath, { size, content, lastModified: new Date(this.now()) });
    const disk: Disk = {
      slot,
      filePath,
      sizeBytes: size,
      nvmeExport: exp !== undefined,
      ...(exp ? { nqn: exp.nqn, port: exp.port } : {}),
      allowedHosts: [...allowedHosts],
    };
    this.disks.set(slot, disk);
    return { ...disk };
  }

  private create(s: CreateDiskSpec): Disk {
    validateSlot(s.slot);
    const path = validatePoolPath(s.filePath, this.basePath, { img: true });
    validateSize(s.sizeBytes);
    validateSubsystemNqn(s.nqn);
    validatePort(s.port);
    this.counter += 1;
    return this.add(
      s.slot,
      path,
      s.sizeBytes,
      { nqn: s.nqn, port: s.port },
      `zero-${this.counter}`,
      s.allowedHosts ?? [],
    );
  }

  private copy(s: CopyDiskSpec): Disk {
    validateSlot(s.sourceSlot);
    validateSlot(s.slot);
    const path = validatePoolPath(s.filePath, this.basePath, { img: true });
    if (s.export) {
      validateSubsystemNqn(s.export.nqn);
      validatePort(s.export.port);
    }
    const src = this.disks.get(s.sourceSlot);
    if (!src) throw new NotFoundError(`source disk ${s.sourceSlot} does not exist`);
    const size = s.sizeBytes ?? src.sizeBytes;
    if (size < src.sizeBytes)
      throw new InvalidArgumentError('a copy cannot be smaller than its source');
    const content = this.fileTable.get(src.filePath)?.content ?? '';
    const exp = s.export === undefined ? undefined : { nqn: s.export.nqn, port: s.export.port };
    return this.add(s.slot, path, size, exp, content, s.export?.allowedHosts ?? []);
  }

  private resize(slot: string, size: number): Disk {
    validateSlot(slot);
    validateSize(size);
    const d = this.disks.get(slot);
    if (!d) throw new NotFoundError(`disk ${slot} does not exist`);
    if (d.sizeBytes >= size) return { ...d };
    const f = this.fileTable.get(d.filePath);
    this.checkSpace(size - d.sizeBytes);
    if (f) f.size = size;
    const after = { ...d, sizeBytes: size };
    this.disks.set(slot, after);
    return { ...after };
  }

  private delete(slot: string, filePath: string, fault: FakeFault | undefined): void {
    validateSlot(slot);
    const path = validatePoolPath(filePath, this.basePath, { img: true });
    this.disks.delete(slot);
    if (fault?.when === 'partial') throw fault.error ?? new UnavailableError('connection lost');
    if (![...this.disks.values()].some((d) => d.filePath === path)) this.fileTable.delete(path);
  }

  private listFiles(dir: string): FileEntry[] {
    const d = validatePoolDir(dir, this.basePath) + '/';
    return [...this.fileTable.entries()]
      .filter(([p]) => p.startsWith(d))
      .map(([path, f]) => ({ path, sizeBytes: f.size, lastModified: f.lastModified }));
  }

  private removeFile(path: string): void {
    const p = validatePoolPath(path, this.basePath);
    if ([...this.disks.values()].some((d) => d.filePath === p)) {
      throw new InternalError('RouterOS command /file remove failed');
    }
    this.fileTable.delete(p);
  }

  private pool(): PoolCapacity {
    return { totalBytes: this.quotaBytes, freeBytes: this.quotaBytes - this.used() };
  }

  private setAllowed(slot: string, hosts: readonly string[]): void {
    const d = this.disks.get(slot);
    if (!d) throw new NotFoundError(`disk ${slot} does not exist`);
    this.disks.set(slot, { ...d, allowedHosts: [...hosts] });
  }
}
