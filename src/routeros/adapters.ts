/**
 * The ports implemented over a CommandRunner. Each method validates its inputs through the
 * builders before anything is sent, and reads state back rather than trusting silence:
 * RouterOS `[find ...]` that matches nothing makes set/remove a silent no-op.
 */
import {
  AlreadyExistsError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  isDomainError,
} from '../domain/errors';
import type { Logger } from '../observability/logger';
import type { Command, CommandBuilders } from './commands';
import type { OutputForm } from './config';
import { parseDisks, parseFiles, parsePool, OutputParseError } from './parse';
import type {
  CallOptions,
  CapacityPort,
  CopyDiskSpec,
  CreateDiskSpec,
  Disk,
  ExportsPort,
  FileEntry,
  FilesPort,
  PoolCapacity,
  VolumesPort,
} from './ports';
import type { CommandRunner } from './runner';

/** Replies lost this way may hide a command that did run: read back before giving up. */
function isLostReply(err: unknown): boolean {
  return isDomainError(err) && (err.code === 'unavailable' || err.code === 'deadline-exceeded');
}

function parseOr<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof OutputParseError) {
      throw new InternalError(`unreadable output of ${what}`, {}, { cause: err });
    }
    throw err;
  }
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');

export class SshVolumes implements VolumesPort {
  constructor(
    private readonly run: CommandRunner,
    private readonly b: CommandBuilders,
    private readonly logger: Logger,
  ) {}

  async get(slot: string, o?: CallOptions): Promise<Disk | undefined> {
    const { output, form } = await this.run.query((f) => this.b.diskGet(slot, f), o);
    return parseOr('/disk print', () => parseDisks(output, form)).find((d) => d.slot === slot);
  }

  async list(slotPrefix: string, o?: CallOptions): Promise<Disk[]> {
    const { output, form } = await this.run.query((f) => this.b.diskList(slotPrefix, f), o);
    const disks = parseOr('/disk print', () => parseDisks(output, form));
    return disks.filter((d) => d.slot.startsWith(slotPrefix));
  }

  async create(spec: CreateDiskSpec, o?: CallOptions): Promise<Disk> {
    const cmd = this.b.diskAdd(spec);
    const path = this.b.imagePath(spec.filePath);
    const matches = (d: Disk): boolean =>
      d.filePath === path &&
      d.sizeBytes >= spec.sizeBytes &&
      d.nqn === spec.nqn &&
      d.port === spec.port;
    return this.addAndReadBack(cmd, spec.slot, spec.sizeBytes, matches, o);
  }

  async copy(spec: CopyDiskSpec, o?: CallOptions): Promise<Disk> {
    const cmd = this.b.diskCopy(spec);
    const source = await this.get(spec.sourceSlot, o);
    if (source === undefined) {
      throw new NotFoundError(`source disk ${spec.sourceSlot} does not exist`, {
        slot: spec.sourceSlot,
      });
    }
    const expected = spec.sizeBytes ?? source.sizeBytes;
    if (expected < source.sizeBytes) {
      throw new InvalidArgumentError('a copy cannot be smaller than its source', {
        slot: spec.slot,
      });
    }
    const path = this.b.imagePath(spec.filePath);
    const matches = (d: Disk): boolean =>
      d.filePath === path &&
      d.sizeBytes >= expected &&
      d.nvmeExport === (spec.export !== undefined) &&
      (spec.export === undefined || (d.nqn === spec.export.nqn && d.port === spec.export.port));
    return this.addAndReadBack(cmd, spec.slot, expected, matches, o);
  }

  /**
   * Run a `/disk add`, then read the disk back. A duplicate (already exists) or a lost
   * reply is resolved by reading back: an existing disk with the expected properties is
   * adopted (idempotent retry), a different one is AlreadyExistsError.
   */
  private async addAndReadBack(
    cmd: Command,
    slot: string,
    expectedSize: number,
    matches: (d: Disk) => boolean,
    o?: CallOptions,
  ): Promise<Disk> {
    let addError: Error | undefined;
    try {
      await this.run.run(cmd, o);
    } catch (err) {
      if (!isLostReply(err) && !(isDomainError(err) && err.code === 'already-exists')) throw err;
      addError = err as Error;
      this.logger.info('RouterOS disk add unconfirmed; reading back', {
        slot,
        reason: isDomainError(err) ? err.code : 'unknown',
      });
    }
    let disk: Disk | undefined;
    try {
      disk = await this.get(slot, o);
    } catch (err) {
      throw addError ?? err;
    }
    if (disk === undefined) {
      if (addError !== undefined) throw addError;
      throw new InternalError(`${cmd.name} reported success but the disk is missing`, { slot });
    }
    if (!matches(disk)) {
      if (addError !== undefined) {
        throw new AlreadyExistsError(`disk ${slot} already exists with different properties`, {
          slot,
        });
      }
      throw new InternalError(`${cmd.name} produced a disk with unexpected properties`, {
        slot,
        sizeBytes: disk.sizeBytes,
        expectedSizeBytes: expectedSize,
      });
    }
    return disk;
  }

  async resize(slot: string, sizeBytes: number, o?: CallOptions): Promise<Disk> {
    const cmd = this.b.diskResize(slot, sizeBytes);
    const current = await this.get(slot, o);
    if (current === undefined) throw new NotFoundError(`disk ${slot} does not exist`, { slot });
    if (current.sizeBytes >= sizeBytes) return current;
    await this.run.run(cmd, o);
    const after = await this.get(slot, o);
    if (after === undefined)
      throw new NotFoundError(`disk ${slot} vanished during resize`, { slot });
    if (after.sizeBytes < sizeBytes) {
      throw new InternalError('resize did not reach the requested size', {
        slot,
        sizeBytes: after.sizeBytes,
        expectedSizeBytes: sizeBytes,
      });
    }
    return after;
  }

  async delete(slot: string, filePath: string, o?: CallOptions): Promise<void> {
    const removeDisk = this.b.diskRemove(slot);
    // Only ever a disk image: validated as one although /file remove takes any pool file.
    const removeFile = this.b.fileRemove(this.b.imagePath(filePath));
    await this.run.run(removeDisk, o);
    await this.run.run(removeFile, o);
  }
}

export class SshFiles implements FilesPort {
  constructor(
    private readonly run: CommandRunner,
    private readonly b: CommandBuilders,
  ) {}

  async list(dirPath: string, o?: CallOptions): Promise<FileEntry[]> {
    const { output, form } = await this.run.query((f) => this.b.fileList(dirPath, f), o);
    const dir = dirPath.replace(/^\/+/, '').replace(/\/+$/, '') + '/';
    return parseOr('/file print', () => parseFiles(output, form)).filter((e) =>
      e.path.startsWith(dir),
    );
  }

  async remove(path: string, o?: CallOptions): Promise<void> {
    await this.run.run(this.b.fileRemove(path), o);
  }
}

export class SshCapacity implements CapacityPort {
  constructor(
    private readonly run: CommandRunner,
    private readonly b: CommandBuilders,
    private readonly mountPoint: string,
  ) {}

  async pool(o?: CallOptions): Promise<PoolCapacity> {
    const { output, form } = await this.run.query((f) => this.b.poolGet(this.mountPoint, f), o);
    const cap = parseOr('/disk print', () => parsePool(output, form));
    if (cap === undefined) {
      throw new InternalError(`no pool disk with a readable size is mounted at ${this.mountPoint}`);
    }
    return cap;
  }
}

export class SshExports implements ExportsPort {
  constructor(
    private readonly run: CommandRunner,
    private readonly b: CommandBuilders,
    private readonly volumes: VolumesPort,
  ) {}

  async setAllowedHosts(slot: string, hostNqns: readonly string[], o?: CallOptions): Promise<void> {
    const cmd = this.b.diskSetAllowedHosts(slot, hostNqns);
    const disk = await this.volumes.get(slot, o);
    if (disk === undefined) throw new NotFoundError(`disk ${slot} does not exist`, { slot });
    if (sameList(disk.allowedHosts, [...new Set(hostNqns)])) return;
    await this.run.run(cmd, o);
  }
}

export type { OutputForm };
